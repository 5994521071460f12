import Crypto
import Foundation

/// Creates, lists, rotates and revokes keys. Every path that creates a key goes through
/// ``issue(_:kind:organization:project:name:owner:permissions:expiresIn:actor:rotatedFrom:idempotency:)``,
/// which asks the ``KeyIssuancePolicy``.
public struct APIKeyService: Sendable {
    let keys: any APIKeyRepository
    let projects: any ProjectRepository
    let accounts: any AccountRepository
    let verifications: any PhoneVerificationRepository
    let audit: any AuditLogRepository
    /// The in-memory index the gateway and `/v1/keys/verify` read.
    public let index: APIKeyIndex
    let format: APIKeyFormat
    let policy: KeyIssuancePolicy
    let rotationKey: SymmetricKey
    let clock: Clock

    /// Creates the service.
    public init(
        keys: any APIKeyRepository, projects: any ProjectRepository, accounts: any AccountRepository,
        verifications: any PhoneVerificationRepository, audit: any AuditLogRepository, index: APIKeyIndex,
        policy: KeyIssuancePolicy, serverSecret: String, clock: Clock
    ) {
        self.keys = keys
        self.projects = projects
        self.accounts = accounts
        self.verifications = verifications
        self.audit = audit
        self.index = index
        self.format = index.format
        self.policy = policy
        self.rotationKey = SymmetricKey(
            data: HMAC<SHA256>.authenticationCode(
                for: Data("keywarden/keys/rotation".utf8), using: SymmetricKey(data: Data(serverSecret.utf8))))
        self.clock = clock
    }

    /// Loads every key into the index (at start).
    public func loadIndex() async throws {
        index.load(try await keys.allKeys())
    }

    /// Brings the index up to date with keys changed since `date` (by other instances or the
    /// command line), returning how many it applied.
    @discardableResult
    public func refreshIndex(changedSince date: Date) async throws -> Int {
        let changed = try await keys.keys(changedSince: date)
        for key in changed { index.put(key) }
        return changed.count
    }

    /// Reloads one key into the index (when another instance announces it changed).
    public func refreshKey(_ id: APIKeyID) async throws {
        if let key = try await keys.key(id) { index.put(key) }
    }

    /// Writes the noted key uses to storage (called every few seconds, never per request).
    public func flushUses() async throws {
        let uses = index.drainUses()
        guard !uses.isEmpty else { return }
        try await keys.recordUse(uses)
    }

    /// The settings of a key to create.
    public struct Request: Sendable {
        public var name: String
        public var permissions: KeyPermissions
        public var expiresIn: TimeInterval?

        /// Creates a request.
        public init(name: String?, permissions: KeyPermissions, expiresInSeconds: Int?) throws {
            self.name = try DisplayName.validate(name ?? "", field: "name")
            self.permissions = permissions
            if let expiresInSeconds {
                guard expiresInSeconds > 0, expiresInSeconds <= 10 * 365 * 86_400 else {
                    throw DomainError.invalidField(
                        "expires_in_seconds", "'expires_in_seconds' must be between 1 and 315360000.")
                }
                self.expiresIn = TimeInterval(expiresInSeconds)
            }
        }
    }

    // MARK: Project keys

    /// Creates a project key owned by the signed-in person. Owners only.
    public func createProjectKey(
        project rawProject: String, request: Request, membership: Membership, user: User, actor: AuditActor
    ) async throws -> IssuedAPIKey {
        try membership.requireOwner(to: "create API keys")
        let project = try await activeProject(rawProject, in: membership.organization.id)
        return try await issue(
            .project, organization: membership.organization, project: project.id, request: request,
            owner: .user(user.id), creator: user.id, actor: actor)
    }

    /// Creates a key in the project of an existing project or service-account key, as
    /// `POST /v1/api-keys` does.
    public func createWithKey(_ caller: APIKey, request: Request) async throws -> IssuedAPIKey {
        guard caller.kind != .admin, let projectID = caller.projectID else {
            throw DomainError(
                .forbidden, code: "insufficient_permissions",
                message: "Create project keys with a project or service-account key.")
        }
        guard caller.permissions == .all else {
            throw DomainError(
                .forbidden, code: "insufficient_permissions",
                message: "Only keys with all permissions can create keys.")
        }
        guard let organization = try await accounts.organization(id: caller.organizationID) else {
            throw DomainError.organizationNotFound
        }
        let project = try await activeProject(projectID.rawValue, in: organization.id)
        let creator: UserID? = if case .user(let user) = caller.owner { user } else { nil }
        return try await issue(
            caller.kind, organization: organization, project: project.id, request: request, owner: caller.owner,
            creator: creator, actor: AuditActor(type: "api_key", userID: caller.id.rawValue))
    }

