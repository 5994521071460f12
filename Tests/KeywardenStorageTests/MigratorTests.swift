import Foundation
import KeywardenStorage
import Testing

@Suite("Migrator")
struct MigratorTests {
    @Test(arguments: Backend.available)
    func migratingTwiceAppliesNothingTheSecondTime(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let migrator = Migrator(database: database)
            let value1 = try await migrator.pending()
            #expect(value1.isEmpty)
            let value2 = try await migrator.migrate()
            #expect(value2.isEmpty)
        }
    }

    @Test(arguments: Backend.available)
    func aNewStepIsPendingUntilApplied(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let next = Migration(
                version: (Migration.all.map(\.version).max() ?? 0) + 1, name: "test step",
                statements: ["CREATE TABLE migrator_probe (id TEXT PRIMARY KEY)"])
            let migrator = Migrator(database: database, migrations: Migration.all + [next])
            let value3 = try await migrator.pending().map(\.version)
            #expect(value3 == [next.version])
            let value4 = try await migrator.migrate().map(\.version)
            #expect(value4 == [next.version])
            let value5 = try await migrator.pending()
            #expect(value5.isEmpty)
        }
    }

    @Test(arguments: Backend.available)
    func aFailingStepLeavesNoTraceAndStaysPending(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let broken = Migration(
                version: (Migration.all.map(\.version).max() ?? 0) + 1, name: "broken step",
                statements: ["CREATE TABLE half_done (id TEXT PRIMARY KEY)", "THIS IS NOT SQL"])
            let migrator = Migrator(database: database, migrations: Migration.all + [broken])
            await #expect(throws: (any Error).self) { try await migrator.migrate() }
            let value6 = try await migrator.pending().map(\.version)
            #expect(value6 == [broken.version])
            let tableExists = try await database.withConnection { db in
                (try? await db.raw("SELECT id FROM half_done").all()) != nil
            }
            #expect(!tableExists)
        }
    }

    @Test func versionsAreConsecutiveFromOne() {
        #expect(Migration.all.map(\.version) == Array(1...Migration.all.count))
    }
}
