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
        in organization: OrganizationID, types: [AuditEventType]?, from: Date?, until: Date?, after: AuditEventID?,
        limit: Int
    ) async throws -> Page<AuditEvent> {
        try await database.transaction { (tables) -> Page<AuditEvent> in
            // Newest first; the cursor is any event of the organization, whatever its type or time.
            let events = tables.auditEvents.filter { $0.organizationID == organization }
            let wanted = types ?? []
            let kept = events.filter { event -> Bool in
                let typeKept = wanted.isEmpty || wanted.contains(event.type)
                let fromKept = from.map { event.effectiveAt >= $0 } ?? true
                let untilKept = until.map { event.effectiveAt < $0 } ?? true
                return typeKept && fromKept && untilKept
            }
            return try InMemoryKeyset.page(
                of: kept, after: after?.rawValue, among: events, descending: true, limit: limit
            ) { ($0.effectiveAt, $0.id.rawValue) }
        }
    }
}
