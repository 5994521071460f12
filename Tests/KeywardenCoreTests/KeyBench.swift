import Foundation
import KeywardenCore
import Testing

/// The key service over in-memory storage, with its clock at a chosen instant.
struct KeyBench {
    /// The default enforcement date, 2024-11-05T00:00:00Z.
    static let enforcement = KeyIssuancePolicy.defaultEnforcementDate
    /// A day after it.
    static let afterEnforcement = enforcement.addingTimeInterval(86_400)
    /// When the imported legacy key was made: a hundred days before it.
    static let legacyDate = enforcement.addingTimeInterval(-100 * 86_400)
    /// The imported legacy key, in a format from before Keywarden.
    static let legacyValue = "sk-legacy-0123456789abcdefghij"

    let repositories: InMemoryRepositories
    let time: ManualClock
    let service: APIKeyService

    /// A bench whose clock shows `date`, under a policy with the default date and `scope`.
    init(at date: Date = Self.afterEnforcement, scope: KeyIssuancePolicy.Scope = .organization) {
        let repositories = InMemoryRepositories()
        let time = ManualClock(date)
        self.repositories = repositories
        self.time = time
        service = APIKeyService(
            keys: repositories.keys, projects: repositories.projects, accounts: repositories.accounts,
            verifications: repositories.verifications, audit: repositories.audit,
            index: APIKeyIndex(format: APIKeyFormat()), policy: KeyIssuancePolicy(scope: scope),
            serverSecret: "keywarden-core-tests-secret", clock: time.clock)
    }

    /// Signs a person up now.
    func signUp(_ email: String = "ada@example.com") async throws -> NewAccount {
        try await repositories.signUp(email, at: time.now)
    }

    /// The membership of `person` (the account's owner by default) in the account's
    /// organization, as it stands now.
    func membership(in account: NewAccount, of person: User? = nil) async throws -> Membership {
        try await repositories.membership(of: (person ?? account.user).id, in: account.organization.id)
    }

    /// Adds `person` to the account's organization with `role`.
    func add(_ person: NewAccount, to account: NewAccount, as role: OrganizationRole) async throws {
        try await repositories.database.addMember(
            person.user.id, to: account.organization.id, role: role, at: time.now)
    }

    /// Approves a phone verification of the account's organization by `person` (its owner by
    /// default) through storage, as the verification engine does.
    func verify(_ account: NewAccount, by person: User? = nil) async throws {
        let now = time.now
        let verification = PhoneVerification(
            id: .generate(), organizationID: account.organization.id, userID: (person ?? account.user).id,
            phoneDigest: "digest-\(account.organization.id)", sealedPhoneNumber: "sealed-number",
            maskedPhoneNumber: "+• •••-•••-••23", country: "US", status: .pending, codeDigest: "code-digest",
            sealedCode: "sealed-code", attempts: 1, sends: 1, createdAt: now, expiresAt: now.addingTimeInterval(600),
            lastSentAt: now, nextResendAt: now.addingTimeInterval(30))
        try await repositories.verifications.create(verification)
        let outcome = try await repositories.verifications.approve(
            verification, at: now, maxOrganizationsPerPhone: 2)
        #expect(outcome == .approved(replaced: false))
    }

    /// Exempts the account's organization, as an operator does.
    func exempt(_ account: NewAccount) async throws {
        try await repositories.database.setVerification(
            OrganizationVerification(status: .exempt), of: account.organization.id)
    }

    /// The settings of a key to create.
    func keyRequest(
        _ name: String = "ci", permissions: KeyPermissions = .all, expiresIn: Int? = nil
    ) throws -> APIKeyService.Request {
        try APIKeyService.Request(name: name, permissions: permissions, expiresInSeconds: expiresIn)
    }

    /// Creates a key in the account's default project as `person` (the account's owner by
    /// default), signed in.
    func createKey(
        in account: NewAccount, as person: User? = nil, request: APIKeyService.Request? = nil,
        actor: AuditActor? = nil
    ) async throws -> IssuedAPIKey {
        let person = person ?? account.user
        return try await service.createProjectKey(
            project: account.defaultProject.id.rawValue, request: try request ?? keyRequest(),
            membership: try await membership(in: account, of: person), user: person,
            actor: actor ?? .session(person, ipAddress: nil))
    }

    /// Imports the legacy key, made before the enforcement date, into the account's default project.
    func importLegacyKey(into account: NewAccount) async throws -> APIKey {
        let imported = try await service.importKeys(
            [.init(name: "old", value: Self.legacyValue, sha256: nil, createdAt: Self.legacyDate)],
            project: account.defaultProject.id.rawValue)
        return try #require(imported.first)
    }

    /// Every key in storage, oldest first.
    func storedKeys() async -> [APIKey] {
        await repositories.database.storedKeys()
    }

    /// The types of the audit events written for the account's organization, oldest first.
    func auditTypes(of account: NewAccount) async -> [String] {
        await repositories.database.auditEvents(in: account.organization.id).map(\.type.rawValue)
    }
}
