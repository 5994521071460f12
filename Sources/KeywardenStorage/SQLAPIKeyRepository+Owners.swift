import Foundation
import KeywardenCore
import SQLKit

/// Revoking the keys of a person who loses access, inside the transaction that takes it away.
extension SQLAPIKeyRepository {
    /// Revokes the unrevoked keys of `organization` that `user` owns and that `filter` picks,
    /// stamps them for the index poller, announces them to other instances (on commit), and
    /// returns them as they now are.
    func revokeOwnedKeys(
        of user: UserID, in organization: OrganizationID, where filter: SQLQueryString, at date: Date,
        db: any SQLDatabase
    ) async throws -> [APIKey] {
        let owned: SQLQueryString = """
            organization_id = \(bind: organization.rawValue) AND owner_type = 'user' \
            AND owner_id = \(bind: user.rawValue)
            """
        let ids = try await db.raw(
            "SELECT id FROM api_keys WHERE \(owned) AND revoked_at IS NULL AND \(filter)"
        ).all().map { try $0.string("id") }
        guard !ids.isEmpty else { return [] }
        let binds: [any Encodable & Sendable] = ids
        let updatedAt = clock.now().unixMilliseconds
        try await db.raw(
            """
            UPDATE api_keys SET revoked_at = \(bind: date.unixMilliseconds), updated_at = \(bind: updatedAt)
            WHERE id IN (\(binds: binds)) AND revoked_at IS NULL
            """
        ).run()
        try await announce(ids.map(APIKeyID.init(unchecked:)), db: db)
        return try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM api_keys WHERE id IN (\(binds: binds))")
            .all().map { try $0.apiKey() }
    }
}
