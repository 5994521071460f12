import Foundation
import KeywardenCore
import SQLKit

/// The console's audit log: every organization's events and the console's own, in one list.
extension SQLConsoleRepository {
    public func appendConsoleEvent(
        type: String, actor: AuditActor, details: [String: String], at now: Date
    ) async throws {
        let id = AuditEventID.generate()
        let actorText = try AuditColumns.text(actor)
        let detailsText = try AuditColumns.text(details)
        try await database.withConnection { db in
            try await db.raw(
                """
                INSERT INTO console_events (id, type, effective_at, actor, details)
                VALUES (\(bind: id.rawValue), \(bind: type), \(bind: now.unixMilliseconds), \(bind: actorText),
                        \(bind: detailsText))
                """
            ).run()
        }
    }

    public func auditEvents(
        organization: OrganizationID?, types: [String]?, after: AuditEventID?, limit: Int
    ) async throws -> Page<ConsoleAuditEvent> {
        let limit = max(limit, 1)
        let typeFilter = types ?? []
        return try await database.withConnection { db in
            let events = Self.auditSource(of: organization)
            // Newest first; the cursor may be any listed event, whatever its type.
            var position: (time: Int64, id: String)?
            if let after {
                guard
                    let row = try await db.raw(
                        "SELECT effective_at, id FROM \(events) WHERE id = \(bind: after.rawValue)"
                    ).first()
                else { throw DomainError.unknownCursor }
                position = (time: try row.decode(column: "effective_at", as: Int64.self), id: try row.string("id"))
            }
            let keyset = Keyset(timeColumn: "effective_at", descending: true, position: position)
            let rows = try await db.raw(
                """
                SELECT id, organization_id, type, effective_at, actor, details FROM \(events)
                WHERE (\(bind: typeFilter.isEmpty ? 1 : 0) = 1 OR type IN (\(binds: typeFilter.isEmpty ? [""] : typeFilter)))
                  AND \(keyset.condition)
                \(keyset.orderAndLimit(limit))
                """
            ).all()
            let items = try rows.map { row -> ConsoleAuditEvent in
                ConsoleAuditEvent(
                    id: AuditEventID(unchecked: try row.string("id")),
                    organizationID: try row.decode(column: "organization_id", as: String?.self).map(
                        OrganizationID.init(unchecked:)),
                    type: try row.string("type"), effectiveAt: try row.date("effective_at"),
                    actor: try row.auditActor(), details: try row.auditDetails())
            }
            return Keyset.page(items, limit: limit)
        }
    }

    /// The events listed, as a table to select from: the organization's own when one is given,
    /// else every organization's and the console's (whose `organization_id` is NULL).
    static func auditSource(of organization: OrganizationID?) -> SQLQueryString {
        let only = organization?.rawValue ?? ""
        return """
            (SELECT id, organization_id, type, effective_at, actor, details FROM audit_logs
             WHERE \(bind: only) = '' OR organization_id = \(bind: only)
             UNION ALL
             SELECT id, NULL AS organization_id, type, effective_at, actor, details FROM console_events
             WHERE \(bind: only) = '') AS events
            """
    }
}
