import Foundation
import KeywardenCore
import Testing

/// Every repository the key and verification services take, over one in-memory database, so
/// that what one writes (an approval verifying an organization) the others read.
struct InMemoryRepositories: Sendable {
    let database = InMemoryDatabase()

    var accounts: InMemoryAccountRepository { InMemoryAccountRepository(database: database) }
    var projects: InMemoryProjectRepository { InMemoryProjectRepository(database: database) }
    var keys: InMemoryAPIKeyRepository { InMemoryAPIKeyRepository(database: database) }
    var verifications: InMemoryPhoneVerificationRepository {
        InMemoryPhoneVerificationRepository(database: database)
    }
    var audit: InMemoryAuditLogRepository { InMemoryAuditLogRepository(database: database) }
    var counters: InMemoryRateCounterRepository { InMemoryRateCounterRepository(database: database) }
    var teams: InMemoryTeamRepository { InMemoryTeamRepository(database: database) }
    var invites: InMemoryInviteRepository { InMemoryInviteRepository(database: database) }
    var sessions: InMemorySessionRepository { InMemorySessionRepository(database: database) }
    var tokens: InMemoryAccountTokenRepository { InMemoryAccountTokenRepository(database: database) }
    var twoFactor: InMemoryTwoFactorRepository { InMemoryTwoFactorRepository(database: database) }

    /// Signs a person up as the account service does: the user, their personal organization
    /// (unverified), its owner membership and its default project, made at `date`.
    func signUp(_ email: String, at date: Date) async throws -> NewAccount {
        let user = User(id: .generate(), email: try EmailAddress(normalizing: email), name: "", createdAt: date)
        let organization = Organization(id: .generate(), name: "Personal", isPersonal: true, createdAt: date)
        let project = Project(
            id: .generate(), organizationID: organization.id, name: "Default project", isDefault: true,
            createdAt: date)
        let account = NewAccount(user: user, passwordHash: "hash", organization: organization, defaultProject: project)
        try await accounts.createAccount(account)
        return account
    }

    /// The person's membership of the organization as storage holds it now, as each request
    /// reads it afresh.
    func membership(of user: UserID, in organization: OrganizationID) async throws -> Membership {
        try #require(try await accounts.memberships(of: user).first { $0.organization.id == organization })
    }
}
