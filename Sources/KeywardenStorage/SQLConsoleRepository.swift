import Foundation
import KeywardenCore
import SQLKit

/// What the operator console reads and changes across organizations, in SQL.
public struct SQLConsoleRepository: ConsoleRepository {
    let database: DatabaseClient

    /// Creates the repository over a database.
    public init(database: DatabaseClient) {
        self.database = database
    }

    // MARK: Operators

    public func isOperator(_ user: UserID) async throws -> Bool {
        try await database.withConnection { db in
            try await db.raw("SELECT user_id FROM operators WHERE user_id = \(bind: user.rawValue)").first() != nil
        }
    }

    public func grantOperator(_ user: UserID, at now: Date) async throws -> Bool {
        try await database.withConnection { db in
            try await db.raw(
                """
                INSERT INTO operators (user_id, granted_at) VALUES (\(bind: user.rawValue), \(bind: now.unixMilliseconds))
                ON CONFLICT (user_id) DO NOTHING
                RETURNING user_id
                """
            ).first() != nil
        }
    }

    public func revokeOperator(_ user: UserID) async throws -> Bool {
        try await database.withConnection { db in
            try await db.raw("DELETE FROM operators WHERE user_id = \(bind: user.rawValue) RETURNING user_id").first()
                != nil
        }
    }

