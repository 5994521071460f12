import Foundation
import KeywardenCore

/// Users, organizations and memberships in memory, as `SQLAccountRepository` keeps them.
struct InMemoryAccountRepository: AccountRepository {
    let database: InMemoryDatabase

    func createAccount(_ account: NewAccount) async throws {
        try await database.transaction { tables in
            // The unique email decides between sign-ups and is reported in domain terms, as in storage.
            guard !tables.users.contains(where: { $0.user.email == account.user.email }) else {
                throw DomainError(
                    .conflict, code: .emailTaken,
                    message: "An account with this email address already exists. Sign in instead.",
                    param: "email")
            }
            try tables.require(!tables.users.contains { $0.user.id == account.user.id }, "users.id is unique")
            try tables.require(
                !tables.organizations.contains { $0.organization.id == account.organization.id },
                "organizations.id is unique")
            tables.users.append(InMemoryDatabase.UserRow(user: account.user, passwordHash: account.passwordHash))
            // Storage writes none of the verification columns: a new organization is unverified
            // whatever the value says.
            var organization = account.organization
            organization.verification = .unverified
            tables.organizations.append(
                InMemoryDatabase.OrganizationRow(organization: organization, phoneDigest: nil, phoneCountry: nil))
            tables.members.append(
                InMemoryDatabase.MemberRow(
                    organizationID: organization.id, userID: account.user.id, role: .owner,
                    addedAt: account.user.createdAt))
            try tables.insert(account.defaultProject)
        }
    }

    func credentials(email: EmailAddress) async throws -> UserCredentials? {
        await database.transaction { tables in
            tables.users.first { $0.user.email == email }.map {
                UserCredentials(user: $0.user, passwordHash: $0.passwordHash)
            }
        }
    }

    func user(id: UserID) async throws -> User? {
        await database.transaction { tables in tables.users.first { $0.user.id == id }?.user }
    }

    func confirmEmail(of user: UserID, at date: Date) async throws -> User? {
        await database.transaction { (tables) -> User? in
            guard let index = tables.users.firstIndex(where: { $0.user.id == user }) else { return nil }
            if tables.users[index].user.emailConfirmedAt == nil { tables.users[index].user.emailConfirmedAt = date }
            return tables.users[index].user
        }
    }

    func setPasswordHash(_ hash: String, of user: UserID) async throws -> Bool {
        await database.transaction { (tables) -> Bool in
            guard let index = tables.users.firstIndex(where: { $0.user.id == user }) else { return false }
            tables.users[index].passwordHash = hash
            return true
        }
    }

    func organization(id: OrganizationID) async throws -> Organization? {
        await database.transaction { tables in tables.organization(id) }
    }

    func renameOrganization(_ id: OrganizationID, to name: String) async throws -> Organization? {
        await database.transaction { (tables) -> Organization? in
            guard let index = tables.organizations.firstIndex(where: { $0.organization.id == id }) else { return nil }
            tables.organizations[index].organization.name = name
            return tables.organizations[index].organization
        }
    }

    func memberships(of user: UserID) async throws -> [Membership] {
        await database.transaction { tables in
            tables.members.filter { $0.userID == user }
                .sorted { ($0.addedAt, $0.organizationID.rawValue) < ($1.addedAt, $1.organizationID.rawValue) }
                .compactMap { member in
                    tables.organization(member.organizationID).map {
                        Membership(
                            organization: $0, role: member.role, addedAt: member.addedAt,
                            projectRoles: tables.projectRoles(of: user, in: $0.id))
                    }
                }
        }
    }

    func members(of organization: OrganizationID) async throws -> [OrganizationMember] {
        await database.transaction { tables in
            tables.members.filter { $0.organizationID == organization }
                .sorted { ($0.addedAt, $0.userID.rawValue) < ($1.addedAt, $1.userID.rawValue) }
                .compactMap { member in
                    tables.users.first { $0.user.id == member.userID }.map {
                        OrganizationMember(user: $0.user, role: member.role, addedAt: member.addedAt)
                    }
                }
        }
    }
}
