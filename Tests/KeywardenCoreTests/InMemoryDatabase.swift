import Foundation
import KeywardenCore

/// Storage's tables held in memory behind one actor, so that each repository call runs as one
/// uninterrupted step, as a SQL statement or transaction does.
///
/// The tables keep the rules the schema enforces (unique ids, emails, key digests and rotation
/// idempotency keys; a row that names an organization, user or project names one that exists),
/// and the repositories over them keep the SQL repositories' semantics. Dates are kept exactly
/// as given where storage keeps whole milliseconds; the tests' clocks tick in whole seconds.
actor InMemoryDatabase {
    /// A write the schema would refuse.
    struct ConstraintViolation: Error, CustomStringConvertible {
        /// The rule the write broke, such as `users.email is unique`.
        var rule: String

        var description: String { "constraint violated: \(rule)" }
    }

    /// A user and the password hash stored beside them.
    struct UserRow: Sendable {
        var user: User
        var passwordHash: String
    }

    /// An organization with the verified number's digest and country, which storage keeps beside
    /// it and never shows.
    struct OrganizationRow: Sendable {
        var organization: Organization
        var phoneDigest: String?
        var phoneCountry: String?
    }

    /// A person's role in an organization.
    struct MemberRow: Sendable {
        var organizationID: OrganizationID
        var userID: UserID
        var role: OrganizationRole
        var addedAt: Date
    }

    /// A person's role in a project.
    struct ProjectMemberRow: Sendable {
        var projectID: ProjectID
        var userID: UserID
        var role: ProjectRole
        var addedAt: Date
    }

    /// An invite and the digest of its token.
    struct InviteRow: Sendable {
        var invite: Invite
        var tokenDigest: String
    }

    /// A key with the columns storage keeps beside it.
    struct KeyRow: Sendable {
        var key: APIKey
        /// The idempotency key of the rotation that made the key, if any.
        var idempotencyKey: String?
        /// When the row last changed, by the wall clock as in storage: what `keys(changedSince:)` reads.
        var updatedAt: Date
    }

    /// One fixed-window counter.
    struct CounterRow: Sendable {
        var bucket: String
        var windowStart: Date
        var count: Int
        var expiresAt: Date
    }

    /// A session and the digest of its token, which storage keys it by.
    struct SessionRow: Sendable {
        var session: Session
        var tokenDigest: String
    }

    /// Every table, each in insertion order.
    struct Tables: Sendable {
        var users: [UserRow] = []
        var organizations: [OrganizationRow] = []
        var members: [MemberRow] = []
        var projectMembers: [ProjectMemberRow] = []
        var invites: [InviteRow] = []
        var projects: [Project] = []
        var serviceAccounts: [ServiceAccount] = []
        var keys: [KeyRow] = []
        var verifications: [PhoneVerification] = []
        var auditEvents: [AuditEvent] = []
        var counters: [CounterRow] = []
        var sessions: [SessionRow] = []
        var accountTokens: [StoredAccountToken] = []
        var totpCredentials: [UserID: TOTPCredential] = [:]
        var recoveryCodes: [RecoveryCodeRow] = []
    }

    /// A recovery code's digest, whose it is and whether it was used.
    struct RecoveryCodeRow: Sendable {
        var userID: UserID
        var digest: String
        var usedAt: Date?
    }

    private var tables = Tables()

    /// Runs `body` on the tables with nothing in between, as a transaction: when it throws, none
    /// of its writes remain.
    func transaction<Value: Sendable>(_ body: @Sendable (inout Tables) throws -> Value) rethrows -> Value {
        var draft = tables
        let value = try body(&draft)
        tables = draft
        return value
    }

    // MARK: What operators and other services write, for tests to arrange

    /// Adds a person to an organization with a role, as joining one does.
    func addMember(_ user: UserID, to organization: OrganizationID, role: OrganizationRole, at date: Date) throws {
        try transaction { tables in
            try tables.requireUser(user)
            try tables.requireOrganization(organization)
            try tables.require(
                !tables.members.contains { $0.organizationID == organization && $0.userID == user },
                "organization_members (organization_id, user_id) is unique")
            tables.members.append(MemberRow(organizationID: organization, userID: user, role: role, addedAt: date))
        }
    }

    /// Adds a person to a project with a role, as an owner of the project does.
    func addProjectMember(_ user: UserID, to project: ProjectID, role: ProjectRole, at date: Date) throws {
        try transaction { tables in
            try tables.requireUser(user)
            try tables.requireProject(project)
            try tables.require(
                !tables.projectMembers.contains { $0.projectID == project && $0.userID == user },
                "project_members (project_id, user_id) is unique")
            tables.projectMembers.append(ProjectMemberRow(projectID: project, userID: user, role: role, addedAt: date))
        }
    }

    /// Sets an organization's standing directly, as an operator does in the database: exemptions
    /// have no other way in.
    func setVerification(_ verification: OrganizationVerification, of organization: OrganizationID) throws {
        try transaction { tables in
            guard let index = tables.organizations.firstIndex(where: { $0.organization.id == organization }) else {
                throw ConstraintViolation(rule: "organization \(organization) exists")
            }
            tables.organizations[index].organization.verification = verification
        }
    }

    // MARK: What tests read back

    /// The organization's phone verifications, oldest first.
    func verifications(in organization: OrganizationID) -> [PhoneVerification] {
        tables.verifications.filter { $0.organizationID == organization }
    }

    /// Every stored key, oldest first.
    func storedKeys() -> [APIKey] {
        tables.keys.map(\.key)
    }

    /// Every audit event of the organization, in the order they were written.
    func auditEvents(in organization: OrganizationID) -> [AuditEvent] {
        tables.auditEvents.filter { $0.organizationID == organization }
    }
}

