import Foundation
import KeywardenCore
import SQLKit

/// Applies ``Migration/all`` and records each applied step in `keywarden_migrations`.
public struct Migrator: Sendable {
    let database: DatabaseClient
    let migrations: [Migration]

    /// Creates a migrator for a database.
    public init(database: DatabaseClient, migrations: [Migration] = Migration.all) {
        self.database = database
        self.migrations = migrations
    }

    /// The steps not yet applied, oldest first.
    public func pending() async throws -> [Migration] {
        try await ensureLedger()
        let applied = try await appliedVersions()
        return migrations.filter { !applied.contains($0.version) }
    }

    /// Applies every pending step, each in its own transaction, and returns those applied.
    ///
    /// On PostgreSQL an advisory lock makes concurrent migrators (several instances starting
    /// at once) apply each step exactly once.
    @discardableResult
    public func migrate(now: Date = Clock.live.now()) async throws -> [Migration] {
        try await ensureLedger()
        var applied: [Migration] = []
        for migration in migrations {
            let didApply = try await database.withTransaction { db -> Bool in
                if database.backend == .postgres {
                    try await db.raw("SELECT pg_advisory_xact_lock(7305146)").run()
                }
                let existing = try await db.raw(
                    "SELECT version FROM keywarden_migrations WHERE version = \(bind: migration.version)"
                ).first()
                guard existing == nil else { return false }
                for statement in migration.statements {
                    try await db.raw(SQLQueryString(statement)).run()
                }
                try await db.raw(
                    """
                    INSERT INTO keywarden_migrations (version, name, applied_at)
                    VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: now.unixMilliseconds))
                    """
                ).run()
                return true
            }
            if didApply { applied.append(migration) }
        }
        return applied
    }

    private func ensureLedger() async throws {
        try await database.withConnection { db in
            try await db.raw(
                """
                CREATE TABLE IF NOT EXISTS keywarden_migrations (
                    version BIGINT PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at BIGINT NOT NULL
                )
                """
            ).run()
        }
    }

    private func appliedVersions() async throws -> Set<Int> {
        try await database.withConnection { db in
            let rows = try await db.raw("SELECT version FROM keywarden_migrations").all()
            return Set(try rows.map { try $0.decode(column: "version", as: Int.self) })
        }
    }
}
