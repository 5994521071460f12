import Foundation
import KeywardenCore
import KeywardenStorage
import Testing

@Suite("ProjectRepository contract")
struct ProjectRepositoryTests {
    /// An account plus `count` more projects, one second apart.
    func seed(_ database: DatabaseClient, count: Int) async throws -> (NewAccount, [Project]) {
        let account = try makeAccount()
        try await SQLAccountRepository(database: database).createAccount(account)
        let repository = SQLProjectRepository(database: database)
        var projects = [account.defaultProject]
        for index in 0..<count {
            let project = Project(
                id: .generate(), organizationID: account.organization.id, name: "Project \(index)", isDefault: false,
                createdAt: epoch.addingTimeInterval(TimeInterval(index + 1)))
            try await repository.create(project)
            projects.append(project)
        }
        return (account, projects)
    }

    @Test(arguments: Backend.available)
    func listPagesInCreationOrderAndSaysWhenMoreFollow(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let (account, projects) = try await seed(database, count: 4)
            let repository = SQLProjectRepository(database: database)

            let first = try await repository.list(
                in: account.organization.id, after: nil, limit: 2, includeArchived: false)
            #expect(first.items == Array(projects[0..<2]))
            #expect(first.hasMore)
            let second = try await repository.list(
                in: account.organization.id, after: first.items.last?.id, limit: 2, includeArchived: false)
            #expect(second.items == Array(projects[2..<4]))
            #expect(second.hasMore)
            let last = try await repository.list(
                in: account.organization.id, after: second.items.last?.id, limit: 2, includeArchived: false)
            #expect(last.items == [projects[4]])
            #expect(!last.hasMore)
        }
    }

    @Test(arguments: Backend.available)
    func pagingVisitsProjectsOfTheSameSecondExactlyOnce(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let repository = SQLProjectRepository(database: database)
            var made: [Project] = []
            for index in 0..<3 {
                let project = Project(
                    id: .generate(), organizationID: account.organization.id, name: "P\(index)", isDefault: false,
                    createdAt: epoch)
                try await repository.create(project)
                made.append(project)
            }
            // Ties are broken by id in the database's collation; whatever that order is, a
            // walk page by page must see every project once.
            let expected = [account.defaultProject] + made
            var seen: [Project] = []
            var cursor: ProjectID?
            repeat {
                let page = try await repository.list(
                    in: account.organization.id, after: cursor, limit: 1, includeArchived: false)
                seen += page.items
                cursor = page.hasMore ? page.items.last?.id : nil
            } while cursor != nil
            #expect(seen.count == expected.count)
            #expect(Set(seen.map(\.id)) == Set(expected.map(\.id)))
        }
    }

    @Test(arguments: Backend.available)
    func archivedProjectsAreListedOnlyWhenAskedFor(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let (account, projects) = try await seed(database, count: 2)
            let repository = SQLProjectRepository(database: database)
            let archived = try #require(
                try await repository.archive(
                    projects[1].id, in: account.organization.id, at: epoch.addingTimeInterval(99)))
            #expect(archived.archivedAt == epoch.addingTimeInterval(99))

            let active = try await repository.list(
                in: account.organization.id, after: nil, limit: 10, includeArchived: false)
            #expect(active.items.map(\.id) == [projects[0].id, projects[2].id])
            let all = try await repository.list(
                in: account.organization.id, after: nil, limit: 10, includeArchived: true)
            #expect(all.items.map(\.id) == projects.map(\.id))
        }
    }

    @Test(arguments: Backend.available)
    func archiveLeavesTheDefaultProjectAndAnArchivedOneUnchanged(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let (account, projects) = try await seed(database, count: 1)
            let repository = SQLProjectRepository(database: database)
            let organization = account.organization.id

            let untouched = try await repository.archive(projects[0].id, in: organization, at: epoch)
            #expect(untouched?.archivedAt == nil)
            _ = try await repository.archive(projects[1].id, in: organization, at: epoch.addingTimeInterval(5))
            let again = try await repository.archive(projects[1].id, in: organization, at: epoch.addingTimeInterval(9))
            #expect(again?.archivedAt == epoch.addingTimeInterval(5))
        }
    }

    @Test(arguments: Backend.available)
    func projectsAreInvisibleFromAnotherOrganization(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let (account, projects) = try await seed(database, count: 1)
            let other = try makeAccount(email: "grace@example.com")
            try await SQLAccountRepository(database: database).createAccount(other)
            let repository = SQLProjectRepository(database: database)

            let value1 = try await repository.project(projects[1].id, in: other.organization.id)
            #expect(value1 == nil)
            let value2 = try await repository.rename(projects[1].id, in: other.organization.id, to: "Stolen")
            #expect(value2 == nil)
            let value3 = try await repository.archive(projects[1].id, in: other.organization.id, at: epoch)
            #expect(value3 == nil)
            let value4 = try await repository.project(projects[1].id, in: account.organization.id)?.name
            #expect(value4 == "Project 0")
            let otherList = try await repository.list(
                in: other.organization.id, after: nil, limit: 10, includeArchived: true)
            #expect(otherList.items == [other.defaultProject])
        }
    }

    @Test(arguments: Backend.available)
    func renameChangesOnlyTheName(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let (account, projects) = try await seed(database, count: 1)
            let renamed = try await SQLProjectRepository(database: database)
                .rename(projects[1].id, in: account.organization.id, to: "Renamed ✓")
            var expected = projects[1]
            expected.name = "Renamed ✓"
            #expect(renamed == expected)
        }
    }
}