    public func operators() async throws -> [User] {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT u.id, u.email, u.name, u.created_at, u.email_confirmed_at
                FROM operators op JOIN users u ON u.id = op.user_id
                ORDER BY u.email, u.id
                """
            ).all().map { try $0.user() }
        }
    }

    // MARK: Organizations

    public func searchOrganizations(
        _ query: String, phoneDigest: String?, after: OrganizationID?, limit: Int
    ) async throws -> [OrganizationSummary] {
        let everything = query.isEmpty
        let contains = Self.likePattern(containing: query.lowercased())
        // Only the last two digits of a verified number are kept in the clear (`+1 ••• ••• ••42`),
        // so digits match the end of the masked number.
        let lastDigits = !query.isEmpty && query.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
        let endsWith = lastDigits ? "%" + query : ""
        return try await database.withConnection { db in
            // Newest first; the cursor is the last organization of the page before.
            var position: (time: Int64, id: String)?
            if let after {
                guard
                    let row = try await db.raw(
                        "SELECT created_at, id FROM organizations WHERE id = \(bind: after.rawValue)"
                    ).first()
                else { throw DomainError.unknownCursor }
                position = (try row.decode(column: "created_at", as: Int64.self), try row.string("id"))
            }
            let keyset = Keyset(timeColumn: "created_at", descending: true, position: position)
            return try await db.raw(
                """
                SELECT \(unsafeRaw: SQLAccountRepository.organizationColumns),
                    (SELECT COUNT(*) FROM organization_members c WHERE c.organization_id = o.id) AS member_count
                FROM organizations o
                WHERE (\(bind: everything ? 1 : 0) = 1
                   OR o.id = \(bind: query)
                   OR LOWER(o.name) LIKE \(bind: contains) ESCAPE '!'
                   OR EXISTS (
                       SELECT 1 FROM organization_members m JOIN users u ON u.id = m.user_id
                       WHERE m.organization_id = o.id AND LOWER(u.email) LIKE \(bind: contains) ESCAPE '!')
                   OR (\(bind: lastDigits ? 1 : 0) = 1 AND o.phone_masked LIKE \(bind: endsWith))
                   OR (\(bind: phoneDigest == nil ? 0 : 1) = 1 AND o.phone_digest = \(bind: phoneDigest ?? "")))
                  AND \(keyset.condition)
                ORDER BY o.created_at DESC, o.id DESC
                LIMIT \(literal: max(limit, 1))
                """
            ).all().map { row -> OrganizationSummary in
                let organization = try row.organization()
                return OrganizationSummary(
                    organization: organization,
                    memberCount: Int(try row.decode(column: "member_count", as: Int64.self)),
                    suspension: organization.suspension)
            }
        }
    }

    /// A LIKE pattern (with `ESCAPE '!'`) that finds `text` anywhere, its `%` and `_` taken as
    /// themselves.
    static func likePattern(containing text: String) -> String {
        var pattern = "%"
        for character in text {
            if character == "%" || character == "_" || character == "!" { pattern.append("!") }
            pattern.append(character)
        }
        return pattern + "%"
    }

    public func suspension(of organization: OrganizationID) async throws -> Suspension? {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT suspended_at, suspension_reason FROM organizations
                WHERE id = \(bind: organization.rawValue)
                """
            ).first()?.suspension()
        }
    }

    public func suspend(
        _ organization: OrganizationID, reason: String, at now: Date, recording events: [AuditEvent]
    ) async throws -> Bool {
        try await database.withTransaction { db in
            guard
                try await db.raw(
                    """
                    UPDATE organizations SET suspended_at = \(bind: now.unixMilliseconds), suspension_reason = \(bind: reason)
                    WHERE id = \(bind: organization.rawValue) AND suspended_at IS NULL
                    RETURNING id
                    """
                ).first() != nil
            else { return false }
            for event in events { try await SQLAuditLogRepository.insert(event, on: db) }
            return true
        }
    }

    public func unsuspend(_ organization: OrganizationID, recording events: [AuditEvent]) async throws -> Bool {
        try await database.withTransaction { db in
            guard
                try await db.raw(
                    """
                    UPDATE organizations SET suspended_at = NULL, suspension_reason = NULL
                    WHERE id = \(bind: organization.rawValue) AND suspended_at IS NOT NULL
                    RETURNING id
                    """
                ).first() != nil
            else { return false }
            for event in events { try await SQLAuditLogRepository.insert(event, on: db) }
            return true
        }
    }

    public func suspendedOrganizations() async throws -> [OrganizationID: String] {
        try await database.withConnection { db in
            var reasons: [OrganizationID: String] = [:]
            for row in try await db.raw(
                "SELECT id, suspension_reason FROM organizations WHERE suspended_at IS NOT NULL"
            ).all() {
                let id = OrganizationID(unchecked: try row.string("id"))
                reasons[id] = try row.decode(column: "suspension_reason", as: String?.self) ?? ""
            }
            return reasons
        }
    }

    public func keys(of organization: OrganizationID, limit: Int) async throws -> [APIKey] {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT \(unsafeRaw: SQLAPIKeyRepository.columns) FROM api_keys
                WHERE organization_id = \(bind: organization.rawValue)
                ORDER BY created_at DESC, id DESC
                LIMIT \(literal: max(limit, 1))
                """
            ).all().map { try $0.apiKey() }
        }
    }

    public func organizationsSharingNumber(with organization: OrganizationID) async throws -> Int {
        try await database.withConnection { db in
            // An organization without a number has a NULL digest, which equals nothing.
            let row = try await db.raw(
                """
                SELECT COUNT(*) AS organizations
                FROM organizations mine JOIN organizations other ON other.phone_digest = mine.phone_digest
                WHERE mine.id = \(bind: organization.rawValue) AND other.id <> mine.id
                """
            ).first()
            return Int(try row?.decode(column: "organizations", as: Int64.self) ?? 0)
        }
    }

    public func organizationsSharingCard(with organization: OrganizationID) async throws -> Int {
        try await database.withConnection { db in
            // Removed cards count too, as they do toward the limit on organizations per card.
            let row = try await db.raw(
                """
                SELECT COUNT(DISTINCT other.organization_id) AS organizations
                FROM payment_methods mine JOIN payment_methods other ON other.fingerprint_digest = mine.fingerprint_digest
                WHERE mine.organization_id = \(bind: organization.rawValue)
                  AND other.organization_id <> mine.organization_id
                """
            ).first()
            return Int(try row?.decode(column: "organizations", as: Int64.self) ?? 0)
        }
    }
}
