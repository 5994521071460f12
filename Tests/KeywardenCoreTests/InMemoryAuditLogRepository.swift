import Foundation
import KeywardenCore

/// The append-only audit log in memory, as `SQLAuditLogRepository` keeps it.
struct InMemoryAuditLogRepository: AuditLogRepository {
    let database: InMemoryDatabase

    func append(_ event: AuditEvent) async throws {
        try await database.transaction { tables in
            try tables.require(!tables.auditEvents.contains { $0.id == event.id }, "audit_logs.id is unique")
            try tables.requireOrganization(event.organizationID)
            tables.auditEvents.append(event)
        }
    }

    func events(
        in organization: OrganizationID, types: [AuditEventType]?, after: AuditEventID?, limit: Int
    ) async throws -> Page<AuditEvent> {
        try await database.transaction { (tables) -> Page<AuditEvent> in
            // Newest first; the cursor is any event of the organization, whatever its type.
            let events = tables.auditEvents.filter { $0.organizationID == organization }
            let wanted = types ?? []
            return try InMemoryKeyset.page(
                of: wanted.isEmpty ? events : events.filter { wanted.contains($0.type) }, after: after?.rawValue,
                among: events, descending: true, limit: limit
            ) { ($0.effectiveAt, $0.id.rawValue) }
        }
    }
}