    /// A page of a project's keys.
    public func projectKeys(
        project rawProject: String, membership: Membership, after: String?, limit: Int?
    )
        async throws -> Page<APIKey>
    {
        let project = try await existingProject(rawProject, in: membership.organization.id)
        return try await page(in: membership.organization.id, project: project.id, after: after, limit: limit)
    }

    /// One key of a project.
    public func projectKey(
        project rawProject: String, key rawKey: String, membership: Membership
    ) async throws
        -> APIKey
    {
        let project = try await existingProject(rawProject, in: membership.organization.id)
        guard let id = APIKeyID(rawKey), let key = try await keys.key(id, in: membership.organization.id),
            key.projectID == project.id
        else { throw Self.keyNotFound(rawKey) }
        return key
    }

    /// Revokes a project key at once. Owners only.
    public func deleteProjectKey(
        project rawProject: String, key rawKey: String, membership: Membership, actor: AuditActor
    )
        async throws -> APIKey
    {
        try membership.requireOwner(to: "delete API keys")
        let key = try await projectKey(project: rawProject, key: rawKey, membership: membership)
        return try await revoke(key, actor: actor)
    }

    /// Replaces a key with a new one of the same settings; the old one keeps working for
    /// `gracePeriod` seconds. With an idempotency key, a retry returns the same new key.
    public func rotate(
        project rawProject: String, key rawKey: String, gracePeriod: Int?, idempotencyKey: String?,
        membership: Membership, user: User, actor: AuditActor
    ) async throws -> IssuedAPIKey {
        try membership.requireOwner(to: "rotate API keys")
        let old = try await projectKey(project: rawProject, key: rawKey, membership: membership)
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
                .conflict, code: "api_key_not_active", message: "Only an active key can be rotated.", param: "key_id")
        }
        let request = try Request(name: old.name, permissions: old.permissions, expiresInSeconds: nil)
        return try await issue(
            old.kind, organization: membership.organization, project: old.projectID, request: request,
            owner: old.owner, creator: user.id, actor: actor,
            rotation: (old, idempotencyKey, now.addingTimeInterval(TimeInterval(grace))))
    }

    // MARK: Service accounts and admin keys

    /// Creates a service account in a project with its key. Owners only.
    public func createServiceAccount(
        project rawProject: String, name rawName: String, membership: Membership, user: User, actor: AuditActor
    ) async throws -> (ServiceAccount, IssuedAPIKey) {
        try membership.requireOwner(to: "create service accounts")
        let project = try await activeProject(rawProject, in: membership.organization.id)
        let name = try DisplayName.validateRequired(rawName, field: "name")
        let now = wholeMilliseconds(clock.now())
        try await authorize(membership.organization, creator: user.id, now: now)
        let account = ServiceAccount(
            id: .generate(), projectID: project.id, organizationID: membership.organization.id, name: name,
            createdAt: now)
        let value = format.generate(.serviceAccount)
        let key = record(
            value, kind: .serviceAccount, organization: membership.organization.id, project: project.id, name: name,
            owner: .serviceAccount(account.id), permissions: .all, createdAt: now, expiresAt: nil, rotatedFrom: nil)
        try await keys.createServiceAccount(account, key: key)
        index.put(key)
        try await record(
            "service_account.created", organization: account.organizationID, actor: actor,
            details: [
                "id": account.id.rawValue, "project_id": project.id.rawValue,
            ])
        try await record("api_key.created", key, actor: actor)
        return (account, IssuedAPIKey(key: key, value: value))
    }

    /// Creates an admin key for the organization. Owners only.
    public func createAdminKey(
        name: String?, membership: Membership, user: User, actor: AuditActor
    ) async throws
        -> IssuedAPIKey
    {
        try membership.requireOwner(to: "create admin keys")
        let request = try Request(name: name, permissions: .all, expiresInSeconds: nil)
        return try await issue(
            .admin, organization: membership.organization, project: nil, request: request, owner: .user(user.id),
            creator: user.id, actor: actor)
    }

    /// A page of the organization's admin keys. Owners only.
    public func adminKeys(membership: Membership, after: String?, limit: Int?) async throws -> Page<APIKey> {
        try membership.requireOwner(to: "list admin keys")
        return try await page(in: membership.organization.id, project: nil, after: after, limit: limit)
    }

    /// Revokes an admin key. Owners only.
    public func deleteAdminKey(_ rawKey: String, membership: Membership, actor: AuditActor) async throws -> APIKey {
        try membership.requireOwner(to: "delete admin keys")
        guard let id = APIKeyID(rawKey), let key = try await keys.key(id, in: membership.organization.id),
            key.kind == .admin
        else { throw Self.keyNotFound(rawKey) }
        return try await revoke(key, actor: actor)
    }

    // MARK: Operator

    /// The project and organization of a project id, for the command line.
    public func operatorProject(_ raw: String) async throws -> (Project, Organization) {
        guard let id = ProjectID(raw), let project = try await projects.project(id),
            let organization = try await accounts.organization(id: project.organizationID)
        else { throw DomainError.projectNotFound(raw) }
        return (project, organization)
    }

    /// Creates a project key from the command line; the organization's first owner owns it.
    /// The issuance policy applies as on every other path.
    public func createByOperator(project raw: String, request: Request) async throws -> IssuedAPIKey {
        let (project, organization) = try await operatorProject(raw)
        guard !project.isArchived else { throw DomainError.projectNotFound(raw) }
        guard let owner = try await accounts.members(of: organization.id).first(where: { $0.role == .owner }) else {
            throw DomainError.organizationNotFound
        }
        return try await issue(
            .project, organization: organization, project: project.id, request: request, owner: .user(owner.user.id),
            creator: owner.user.id, actor: .operator)
    }

    /// A project's keys, for the command line.
    public func keysByOperator(project raw: String) async throws -> [APIKey] {
        let (project, organization) = try await operatorProject(raw)
        var all: [APIKey] = []
        var after: APIKeyID?
        repeat {
            let page = try await keys.keys(in: organization.id, project: project.id, after: after, limit: 100)
            all += page.items
            after = page.hasMore ? page.items.last?.id : nil
        } while after != nil
        return all
    }

    /// Revokes any key from the command line.
    public func revokeByOperator(_ raw: String) async throws -> APIKey {
        guard let id = APIKeyID(raw), let key = try await keys.key(id) else { throw Self.keyNotFound(raw) }
        return try await revoke(key, actor: .operator)
    }

    // MARK: Import

    /// A key from an earlier system: its value or SHA-256, and when it was made.
    public struct ImportedKey: Sendable {
        public var name: String
        public var value: String?
        public var sha256: String?
        public var createdAt: Date

        /// Creates an imported key.
        public init(name: String, value: String?, sha256: String?, createdAt: Date) {
            self.name = name
            self.value = value
            self.sha256 = sha256
            self.createdAt = createdAt
        }
    }

    /// Imports keys into a project, keeping their dates; those made before the enforcement date
    /// are legacy and need no verification. Imports after it follow the policy like any new key.
    public func importKeys(_ imported: [ImportedKey], project rawProject: String) async throws -> [APIKey] {
        let (project, organizationRecord) = try await operatorProject(rawProject)
        let organization = organizationRecord.id
        guard !project.isArchived else { throw DomainError.projectNotFound(rawProject) }
        var created: [APIKey] = []
        for entry in imported {
            let digest: String
            var redacted = "sk-..."
            if let value = entry.value {
                guard format.read(value) != .malformed else {
                    throw DomainError.invalidField("key", "Imported keys must look like \(format.stem)-...")
                }
                digest = APIKeyIndex.digest(value)
                redacted = format.redacted(value)
            } else if let hash = entry.sha256?.lowercased(), hash.count == 64, hash.allSatisfy(\.isHexDigit) {
                digest = hash
            } else {
                throw DomainError.invalidField("sha256", "Each imported key needs a key or a 64-character SHA-256.")
            }
            let createdAt = wholeMilliseconds(entry.createdAt)
            if !policy.isLegacy(createdAt: createdAt) {
                try await authorize(organizationRecord, creator: nil, now: createdAt)
            }
            let key = APIKey(
                id: .generate(), kind: .project, organizationID: organization, projectID: project.id, name: entry.name,
                owner: .serviceAccount(ServiceAccountID(unchecked: "svc_imported")), permissions: .all, digest: digest,
                redactedValue: redacted, createdAt: createdAt, legacy: policy.isLegacy(createdAt: createdAt))
            try await keys.create(key)
            index.put(key)
            try await record("api_key.created", key, actor: .operator, extra: ["imported": "true"])
            created.append(key)
        }
        return created
    }

    // MARK: The one creation path

    private func issue(
        _ kind: APIKeyFormat.Kind, organization: Organization, project: ProjectID?, request: Request, owner: KeyOwner,
        creator: UserID?, actor: AuditActor, rotation: (old: APIKey, idempotencyKey: String?, oldExpiresAt: Date)? = nil
    ) async throws -> IssuedAPIKey {
        let now = wholeMilliseconds(clock.now())
        try await authorize(organization, creator: creator, now: now)
        let value =
            if let rotation, let idempotencyKey = rotation.idempotencyKey {
                rotatedValue(of: rotation.old, idempotencyKey: idempotencyKey)
            } else {
                format.generate(kind)
            }
        let key = record(
            value, kind: kind, organization: organization.id, project: project, name: request.name, owner: owner,
            permissions: request.permissions, createdAt: now,
            expiresAt: request.expiresIn.map { now.addingTimeInterval($0) },
            rotatedFrom: rotation?.old.id)
        if let rotation {
            try await keys.rotate(
                rotation.old.id, to: key, idempotencyKey: rotation.idempotencyKey, oldExpiresAt: rotation.oldExpiresAt)
            if let updated = try await keys.key(rotation.old.id, in: organization.id) { index.put(updated) }
            index.put(key)
            try await record(
                kind == .admin ? "admin_api_key.rotated" : "api_key.rotated", key, actor: actor,
                extra: ["rotated_from": rotation.old.id.rawValue])
        } else {
            try await keys.create(key)
            index.put(key)
            try await record(kind == .admin ? "admin_api_key.created" : "api_key.created", key, actor: actor)
        }
        return IssuedAPIKey(key: key, value: value)
    }

    private func authorize(_ organization: Organization, creator: UserID?, now: Date) async throws {
        try await policy.authorize(
            organization: organization,
            userHasVerified: try await creator.asyncMap { try await verifications.userHasApprovedVerification($0) }
                ?? false,
            now: now)
    }

    private func record(
        _ value: String, kind: APIKeyFormat.Kind, organization: OrganizationID, project: ProjectID?, name: String,
        owner: KeyOwner, permissions: KeyPermissions, createdAt: Date, expiresAt: Date?, rotatedFrom: APIKeyID?
    ) -> APIKey {
        APIKey(
            id: .generate(), kind: kind, organizationID: organization, projectID: project, name: name, owner: owner,
            permissions: permissions, digest: APIKeyIndex.digest(value), redactedValue: format.redacted(value),
            createdAt: createdAt, expiresAt: expiresAt, legacy: policy.isLegacy(createdAt: createdAt),
            rotatedFrom: rotatedFrom)
    }

    /// The replacement of `old` under an idempotency key, derived from the server secret so a
    /// retry can return it without the value ever being stored.
    private func rotatedValue(of old: APIKey, idempotencyKey: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("\(old.id.rawValue):\(idempotencyKey)".utf8), using: rotationKey)
        let characters = mac.prefix(APIKeyFormat.randomLength).map { SecureRandom.base62[Int($0) % 62] }
        let body = "\(format.stem)-\(old.kind.rawValue)-" + String(decoding: characters, as: UTF8.self)
        return body + APIKeyFormat.checksum(of: body)
    }

    private func revoke(_ key: APIKey, actor: AuditActor) async throws -> APIKey {
        guard let revoked = try await keys.revoke(key.id, in: key.organizationID, at: wholeMilliseconds(clock.now()))
        else { throw Self.keyNotFound(key.id.rawValue) }
        index.put(revoked)
        if key.revokedAt == nil {
            try await record(key.kind == .admin ? "admin_api_key.deleted" : "api_key.deleted", revoked, actor: actor)
        }
        return revoked
    }

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

    private func existingProject(_ raw: String, in organization: OrganizationID) async throws -> Project {
        guard let id = ProjectID(raw), let project = try await projects.project(id, in: organization) else {
            throw DomainError.projectNotFound(raw)
        }
        return project
    }

    private func activeProject(_ raw: String, in organization: OrganizationID) async throws -> Project {
        let project = try await existingProject(raw, in: organization)
        guard !project.isArchived else {
            throw DomainError(
                .conflict, code: "project_archived",
                message: "Project '\(project.id)' is archived; its keys can no longer change.", param: "project_id")
        }
        return project
    }

    private func record(_ type: String, _ key: APIKey, actor: AuditActor, extra: [String: String] = [:]) async throws {
        var details = ["id": key.id.rawValue, "name": key.name, "redacted_value": key.redactedValue]
        if let project = key.projectID { details["project_id"] = project.rawValue }
        details.merge(extra) { $1 }
        try await record(type, organization: key.organizationID, actor: actor, details: details)
    }

    private func record(
        _ type: String, organization: OrganizationID, actor: AuditActor, details: [String: String]
    )
        async throws
    {
        try await audit.append(
            AuditEvent(
                organizationID: organization, type: type, effectiveAt: clock.now(), actor: actor, details: details))
    }

    static func keyNotFound(_ id: String) -> DomainError {
        DomainError(
            .notFound, code: "api_key_not_found", message: "No API key with id '\(id)' exists here.", param: "key_id")
    }
}

extension Optional {
    /// `map` for an async transform.
    public func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
