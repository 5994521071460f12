import Crypto
import Foundation

/// Creating keys: the ways an owner or a key asks for one, and the one path they take (the
/// ``KeyIssuancePolicy`` check, generating the value, storing the key, putting it in the index,
/// recording it in the audit log). The command line and the import ask the same policy.
extension APIKeyService {
    // MARK: Project keys

    /// Creates a project key owned by the signed-in person: project members and owners.
    public func createProjectKey(
        project rawProject: String, request: Request, membership: Membership, user: User, actor: AuditActor
    ) async throws -> IssuedAPIKey {
        try membership.require(.createKeys, in: rawProject)
        try emailConfirmation.check(user)
        let project = try await activeProject(rawProject, in: membership.organization.id)
        return try await issue(
            .project, organization: membership.organization, project: project.id, request: request,
            owner: .user(user.id), creator: user.id, actor: actor)
    }

    /// Creates a key in the project of an existing project or service-account key, as
    /// `POST /v1/api-keys` does. The caller passes on its limits: one limited to IP ranges
    /// makes keys limited to ranges within its own (its own ranges when the request names
    /// none), and one that expires makes keys that expire no later (when it does, unless the
    /// request asks for sooner).
    public func createWithKey(_ caller: APIKey, request: Request) async throws -> IssuedAPIKey {
        var request = request
        // A later `expires_in_seconds` is refused once the new key's creation time is known.
        request.latestExpiry = caller.expiresAt
        if !caller.allowedIPs.allowsAnyAddress {
            if request.allowedIPs.allowsAnyAddress { request.allowedIPs = caller.allowedIPs }
            guard request.allowedIPs.isWithin(caller.allowedIPs) else {
                throw DomainError(
                    .forbidden, code: .insufficientPermissions,
                    message: "A key limited to IP ranges can create keys only for ranges within its own.",
                    param: "allowed_ips")
            }
        }
        guard caller.kind != .admin, let projectID = caller.projectID else {
            throw DomainError(
                .forbidden, code: .insufficientPermissions,
                message: "Create project keys with a project or service-account key.")
        }
        guard caller.permissions == .all else {
            throw DomainError(
                .forbidden, code: .insufficientPermissions,
                message: "Only keys with all permissions can create keys.")
        }
        guard let organization = try await accounts.organization(id: caller.organizationID) else {
            throw DomainError.organizationNotFound
        }
        let project = try await activeProject(projectID.rawValue, in: organization.id)
        let creator: UserID? = if case .user(let user) = caller.owner { user } else { nil }
        if let creator {
            // A person's key makes keys only while its owner's role in the project allows them to.
            guard
                let membership = try await accounts.memberships(of: creator).first(where: {
                    $0.organization.id == organization.id
                }), membership.allows(.createKeys, in: project.id)
            else {
                throw DomainError(
                    .forbidden, code: .insufficientPermissions,
                    message: "The owner of this key may no longer create keys in its project.")
            }
        }
        return try await issue(
            caller.kind, organization: organization, project: project.id, request: request, owner: caller.owner,
            creator: creator, actor: AuditActor(type: "api_key", userID: caller.id.rawValue))
    }

    // MARK: Service accounts and admin keys

    /// Creates a service account in a project with its key, which has all permissions and may
    /// expire after `expiresInSeconds` or accept calls only from `allowedIPs`. Project owners only.
    public func createServiceAccount(
        project rawProject: String, name rawName: String, expiresInSeconds: Int? = nil, allowedIPs: [String]? = nil,
        membership: Membership, user: User, actor: AuditActor
    ) async throws -> (ServiceAccount, IssuedAPIKey) {
        try membership.require(.manage, in: rawProject)
        try emailConfirmation.check(user)
        let project = try await activeProject(rawProject, in: membership.organization.id)
        let name = try DisplayName.validateRequired(rawName, field: "name")
        let settings = try Request(
            name: name, permissions: .all, expiresInSeconds: expiresInSeconds, allowedIPs: allowedIPs)
        let now = wholeMilliseconds(clock.now())
        try await authorize(membership.organization, creator: user.id, now: now)
        let account = ServiceAccount(
            id: .generate(), projectID: project.id, organizationID: membership.organization.id, name: name,
            createdAt: now)
        let value = format.generate(.serviceAccount)
        let key = record(
            value, kind: .serviceAccount, organization: membership.organization.id, project: project.id, name: name,
            owner: .serviceAccount(account.id), permissions: .all, createdAt: now,
            expiresAt: settings.expiresIn.map { now.addingTimeInterval($0) }, allowedIPs: settings.allowedIPs,
            rotatedFrom: nil)
        try await keys.createServiceAccount(account, key: key)
        index.put(key)
        try await record(
            .serviceAccountCreated, organization: account.organizationID, actor: actor,
            details: [
                "id": account.id.rawValue, "project_id": project.id.rawValue,
            ])
        try await record(.apiKeyCreated, key, actor: actor)
        return (account, IssuedAPIKey(key: key, value: value))
    }

    /// Creates an admin key for the organization. Organization owners only.
    public func createAdminKey(
        name: String?, membership: Membership, user: User, actor: AuditActor
    ) async throws
        -> IssuedAPIKey
    {
        try membership.require(.manageAdminKeys)
        return try await createAdminKey(
            request: try Request(name: name, permissions: .all, expiresInSeconds: nil), membership: membership,
            user: user, actor: actor)
    }

