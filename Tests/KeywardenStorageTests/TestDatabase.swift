import Foundation
import KeywardenCore
import KeywardenStorage
import Logging
import Testing

/// The backends every contract test runs on: SQLite always, PostgreSQL when
/// `TEST_POSTGRES_URL` is set.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    static var available: [Backend] {
        ProcessInfo.processInfo.environment["TEST_POSTGRES_URL"] == nil ? [.sqlite] : [.sqlite, .postgres]
    }

    var testDescription: String { rawValue }
}

let testLogger: Logger = {
    var logger = Logger(label: "keywarden.tests")
    logger.logLevel = .warning
    return logger
}()

/// Runs `body` against a fresh, migrated database: an in-memory SQLite database, or a new
/// schema of the PostgreSQL test database, dropped afterwards.
func withTestDatabase(
    _ backend: Backend, _ body: @Sendable (DatabaseClient) async throws -> Void
) async throws {
    switch backend {
    case .sqlite:
        let database = try await DatabaseClient.sqlite(path: nil, logger: testLogger)
        try await Migrator(database: database).migrate()
        do {
            try await body(database)
        } catch {
            try await database.shutdown()
            throw error
        }
        try await database.shutdown()
    case .postgres:
        let url = try #require(ProcessInfo.processInfo.environment["TEST_POSTGRES_URL"])
        // Every contract test runs at once: a few schemas at a time keep the connections within
        // the server's limit.
        try await postgresSlots.withSlot {
            let schema = "test_" + SecureRandom.base62(length: 12).lowercased()
            let admin = try DatabaseClient.postgres(url: url, maxConnectionsPerEventLoop: 1, logger: testLogger)
            var failure: (any Error)?
            do {
                try await admin.withConnection { db in try await db.raw("CREATE SCHEMA \(ident: schema)").run() }
                let separator = url.contains("?") ? "&" : "?"
                let database = try DatabaseClient.postgres(
                    url: url + separator + "search_path=" + schema, maxConnectionsPerEventLoop: 2, logger: testLogger)
                do {
                    try await Migrator(database: database).migrate()
                    try await body(database)
                } catch {
                    failure = error
                }
                try await database.shutdown()
                try await admin.withConnection { db in try await db.raw("DROP SCHEMA \(ident: schema) CASCADE").run() }
            } catch {
                failure = failure ?? error
            }
            try await admin.shutdown()
            if let failure { throw failure }
        }
    }
}

/// A fixed instant in whole seconds, and helpers to make test accounts.
let epoch = Date(timeIntervalSince1970: 1_750_000_000)

func makeAccount(email: String = "ada@example.com", at date: Date = epoch) throws -> NewAccount {
    let user = User(id: .generate(), email: try EmailAddress(normalizing: email), name: "Ada", createdAt: date)
    let organization = Organization(id: .generate(), name: "Personal", isPersonal: true, createdAt: date)
    let project = Project(
        id: .generate(), organizationID: organization.id, name: "Default project", isDefault: true, createdAt: date)
    return NewAccount(user: user, passwordHash: "hash", organization: organization, defaultProject: project)
}

/// How many PostgreSQL test schemas are in use at once.
let postgresSlots = AsyncSlots(count: 6)

/// A counting semaphore for async code: at most `count` bodies run at once, the rest wait in turn.
actor AsyncSlots {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(count: Int) {
        free = count
    }

    func withSlot<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        do {
            let value = try await body()
            release()
            return value
        } catch {
            release()
            throw error
        }
    }

    private func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty {
            free += 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
