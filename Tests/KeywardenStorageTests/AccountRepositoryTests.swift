import Foundation
import KeywardenCore
import KeywardenStorage
import Testing

@Suite("AccountRepository contract")
struct AccountRepositoryTests {
    @Test(arguments: Backend.available)
    func createAccountWritesUserOrganizationOwnerAndDefaultProject(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLAccountRepository(database: database)
            let account = try makeAccount()
            try await repository.createAccount(account)

            let value1 = try await repository.user(id: account.user.id)
            #expect(value1 == account.user)
            let credentials = try #require(try await repository.credentials(email: account.user.email))
            #expect(credentials.passwordHash == "hash")
            let organization = try await repository.organization(id: account.organization.id)
            #expect(organization == account.organization)
            let missing = try await repository.organization(id: .generate())
            #expect(missing == nil)
            let memberships = try await repository.memberships(of: account.user.id)
            #expect(memberships == [Membership(organization: account.organization, role: .owner, addedAt: epoch)])
            let members = try await repository.members(of: account.organization.id)
            #expect(members == [OrganizationMember(user: account.user, role: .owner, addedAt: epoch)])
            let project = try await SQLProjectRepository(database: database)
                .project(account.defaultProject.id, in: account.organization.id)
            #expect(project == account.defaultProject)
        }
    }

    @Test(arguments: Backend.available)
    func duplicateEmailIsRefusedAndWritesNothing(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLAccountRepository(database: database)
            try await repository.createAccount(try makeAccount(email: "ada@example.com"))
            let second = try makeAccount(email: "ada@example.com")

            let error = await #expect(throws: DomainError.self) { try await repository.createAccount(second) }
            #expect(error?.code == .emailTaken)
            let value2 = try await repository.user(id: second.user.id)
            #expect(value2 == nil)
            let value3 = try await repository.members(of: second.organization.id)
            #expect(value3.isEmpty)
            let orphan = try await SQLProjectRepository(database: database)
                .project(second.defaultProject.id, in: second.organization.id)
            #expect(orphan == nil)
        }
    }

    @Test(arguments: Backend.available)
    func unknownEmailAndUserAreAbsent(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLAccountRepository(database: database)
            let value4 = try await repository.credentials(email: EmailAddress(normalizing: "nobody@example.com"))
            #expect(value4 == nil)
            let value5 = try await repository.user(id: .generate())
            #expect(value5 == nil)
            let value6 = try await repository.memberships(of: .generate())
            #expect(value6.isEmpty)
        }
    }

    @Test(arguments: Backend.available)
    func renamingAnOrganizationChangesOnlyItsNameAndShowsInMemberships(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLAccountRepository(database: database)
            let account = try makeAccount(email: "ada@example.com")
            let other = try makeAccount(email: "grace@example.com")
            try await repository.createAccount(account)
            try await repository.createAccount(other)

            let renamed = try #require(
                try await repository.renameOrganization(account.organization.id, to: "Analytical"))
            var expected = account.organization
            expected.name = "Analytical"
            #expect(renamed == expected)
            #expect(try await repository.organization(id: account.organization.id) == expected)
            let memberships = try await repository.memberships(of: account.user.id)
            #expect(memberships.map(\.organization.name) == ["Analytical"])
            #expect(try await repository.organization(id: other.organization.id) == other.organization)
            #expect(try await repository.renameOrganization(.generate(), to: "Nobody") == nil)
        }
    }

    @Test(arguments: Backend.available)
    func settingAPasswordHashReplacesOnlyThatUsersHash(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLAccountRepository(database: database)
            let account = try makeAccount(email: "ada@example.com")
            let other = try makeAccount(email: "grace@example.com")
            try await repository.createAccount(account)
            try await repository.createAccount(other)

            #expect(try await repository.setPasswordHash("new hash", of: account.user.id))
            #expect(try await repository.credentials(email: account.user.email)?.passwordHash == "new hash")
            #expect(try await repository.credentials(email: other.user.email)?.passwordHash == "hash")
            #expect(try await repository.setPasswordHash("nobody", of: .generate()) == false)
        }
    }
}
