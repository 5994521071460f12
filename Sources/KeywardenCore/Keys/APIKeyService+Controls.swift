import Foundation

/// Changing a key that exists without replacing it: its name, permissions and allowed IP
/// ranges, and disabling it for a while. Each change reaches this instance's index at once and
/// the others through the change feed, as a revocation does.
extension APIKeyService {
    /// What to change in a key; each `nil` leaves that setting as it is.
    public struct Change: Equatable, Sendable {
        public var name: String?
        /// `all`, `read_only` or `restricted`; without it, the key's own.
        public var permissions: String?
        /// The scopes of a restricted key; without them, a key that stays restricted keeps its own.
        public var scopes: [String]?
        /// The addresses or CIDR ranges the key accepts calls from; an empty list for any address.
        public var allowedIPs: [String]?

        /// Creates a change.
        public init(
            name: String? = nil, permissions: String? = nil, scopes: [String]? = nil, allowedIPs: [String]? = nil
        ) {
            self.name = name
            self.permissions = permissions
            self.scopes = scopes
            self.allowedIPs = allowedIPs
        }
    }

    /// A key's settings after a change, and the API names of those that differ from before.
    struct ChangedSettings {
        var name: String
        var permissions: KeyPermissions
        var allowedIPs: AllowedIPRanges
        /// Of `name`, `permissions`, `scopes`, `allowed_ips`, in that order.
        var changed: [String]
    }

    // MARK: Project keys

    /// Changes a project key's name, permissions or allowed IP ranges, by the rules of creation:
    /// a project owner any key of the project, a member the keys they own.
    public func updateProjectKey(
        project rawProject: String, key rawKey: String, change: Change, membership: Membership, user: User,
        actor: AuditActor
    ) async throws -> APIKey {
        try await update(
            try await changeableKey(project: rawProject, key: rawKey, membership: membership, user: user),
            change: change, actor: actor)
    }

    /// Disables a project key until it is enabled again; the gateway and `/v1/keys/verify`
    /// refuse it meanwhile. Disabling a disabled key changes nothing.
    public func disableProjectKey(
        project rawProject: String, key rawKey: String, membership: Membership, user: User, actor: AuditActor
    ) async throws -> APIKey {
        try await disable(
            try await changeableKey(project: rawProject, key: rawKey, membership: membership, user: user),
            actor: actor)
    }

    /// Enables a disabled project key again. A revoked or expired key stays as it is (409).
    public func enableProjectKey(
        project rawProject: String, key rawKey: String, membership: Membership, user: User, actor: AuditActor
    ) async throws -> APIKey {
        try await enable(
            try await changeableKey(project: rawProject, key: rawKey, membership: membership, user: user),
            actor: actor)
    }

    /// A key of the project that `user` may change.
    private func changeableKey(
        project rawProject: String, key rawKey: String, membership: Membership, user: User
    ) async throws -> APIKey {
        try membership.require(.changeOwnKeys, in: rawProject)
        let key = try await projectKey(project: rawProject, key: rawKey, membership: membership)
        try membership.requireChange(of: key, by: user.id)
        return key
    }

    // MARK: Shared steps

    /// Changes `key` as `change` asks, recording `api_key.updated` with the changed fields; a
    /// change that changes nothing is not written or recorded.
    func update(_ key: APIKey, change: Change, actor: AuditActor) async throws -> APIKey {
        try requireActive(key, toBe: "changed")
        try await requireOpenProject(of: key)
        let next = try settings(of: key, after: change)
        guard !next.changed.isEmpty else { return key }
        guard
            let updated = try await keys.update(
                key.id, in: key.organizationID, name: next.name, permissions: next.permissions,
                allowedIPs: next.allowedIPs)
        else { throw Self.keyNotFound(key.id.rawValue) }
        index.put(updated)
        // Revoked while this ran: storage kept it as it was.
        try requireActive(updated, toBe: "changed")
        try await record(
            .apiKeyUpdated, updated, actor: actor, extra: ["changed": next.changed.joined(separator: ",")])
        return updated
    }

    /// Disables `key` from now, recording `api_key.disabled` unless it was disabled already.
    func disable(_ key: APIKey, actor: AuditActor) async throws -> APIKey {
        try requireActive(key, toBe: "disabled")
        guard !key.isDisabled else { return key }
        let now = wholeMilliseconds(clock.now())
        guard let disabled = try await keys.disable(key.id, in: key.organizationID, at: now) else {
            throw Self.keyNotFound(key.id.rawValue)
        }
        index.put(disabled)
        // Another request may have disabled it a moment earlier; that one records it.
        if disabled.disabledAt == now { try await record(.apiKeyDisabled, disabled, actor: actor) }
        return disabled
    }

    /// Enables `key` again, recording `api_key.enabled` unless it was enabled already.
    func enable(_ key: APIKey, actor: AuditActor) async throws -> APIKey {
        try requireActive(key, toBe: "enabled")
        try await requireOpenProject(of: key)
        guard key.isDisabled else { return key }
        guard let enabled = try await keys.enable(key.id, in: key.organizationID) else {
            throw Self.keyNotFound(key.id.rawValue)
        }
        index.put(enabled)
        try requireActive(enabled, toBe: "enabled")
        if !enabled.isDisabled { try await record(.apiKeyEnabled, enabled, actor: actor) }
        return enabled
    }

    /// The settings `change` asks for, read as creation reads them, and which ones differ.
    func settings(of key: APIKey, after change: Change) throws -> ChangedSettings {
        let name = try change.name.map { try DisplayName.validate($0, field: "name") } ?? key.name
        let permissions: KeyPermissions
        if change.permissions == nil, change.scopes == nil {
            permissions = key.permissions
        } else {
            let permissionsName = change.permissions ?? key.permissions.name
            // A key that stays restricted keeps its scopes unless new ones are given.
            let kept = permissionsName == "restricted" ? key.permissions.scopes : []
            permissions = try KeyPermissions(
                name: permissionsName, scopes: change.scopes ?? (kept.isEmpty ? nil : kept))
        }
        if key.kind == .admin, permissions != .all {
            throw DomainError.invalidField("permissions", "An admin key always has all permissions.")
        }
        let allowedIPs = try change.allowedIPs.map { try AllowedIPRanges(parsing: $0) } ?? key.allowedIPs
        var changed: [String] = []
        if name != key.name { changed.append("name") }
        if permissions.name != key.permissions.name { changed.append("permissions") }
        if permissions.scopes != key.permissions.scopes { changed.append("scopes") }
        if allowedIPs != key.allowedIPs { changed.append("allowed_ips") }
        return ChangedSettings(name: name, permissions: permissions, allowedIPs: allowedIPs, changed: changed)
    }

    /// Refuses a key that is revoked or expired: it is gone for good and can no longer be
    /// `action` (changed, disabled, enabled).
    func requireActive(_ key: APIKey, toBe action: String) throws {
        let state: String
        if key.revokedAt != nil {
            state = "been revoked"
        } else if !key.isActive(at: clock.now()) {
            state = "expired"
        } else {
            return
        }
        throw DomainError(
            .conflict, code: .apiKeyNotActive,
            message: "This key has \(state), so it can no longer be \(action). Create a new key instead.",
            param: "key_id")
    }

    /// Refuses a key of an archived project: its keys can no longer change, except to stop.
    func requireOpenProject(of key: APIKey) async throws {
        guard let project = key.projectID else { return }
        _ = try await activeProject(project.rawValue, in: key.organizationID)
    }
}