extension InMemoryDatabase.Tables {
    /// Refuses a write that breaks `rule`.
    func require(_ holds: Bool, _ rule: String) throws {
        guard holds else { throw InMemoryDatabase.ConstraintViolation(rule: rule) }
    }

    /// Refuses a row that names an organization that does not exist.
    func requireOrganization(_ id: OrganizationID) throws {
        try require(organizations.contains { $0.organization.id == id }, "organization \(id) exists")
    }

    /// Refuses a row that names a user who does not exist.
    func requireUser(_ id: UserID) throws {
        try require(users.contains { $0.user.id == id }, "user \(id) exists")
    }

    /// Refuses a row that names a project that does not exist.
    func requireProject(_ id: ProjectID) throws {
        try require(projects.contains { $0.id == id }, "project \(id) exists")
    }

    /// The organization as storage reads it, verification included.
    func organization(_ id: OrganizationID) -> Organization? {
        organizations.first { $0.organization.id == id }?.organization
    }

    /// The person's roles in the organization's projects.
    func projectRoles(of user: UserID, in organization: OrganizationID) -> [ProjectID: ProjectRole] {
        let inOrganization = Set(projects.filter { $0.organizationID == organization }.map(\.id))
        return Dictionary(
            projectMembers.filter { $0.userID == user && inOrganization.contains($0.projectID) }.map {
                ($0.projectID, $0.role)
            }, uniquingKeysWith: { first, _ in first })
    }

    /// Revokes, now, the unrevoked keys of the organization that `user` owns and that `matching` picks;
    /// returns them as they now are.
    mutating func revokeKeys(
        ownedBy user: UserID, in organization: OrganizationID, at date: Date, where matching: (APIKey) -> Bool
    ) -> [APIKey] {
        var revoked: [APIKey] = []
        for index in keys.indices {
            let key = keys[index].key
            guard key.organizationID == organization, key.owner == .user(user), key.revokedAt == nil, matching(key)
            else { continue }
            keys[index].key.revokedAt = date
            keys[index].updatedAt = Date()
            revoked.append(keys[index].key)
        }
        return revoked
    }

    /// Stores a new project.
    mutating func insert(_ project: Project) throws {
        try require(!projects.contains { $0.id == project.id }, "projects.id is unique")
        try requireOrganization(project.organizationID)
        projects.append(project)
    }

    /// Stores a new key, with the idempotency key of the rotation that made it.
    mutating func insert(_ key: APIKey, idempotencyKey: String?) throws {
        try require(!keys.contains { $0.key.id == key.id }, "api_keys.id is unique")
        try require(!keys.contains { $0.key.digest == key.digest }, "api_keys.digest is unique")
        if let rotatedFrom = key.rotatedFrom, let idempotencyKey {
            // Like SQL's unique index, it binds only rows where both columns are set.
            try require(
                !keys.contains { $0.key.rotatedFrom == rotatedFrom && $0.idempotencyKey == idempotencyKey },
                "api_keys (rotated_from, rotation_idempotency_key) is unique")
        }
        try requireOrganization(key.organizationID)
        if let project = key.projectID { try requireProject(project) }
        keys.append(InMemoryDatabase.KeyRow(key: key, idempotencyKey: idempotencyKey, updatedAt: Date()))
    }

    /// How many organizations other than `organization` the number with this digest verifies.
    func organizationsVerified(withPhoneDigest digest: String, excluding organization: OrganizationID) -> Int {
        organizations.filter { $0.phoneDigest == digest && $0.organization.id != organization }.count
    }

    /// The position of the verification `id` while it is pending.
    func pendingVerificationIndex(_ id: PhoneVerificationID) -> Int? {
        verifications.firstIndex { $0.id == id && $0.status == .pending }
    }

    /// Moves the verification at `index` out of pending, erasing the number and the sealed code.
    mutating func end(verificationAt index: Int, as status: PhoneVerification.Status) {
        verifications[index].status = status
        verifications[index].sealedPhoneNumber = nil
        verifications[index].sealedCode = nil
    }
}

/// Storage's keyset pagination over rows in memory: rows ordered by time and then id, a page
/// starting after the cursor row, and whether more follow.
enum InMemoryKeyset {
    /// A page of `rows` after the row named `cursor`, which must be one of `candidates` (the
    /// rows a list's own filter passes, before an optional one such as event types; `rows`
    /// when `nil`): a cursor that names none is `unknown_cursor`, as in storage.
    static func page<Row: Sendable>(
        of rows: [Row], after cursor: String?, among candidates: [Row]? = nil, descending: Bool = false,
        limit: Int, position: (Row) -> (Date, String)
    ) throws -> Page<Row> {
        let start: (Date, String)?
        if let cursor {
            guard let row = (candidates ?? rows).first(where: { position($0).1 == cursor }) else {
                throw DomainError.unknownCursor
            }
            start = position(row)
        } else {
            start = nil
        }
        let ordered = rows.sorted { descending ? position($0) > position($1) : position($0) < position($1) }
        let following = ordered.filter { row in
            guard let start else { return true }
            return descending ? position(row) < start : position(row) > start
        }
        return Page(items: Array(following.prefix(limit)), hasMore: following.count > limit)
    }
}
