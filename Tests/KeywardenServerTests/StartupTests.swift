import Foundation
import KeywardenCore
import KeywardenServer
import KeywardenStorage
import SQLKit
import Testing

@Suite("Start-up")
struct StartupTests {
    @Test func accountsSurviveARestartOnTheSQLiteFile() async throws {
        var configuration = KeywardenConfiguration()
        configuration.storage.dataDirectory = try temporaryDirectory()

        let first = try await openDatabase(configuration: configuration, logger: quietLogger)
        let services = KeywardenServices(
            database: first, configuration: configuration, secret: testSecret, logger: quietLogger, hasher: testHasher)
        let signUp = try await services.accounts.signUp(
            email: "ada@example.com", password: "correct horse battery", name: "Ada")
        try await first.shutdown()

        let second = try await openDatabase(configuration: configuration, logger: quietLogger)
        let restarted = KeywardenServices(
            database: second, configuration: configuration, secret: testSecret, logger: quietLogger, hasher: testHasher)
        let (user, _) = try #require(
            try await restarted.accounts.logIn(
                email: "ada@example.com", password: "correct horse battery", clientAddress: nil
            ).session)
        #expect(user == signUp.user)
        let session = try await restarted.accounts.authenticate(token: signUp.token.value)
        #expect(session?.user == signUp.user)
        let journal = try await second.withConnection { db in
            try await db.raw("PRAGMA journal_mode").first()?.decode(column: "journal_mode", as: String.self)
        }
        #expect(journal == "wal")
        try await second.shutdown()
    }

    @Test func developmentSecretIsGeneratedOnceAndReused() throws {
        var configuration = KeywardenConfiguration()
        configuration.storage.dataDirectory = try temporaryDirectory()
        let first = try ServerSecret.resolve(configuration, logger: quietLogger)
        let second = try ServerSecret.resolve(configuration, logger: quietLogger)
        #expect(first == second)
        #expect(first.utf8.count >= 32)
        let attributes = try FileManager.default.attributesOfItem(
            atPath: configuration.storage.dataDirectory + "/secret")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        configuration.storage.secret = String(repeating: "s", count: 32)
        #expect(try ServerSecret.resolve(configuration, logger: quietLogger) == configuration.storage.secret)
    }

    @Test func postgresWithoutASecretRefusesToStart() throws {
        var configuration = KeywardenConfiguration()
        configuration.storage.databaseURL = "postgres://u:p@127.0.0.1/db"
        let error = #expect(throws: ConfigurationError.self) {
            try ServerSecret.resolve(configuration, logger: quietLogger)
        }
        #expect(error?.key == "secret")
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["TEST_POSTGRES_URL"] != nil))
    func postgresWithPendingMigrationsStartsOnlyWhenToldToMigrate() async throws {
        let url = try #require(ProcessInfo.processInfo.environment["TEST_POSTGRES_URL"])
        let schema = "startup_" + SecureRandom.base62(length: 10).lowercased()
        let admin = try DatabaseClient.postgres(url: url, maxConnectionsPerEventLoop: 1, logger: quietLogger)
        try await admin.withConnection { db in try await db.raw("CREATE SCHEMA \(ident: schema)").run() }

        var configuration = KeywardenConfiguration()
        configuration.storage.databaseURL = url + (url.contains("?") ? "&" : "?") + "search_path=" + schema
        await #expect(throws: StartupError.self) {
            try await openDatabase(configuration: configuration, logger: quietLogger)
        }
        configuration.storage.migrateOnStart = true
        let migrated = try await openDatabase(configuration: configuration, logger: quietLogger)
        try await migrated.shutdown()
        configuration.storage.migrateOnStart = false
        let current = try await openDatabase(configuration: configuration, logger: quietLogger)
        try await current.shutdown()

        try await admin.withConnection { db in try await db.raw("DROP SCHEMA \(ident: schema) CASCADE").run() }
        try await admin.shutdown()
    }
}
