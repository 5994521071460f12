import Foundation

/// Stores API keys (by digest only) and service accounts.
public protocol APIKeyRepository: Sendable {
    /// Stores a new key.
    func create(_ key: APIKey) async throws

    /// The key with this id in this organization.
    func key(_ id: APIKeyID, in organization: OrganizationID) async throws -> APIKey?

    /// Keys of a project (project and service-account keys), or the organization's admin keys
    /// when `project` is `nil`; oldest first, after the key `after`.
    func keys(
        in organization: OrganizationID, project: ProjectID?, after: APIKeyID?, limit: Int
    ) async throws
        -> Page<APIKey>

    /// Revokes an unrevoked key; returns the key as it now is, or `nil` when there is none.
    func revoke(_ id: APIKeyID, in organization: OrganizationID, at now: Date) async throws -> APIKey?

    /// Changes the name, permissions and allowed IP ranges of an unrevoked key, stamping it for
    /// the index of every instance; returns the key as it now is (unchanged if it was revoked),
    /// or `nil` when there is none.
    func update(
        _ id: APIKeyID, in organization: OrganizationID, name: String, permissions: KeyPermissions,
        allowedIPs: AllowedIPRanges
    ) async throws -> APIKey?

    /// Disables an unrevoked key that is enabled, from `now` (a disabled key keeps its first
    /// date); returns the key as it now is, or `nil` when there is none.
    func disable(_ id: APIKeyID, in organization: OrganizationID, at now: Date) async throws -> APIKey?

    /// Enables an unrevoked key that is disabled; returns the key as it now is, or `nil` when
    /// there is none.
    func enable(_ id: APIKeyID, in organization: OrganizationID) async throws -> APIKey?

    /// The key made by rotating `id` under an idempotency key, if such a rotation happened.
    func rotation(of id: APIKeyID, idempotencyKey: String) async throws -> APIKey?

    /// In one transaction: stores the replacement and makes the old key expire at `oldExpiresAt`
    /// (or sooner, if it already expired sooner).
    func rotate(_ old: APIKeyID, to replacement: APIKey, idempotencyKey: String?, oldExpiresAt: Date) async throws

    /// Every key, for the in-memory index.
    func allKeys() async throws -> [APIKey]

    /// The key with this id, in any organization (operator tools).
    func key(_ id: APIKeyID) async throws -> APIKey?

    /// The key whose value has this SHA-256 (lowercase hex), in any organization, as storage has
    /// it now: a key made on another instance before this one's index heard of it is found too.
    func key(digest: String) async throws -> APIKey?

    /// Keys created or changed (revoked, expiry moved, settings changed, disabled or enabled) at
    /// or after `date`, by any instance or tool:
    /// how each instance's index catches up.
    func keys(changedSince date: Date) async throws -> [APIKey]

    /// Records when keys were last used.
    func recordUse(_ uses: [APIKeyID: Date]) async throws

    /// Stores a service account and its first key together.
    func createServiceAccount(_ account: ServiceAccount, key: APIKey) async throws
}
