import Foundation
import KeywardenCore
import SQLKit

/// The append-only audit log in SQL. Nothing here updates or deletes a row.
public struct SQLAuditLogRepository: AuditLogRepository {
    let database: DatabaseClient

    /// Creates the repository over a database.
    public init(database: DatabaseClient) {
        self.database = database
    }

    public func append(_ event: AuditEvent) async throws {
        try await database.withConnection { db in try await Self.insert(event, on: db) }
    }

    /// Appends an event on `db`, so a change and its audit entry can share a transaction.
    static func insert(_ event: AuditEvent, on db: any SQLDatabase) async throws {
        let actor = try AuditColumns.text(event.actor)
        let details = try AuditColumns.text(event.details)
        try await db.raw(
            """
            INSERT INTO audit_logs (id, organization_id, type, effective_at, actor, details)
            VALUES (\(bind: event.id.rawValue), \(bind: event.organizationID.rawValue), \(bind: event.type.rawValue),
                    \(bind: event.effectiveAt.unixMilliseconds), \(bind: actor), \(bind: details))
            """
        ).run()
    }

    public func events(
        in organization: OrganizationID, types: [AuditEventType]?, from: Date?, until: Date?, after: AuditEventID?,
        limit: Int
    )
        async throws -> Page<AuditEvent>
    {
        try await database.withConnection { db in
            // Newest first; the cursor is the last event of the previous page.
            let keyset = try await Keyset.after(
                after?.rawValue, in: "audit_logs", organization: organization, timeColumn: "effective_at",
                descending: true, db: db)
            let typeFilter = (types ?? []).map(\.rawValue)
            // Bounds in the stored unit, Unix milliseconds (see `append`): `until` is exclusive, so
            // the millisecond before it is the last one kept. An absent bound is the widest one.
            let lowest: Int64 = from?.unixMilliseconds ?? Int64.min
            let highest: Int64 = until.map { max($0.unixMilliseconds, Int64.min + 1) - 1 } ?? Int64.max
            let rows = try await db.raw(
                """
                SELECT id, organization_id, type, effective_at, actor, details FROM audit_logs
                WHERE organization_id = \(bind: organization.rawValue)
                  AND (\(bind: typeFilter.isEmpty ? 1 : 0) = 1 OR type IN (\(binds: typeFilter.isEmpty ? [""] : typeFilter)))
                  AND effective_at BETWEEN \(bind: lowest) AND \(bind: highest)
                  AND \(keyset.condition)
                \(keyset.orderAndLimit(limit))
                """
            ).all()
            // A type this version does not know was written by a newer one sharing the
            // database: the event is left out of this version's answers, not the whole page.
            let events = try rows.map { row -> AuditEvent? in
                guard let type = AuditEventType(rawValue: try row.string("type")) else { return nil }
                return AuditEvent(
                    id: AuditEventID(unchecked: try row.string("id")),
                    organizationID: OrganizationID(unchecked: try row.string("organization_id")),
                    type: type,
                    effectiveAt: try row.date("effective_at"),
                    actor: try row.auditActor(), details: try row.auditDetails())
            }
            let page = Keyset.page(events, limit: limit)
            return Page(items: page.items.compactMap { $0 }, hasMore: page.hasMore)
        }
    }
}