    /// Creates an admin key with the name, expiry and allowed IP ranges of `request`; an admin
    /// key always has all permissions. Organization owners only.
    public func createAdminKey(
        request: Request, membership: Membership, user: User, actor: AuditActor
    ) async throws
        -> IssuedAPIKey
    {
        try membership.require(.manageAdminKeys)
        try emailConfirmation.check(user)
        var request = request
        request.permissions = .all
        return try await issue(
            .admin, organization: membership.organization, project: nil, request: request, owner: .user(user.id),
            creator: user.id, actor: actor)
    }

    // MARK: The one creation path

    /// Creates a key once the policy allows it: a new value (or, for a rotation under an idempotency
    /// key, the derived one), stored (replacing `rotation.old`), indexed and audited.
    func issue(
        _ kind: APIKeyFormat.Kind, organization: Organization, project: ProjectID?, request: Request, owner: KeyOwner,
        creator: UserID?, actor: AuditActor, rotation: (old: APIKey, idempotencyKey: String?, oldExpiresAt: Date)? = nil
    ) async throws -> IssuedAPIKey {
        let now = wholeMilliseconds(clock.now())
        let expiresAt = try request.expiresAt(madeAt: now)
        try await authorize(organization, creator: creator, now: now)
        let value =
            if let rotation, let idempotencyKey = rotation.idempotencyKey {
                rotatedValue(of: rotation.old, idempotencyKey: idempotencyKey)
            } else {
                format.generate(kind)
            }
        let key = record(
            value, kind: kind, organization: organization.id, project: project, name: request.name, owner: owner,
            permissions: request.permissions, createdAt: now, expiresAt: expiresAt, allowedIPs: request.allowedIPs,
            rotatedFrom: rotation?.old.id)
        if let rotation {
            try await keys.rotate(
                rotation.old.id, to: key, idempotencyKey: rotation.idempotencyKey, oldExpiresAt: rotation.oldExpiresAt)
            if let updated = try await keys.key(rotation.old.id, in: organization.id) { index.put(updated) }
            index.put(key)
            try await record(
                kind == .admin ? .adminAPIKeyRotated : .apiKeyRotated, key, actor: actor,
                extra: ["rotated_from": rotation.old.id.rawValue])
        } else {
            try await keys.create(key)
            index.put(key)
            try await record(kind == .admin ? .adminAPIKeyCreated : .apiKeyCreated, key, actor: actor)
        }
        try await revokeIfOwnerLostAccess(key, at: now)
        return IssuedAPIKey(key: key, value: value)
    }

    /// Taking access away revokes the person's keys in the same transaction; a key stored while
    /// that transaction ran is caught here, once stored: if its owner no longer reaches its
    /// project (or, for an admin key, no longer owns the organization), it is revoked at once
    /// and the request refused, so no key outlives its owner's access.
    private func revokeIfOwnerLostAccess(_ key: APIKey, at now: Date) async throws {
        guard case .user(let person) = key.owner else { return }
        let membership = try await accounts.memberships(of: person).first { $0.organization.id == key.organizationID }
        let reaches =
            if let project = key.projectID { membership?.role(in: project) != nil } else { membership?.role == .owner }
        guard !reaches else { return }
        if let revoked = try await keys.revoke(key.id, in: key.organizationID, at: now) { index.put(revoked) }
        throw DomainError(
            .forbidden, code: .insufficientPermissions,
            message: "The key's owner no longer has access to its project, so the key was revoked.")
    }

    /// Refuses a suspended organization, then asks the policy whether it may create a key at
    /// `now`, telling it whether `creator` (when there is one) has approved a phone verification.
    func authorize(_ organization: Organization, creator: UserID?, now: Date) async throws {
        // A suspended organization makes no keys, whenever its others were made.
        if let suspension = organization.suspension {
            throw DomainError.organizationSuspended(reason: suspension.reason)
        }
        try await policy.authorize(
            organization: organization,
            userHasVerified: try await creator.asyncMap { try await verifications.userHasApprovedVerification($0) }
                ?? false,
            now: now)
    }

    /// The stored form of a new key: its digest and redacted value, never the value itself.
    private func record(
        _ value: String, kind: APIKeyFormat.Kind, organization: OrganizationID, project: ProjectID?, name: String,
        owner: KeyOwner, permissions: KeyPermissions, createdAt: Date, expiresAt: Date?, allowedIPs: AllowedIPRanges,
        rotatedFrom: APIKeyID?
    ) -> APIKey {
        APIKey(
            id: .generate(), kind: kind, organizationID: organization, projectID: project, name: name, owner: owner,
            permissions: permissions, digest: APIKeyIndex.digest(value), redactedValue: format.redacted(value),
            createdAt: createdAt, expiresAt: expiresAt, legacy: policy.isLegacy(createdAt: createdAt),
            rotatedFrom: rotatedFrom, allowedIPs: allowedIPs)
    }

    /// The replacement of `old` under an idempotency key, derived from the server secret so a
    /// retry can return it without the value ever being stored.
    func rotatedValue(of old: APIKey, idempotencyKey: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("\(old.id.rawValue):\(idempotencyKey)".utf8), using: rotationKey)
        let characters = mac.prefix(APIKeyFormat.randomLength).map { SecureRandom.base62[Int($0) % 62] }
        let body = "\(format.stem)-\(old.kind.rawValue)-" + String(decoding: characters, as: UTF8.self)
        return body + APIKeyFormat.checksum(of: body)
    }
}
