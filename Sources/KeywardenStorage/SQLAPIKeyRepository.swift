import Foundation
import KeywardenCore
import SQLKit

/// API keys in SQL: digests and redacted forms, never values.
public struct SQLAPIKeyRepository: APIKeyRepository {
    let database: DatabaseClient
    /// Stamps `updated_at`, which the key index polls.
    let clock: Clock

    /// Creates the repository over a database.
    public init(database: DatabaseClient, clock: Clock = .live) {
        self.database = database
        self.clock = clock
    }

    static let columns = """
        id, kind, organization_id, project_id, name, owner_type, owner_id, permissions, digest, redacted_value, \
        created_at, last_used_at, expires_at, revoked_at, legacy, rotated_from, disabled_at, allowed_ips
        """

    func insert(_ key: APIKey, idempotencyKey: String?, db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO api_keys (\(unsafeRaw: Self.columns), rotation_idempotency_key, updated_at)
            VALUES (\(bind: key.id.rawValue), \(bind: key.kind.rawValue), \(bind: key.organizationID.rawValue),
                    \(bind: key.projectID?.rawValue), \(bind: key.name), \(bind: key.owner.type), \(bind: key.owner.id),
                    \(bind: key.permissions.stored), \(bind: key.digest), \(bind: key.redactedValue),
                    \(bind: key.createdAt.unixMilliseconds), \(bind: key.lastUsedAt?.unixMilliseconds),
                    \(bind: key.expiresAt?.unixMilliseconds), \(bind: key.revokedAt?.unixMilliseconds),
                    \(bind: key.legacy ? 1 : 0), \(bind: key.rotatedFrom?.rawValue),
                    \(bind: key.disabledAt?.unixMilliseconds), \(bind: key.allowedIPs.stored),
                    \(bind: idempotencyKey), \(bind: clock.now().unixMilliseconds))
            """
        ).run()
    }

    public func create(_ key: APIKey) async throws {
        try await database.withConnection { db in
            try await insert(key, idempotencyKey: nil, db: db)
            try await announce([key.id], db: db)
        }
    }

    /// The channel on which PostgreSQL tells every instance which keys changed (the payload is
    /// a key id), so revocations reach their indexes in milliseconds.
    public static let changeChannel = "keywarden_api_keys"

    /// Announces changed keys; inside a transaction the notice goes out when it commits.
    func announce(_ ids: [APIKeyID], db: any SQLDatabase) async throws {
        guard database.backend == .postgres else { return }
        for id in ids {
            try await db.raw("SELECT pg_notify(\(bind: Self.changeChannel), \(bind: id.rawValue))").run()
        }
    }

    public func key(_ id: APIKeyID, in organization: OrganizationID) async throws -> APIKey? {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT \(unsafeRaw: Self.columns) FROM api_keys
                WHERE id = \(bind: id.rawValue) AND organization_id = \(bind: organization.rawValue)
                """
            ).first()?.apiKey()
        }
    }

    public func keys(
        in organization: OrganizationID, project: ProjectID?, after: APIKeyID?, limit: Int
    ) async throws
        -> Page<APIKey>
    {
        try await database.withConnection { db in
            // Admin keys when no project is given, else the project's keys.
            let admin = project == nil ? 1 : 0
            let list: SQLQueryString = """
                ((\(bind: admin) = 1 AND kind = 'admin') OR (\(bind: admin) = 0 AND project_id = \(bind: project?.rawValue ?? "")))
                """
            let keyset = try await Keyset.after(
                after?.rawValue, in: "api_keys", organization: organization, timeColumn: "created_at", within: list,
                db: db)
            let rows = try await db.raw(
                """
                SELECT \(unsafeRaw: Self.columns) FROM api_keys
                WHERE organization_id = \(bind: organization.rawValue)
                  AND \(list)
                  AND \(keyset.condition)
                \(keyset.orderAndLimit(limit))
                """
            ).all()
            return Keyset.page(try rows.map { try $0.apiKey() }, limit: limit)
        }
    }

    public func revoke(_ id: APIKeyID, in organization: OrganizationID, at now: Date) async throws -> APIKey? {
        try await database.withConnection { db in
            let updatedAt = clock.now().unixMilliseconds
            try await db.raw(
                """
                UPDATE api_keys SET revoked_at = \(bind: now.unixMilliseconds), updated_at = \(bind: updatedAt)
                WHERE id = \(bind: id.rawValue) AND organization_id = \(bind: organization.rawValue) AND revoked_at IS NULL
                """
            ).run()
            try await announce([id], db: db)
            return try await db.raw(
                """
                SELECT \(unsafeRaw: Self.columns) FROM api_keys
                WHERE id = \(bind: id.rawValue) AND organization_id = \(bind: organization.rawValue)
                """
            ).first()?.apiKey()
        }
    }

    public func update(
        _ id: APIKeyID, in organization: OrganizationID, name: String, permissions: KeyPermissions,
        allowedIPs: AllowedIPRanges
    ) async throws -> APIKey? {
        try await change(
            id, in: organization,
            set: """
                name = \(bind: name), permissions = \(bind: permissions.stored), \
                allowed_ips = \(bind: allowedIPs.stored)
                """,
            when: "revoked_at IS NULL")
    }

    public func disable(_ id: APIKeyID, in organization: OrganizationID, at now: Date) async throws -> APIKey? {
        try await change(
            id, in: organization, set: "disabled_at = \(bind: now.unixMilliseconds)",
            when: "revoked_at IS NULL AND disabled_at IS NULL")
    }

    public func enable(_ id: APIKeyID, in organization: OrganizationID) async throws -> APIKey? {
        try await change(
            id, in: organization, set: "disabled_at = NULL", when: "revoked_at IS NULL AND disabled_at IS NOT NULL")
    }

    /// Sets `assignments` on the key while `condition` holds, stamps it for the index poller,
    /// announces it to other instances, and returns it as it now is.
    func change(
        _ id: APIKeyID, in organization: OrganizationID, set assignments: SQLQueryString,
        when condition: SQLQueryString
    ) async throws -> APIKey? {
        try await database.withConnection { db in
            let updatedAt = clock.now().unixMilliseconds
            try await db.raw(
                """
                UPDATE api_keys SET \(assignments), updated_at = \(bind: updatedAt)
                WHERE id = \(bind: id.rawValue) AND organization_id = \(bind: organization.rawValue)
                  AND \(condition)
                """
            ).run()
            try await announce([id], db: db)
            return try await db.raw(
                """
                SELECT \(unsafeRaw: Self.columns) FROM api_keys
                WHERE id = \(bind: id.rawValue) AND organization_id = \(bind: organization.rawValue)
                """
            ).first()?.apiKey()
        }
    }

    public func rotation(of id: APIKeyID, idempotencyKey: String) async throws -> APIKey? {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT \(unsafeRaw: Self.columns) FROM api_keys
                WHERE rotated_from = \(bind: id.rawValue) AND rotation_idempotency_key = \(bind: idempotencyKey)
                """
            ).first()?.apiKey()
        }
    }

    public func rotate(
        _ old: APIKeyID, to replacement: APIKey, idempotencyKey: String?, oldExpiresAt: Date
    )
        async throws
    {
        try await database.withTransaction { db in
            try await insert(replacement, idempotencyKey: idempotencyKey, db: db)
            let updatedAt = clock.now().unixMilliseconds
            try await db.raw(
                """
                UPDATE api_keys
                SET expires_at = \(bind: oldExpiresAt.unixMilliseconds), updated_at = \(bind: updatedAt)
                WHERE id = \(bind: old.rawValue) AND (expires_at IS NULL OR expires_at > \(bind: oldExpiresAt.unixMilliseconds))
                """
            ).run()
            try await announce([replacement.id, old], db: db)
        }
    }

    public func key(_ id: APIKeyID) async throws -> APIKey? {
        try await database.withConnection { db in
            try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM api_keys WHERE id = \(bind: id.rawValue)").first()?
                .apiKey()
        }
    }

    public func key(digest: String) async throws -> APIKey? {
        try await database.withConnection { db in
            // `digest` is unique: one indexed read.
            try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM api_keys WHERE digest = \(bind: digest)").first()?
                .apiKey()
        }
    }

    public func keys(changedSince date: Date) async throws -> [APIKey] {
        try await database.withConnection { db in
            try await db.raw(
                "SELECT \(unsafeRaw: Self.columns) FROM api_keys WHERE updated_at >= \(bind: date.unixMilliseconds)"
            ).all().map { try $0.apiKey() }
        }
    }

    public func allKeys() async throws -> [APIKey] {
        try await database.withConnection { db in
            try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM api_keys").all().map { try $0.apiKey() }
        }
    }

    public func recordUse(_ uses: [APIKeyID: Date]) async throws {
        try await database.withConnection { db in
            for (id, date) in uses {
                try await db.raw(
                    """
                    UPDATE api_keys SET last_used_at = \(bind: date.unixMilliseconds)
                    WHERE id = \(bind: id.rawValue) AND (last_used_at IS NULL OR last_used_at < \(bind: date.unixMilliseconds))
                    """
                ).run()
            }
        }
    }

    public func createServiceAccount(_ account: ServiceAccount, key: APIKey) async throws {
        try await database.withTransaction { db in
            try await db.raw(
                """
                INSERT INTO service_accounts (id, organization_id, project_id, name, created_at)
                VALUES (\(bind: account.id.rawValue), \(bind: account.organizationID.rawValue),
                        \(bind: account.projectID.rawValue), \(bind: account.name), \(bind: account.createdAt.unixMilliseconds))
                """
            ).run()
            try await insert(key, idempotencyKey: nil, db: db)
            try await announce([key.id], db: db)
        }
    }
}

extension SQLRow {
    func apiKey() throws -> APIKey {
        let rawKind = try string("kind")
        let rawPermissions = try string("permissions")
        guard let kind = APIKeyFormat.Kind(rawValue: rawKind), let permissions = KeyPermissions(stored: rawPermissions)
        else { throw StorageError.corruptRow("api key kind '\(rawKind)' or permissions '\(rawPermissions)'") }
        let rawAllowedIPs = try string("allowed_ips")
        guard let allowedIPs = AllowedIPRanges(stored: rawAllowedIPs) else {
            throw StorageError.corruptRow("api key allowed IP ranges '\(rawAllowedIPs)'")
        }
        let ownerID = try string("owner_id")
        let owner: KeyOwner =
            try string("owner_type") == "user"
            ? .user(UserID(unchecked: ownerID)) : .serviceAccount(ServiceAccountID(unchecked: ownerID))
        return APIKey(
            id: APIKeyID(unchecked: try string("id")), kind: kind,
            organizationID: OrganizationID(unchecked: try string("organization_id")),
            projectID: try decode(column: "project_id", as: String?.self).map(ProjectID.init(unchecked:)),
            name: try string("name"), owner: owner, permissions: permissions, digest: try string("digest"),
            redactedValue: try string("redacted_value"), createdAt: try date("created_at"),
            lastUsedAt: try optionalDate("last_used_at"), expiresAt: try optionalDate("expires_at"),
            revokedAt: try optionalDate("revoked_at"), legacy: try flag("legacy"),
            rotatedFrom: try decode(column: "rotated_from", as: String?.self).map(APIKeyID.init(unchecked:)),
            disabledAt: try optionalDate("disabled_at"), allowedIPs: allowedIPs)
    }
}
