import Foundation

/// Managing keys that exist: listing and reading them, rotating a project key, and revoking
/// project and admin keys.
extension APIKeyService {
    // MARK: Project keys

    /// A page of a project's keys, for anyone who reads the project.
    public func projectKeys(
        project rawProject: String, membership: Membership, after: String?, limit: Int?
    )
        async throws -> Page<APIKey>
    {
        try membership.require(.read, in: rawProject)
        let project = try await existingProject(rawProject, in: membership.organization.id)
        return try await page(in: membership.organization.id, project: project.id, after: after, limit: limit)
    }

    /// One key of a project, for anyone who reads the project.
    public func projectKey(
        project rawProject: String, key rawKey: String, membership: Membership
    ) async throws
        -> APIKey
    {
        try membership.require(.read, in: rawProject)
        let project = try await existingProject(rawProject, in: membership.organization.id)
        guard let id = APIKeyID(rawKey), let key = try await keys.key(id, in: membership.organization.id),
            key.projectID == project.id
        else { throw Self.keyNotFound(rawKey) }
        return key
    }

    /// Revokes a project key at once: a project owner any key of the project, a member their own.
    public func deleteProjectKey(
        project rawProject: String, key rawKey: String, membership: Membership, user: User, actor: AuditActor
    )
        async throws -> APIKey
    {
        try membership.require(.changeOwnKeys, in: rawProject)
        let key = try await projectKey(project: rawProject, key: rawKey, membership: membership)
        try membership.requireChange(of: key, by: user.id)
        return try await revoke(key, actor: actor)
    }

    /// Replaces a key with a new one of the same settings, its expiry included (the same
    /// `expires_at`, so rotating never lengthens a key's life); the old one keeps working for
    /// `gracePeriod` seconds, or until it expires if that is sooner. With an idempotency key, a
    /// retry returns the same new key.
    public func rotate(
        project rawProject: String, key rawKey: String, gracePeriod: Int?, idempotencyKey: String?,
        membership: Membership, user: User, actor: AuditActor
    ) async throws -> IssuedAPIKey {
        try membership.require(.changeOwnKeys, in: rawProject)
        try emailConfirmation.check(user)
        let old = try await projectKey(project: rawProject, key: rawKey, membership: membership)
        try membership.requireChange(of: old, by: user.id)
        let grace = gracePeriod ?? 86_400
        guard (0...30 * 86_400).contains(grace) else {
            throw DomainError.invalidField("grace_period_seconds", "'grace_period_seconds' must be from 0 to 2592000.")
        }
        if let idempotencyKey {
            guard (1...255).contains(idempotencyKey.utf8.count),
                idempotencyKey.utf8.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E }),
                idempotencyKey.utf8.first != 0x20, idempotencyKey.utf8.last != 0x20
            else {
                throw DomainError.invalidField(
                    "Idempotency-Key",
                    "The Idempotency-Key header must be 1 to 255 printable ASCII characters, such as a UUID.")
            }
            if let earlier = try await keys.rotation(of: old.id, idempotencyKey: idempotencyKey) {
                return IssuedAPIKey(key: earlier, value: rotatedValue(of: old, idempotencyKey: idempotencyKey))
            }
        }
        let now = clock.now()
        guard old.isActive(at: now) else {
            throw DomainError(
                .conflict, code: .apiKeyNotActive, message: "Only an active key can be rotated.", param: "key_id")
        }
        // A replacement works at once, so it would undo the disabling.
        guard !old.isDisabled else {
            throw DomainError(
                .conflict, code: .apiKeyDisabled, message: "This key is disabled. Enable it before rotating it.",
                param: "key_id")
        }
        var request = try Request(name: old.name, permissions: old.permissions, expiresInSeconds: nil)
        request.allowedIPs = old.allowedIPs
        // Not `expiresInSeconds`: the replacement expires at the same moment, not as long after now.
        request.latestExpiry = old.expiresAt
        // The person who rotates a person's key holds the new value, so they own the new key:
        // it then stops when they lose access, not when the previous owner does.
        let owner: KeyOwner = if case .user = old.owner { .user(user.id) } else { old.owner }
        return try await issue(
            old.kind, organization: membership.organization, project: old.projectID, request: request,
            owner: owner, creator: user.id, actor: actor,
            rotation: (old, idempotencyKey, now.addingTimeInterval(TimeInterval(grace))))
    }

    // MARK: Admin keys

    /// A page of the organization's admin keys. Organization owners only.
    public func adminKeys(membership: Membership, after: String?, limit: Int?) async throws -> Page<APIKey> {
        try membership.require(.manageAdminKeys)
        return try await page(in: membership.organization.id, project: nil, after: after, limit: limit)
    }

    /// Revokes an admin key. Organization owners only.
    public func deleteAdminKey(_ rawKey: String, membership: Membership, actor: AuditActor) async throws -> APIKey {
        try membership.require(.manageAdminKeys)
        guard let id = APIKeyID(rawKey), let key = try await keys.key(id, in: membership.organization.id),
            key.kind == .admin
        else { throw Self.keyNotFound(rawKey) }
        return try await revoke(key, actor: actor)
    }

    // MARK: Shared steps

    /// Revokes a key at once, recording it unless it was revoked already.
    func revoke(_ key: APIKey, actor: AuditActor) async throws -> APIKey {
        guard let revoked = try await keys.revoke(key.id, in: key.organizationID, at: wholeMilliseconds(clock.now()))
        else { throw Self.keyNotFound(key.id.rawValue) }
        index.put(revoked)
        if key.revokedAt == nil {
            try await record(key.kind == .admin ? .adminAPIKeyDeleted : .apiKeyDeleted, revoked, actor: actor)
        }
        return revoked
    }

    /// A page of the organization's keys, of one project or (`nil`) its admin keys.
    private func page(
        in organization: OrganizationID, project: ProjectID?, after: String?, limit: Int?
    ) async throws
        -> Page<APIKey>
    {
        let limit = try PageLimit.validate(limit)
        var cursor: APIKeyID?
        if let after {
            guard let id = APIKeyID(after) else { throw DomainError.malformedCursor(expected: "a key id") }
            cursor = id
        }
        return try await keys.keys(in: organization, project: project, after: cursor, limit: limit)
    }
}
