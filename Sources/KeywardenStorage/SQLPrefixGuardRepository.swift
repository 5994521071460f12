import Foundation
import KeywardenCore
import SQLKit

/// The prefix guard's standing rules and its pauses in SQL: one rule and one pause (the latest)
/// per prefix.
public struct SQLPrefixGuardRepository: PrefixGuardRepository {
    let database: DatabaseClient

    /// Creates the repository over a database.
    public init(database: DatabaseClient) {
        self.database = database
    }

    static let pauseColumns = "prefix, reason, paused_at, until, lifted_at, lifted_by"

    // MARK: Rules

    public func rules() async throws -> [PrefixRule] {
        try await database.withConnection { db in
            try await db.raw(
                "SELECT prefix, kind, reason, created_at, created_by FROM prefix_rules ORDER BY prefix"
            ).all().map { row -> PrefixRule in
                let rawKind = try row.string("kind")
                guard let kind = PrefixRule.Kind(rawValue: rawKind) else {
                    throw StorageError.corruptRow("unknown prefix rule kind '\(rawKind)'")
                }
                return PrefixRule(
                    prefix: try row.string("prefix"), kind: kind, reason: try row.string("reason"),
                    createdAt: try row.date("created_at"), createdBy: try row.string("created_by"))
            }
        }
    }

    public func setRule(_ rule: PrefixRule) async throws {
        try await database.withConnection { db in
            try await db.raw(
                """
                INSERT INTO prefix_rules (prefix, kind, reason, created_at, created_by)
                VALUES (\(bind: rule.prefix), \(bind: rule.kind.rawValue), \(bind: rule.reason),
                        \(bind: rule.createdAt.unixMilliseconds), \(bind: rule.createdBy))
                ON CONFLICT (prefix) DO UPDATE SET kind = excluded.kind, reason = excluded.reason,
                    created_at = excluded.created_at, created_by = excluded.created_by
                """
            ).run()
        }
    }

    public func removeRule(prefix: String) async throws -> Bool {
        try await database.withConnection { db in
            try await db.raw("DELETE FROM prefix_rules WHERE prefix = \(bind: prefix) RETURNING prefix").first() != nil
        }
    }

    // MARK: Pauses

    public func recordPause(_ pause: PrefixPause) async throws {
        try await database.withConnection { db in
            // One statement, so instances pausing the same prefix at once keep one pause; a pause
            // that has not ended, lifted or not, stays until it does.
            try await db.raw(
                """
                INSERT INTO prefix_pauses (\(unsafeRaw: Self.pauseColumns))
                VALUES (\(bind: pause.prefix), \(bind: pause.reason), \(bind: pause.pausedAt.unixMilliseconds),
                        \(bind: pause.until.unixMilliseconds), \(bind: pause.liftedAt?.unixMilliseconds),
                        \(bind: pause.liftedBy))
                ON CONFLICT (prefix) DO UPDATE SET reason = excluded.reason, paused_at = excluded.paused_at,
                    until = excluded.until, lifted_at = excluded.lifted_at, lifted_by = excluded.lifted_by
                WHERE prefix_pauses.until <= excluded.paused_at
                """
            ).run()
        }
    }

    public func pause(prefix: String) async throws -> PrefixPause? {
        try await database.withConnection { db in
            try await db.raw(
                "SELECT \(unsafeRaw: Self.pauseColumns) FROM prefix_pauses WHERE prefix = \(bind: prefix)"
            ).first()?.prefixPause()
        }
    }

    public func pauses(endingAfter now: Date) async throws -> [PrefixPause] {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT \(unsafeRaw: Self.pauseColumns) FROM prefix_pauses
                WHERE until > \(bind: now.unixMilliseconds)
                ORDER BY paused_at DESC, prefix
                """
            ).all().map { try $0.prefixPause() }
        }
    }

    public func liftPause(prefix: String, by operatorEmail: String, at now: Date) async throws -> Bool {
        try await database.withConnection { db in
            try await db.raw(
                """
                UPDATE prefix_pauses SET lifted_at = \(bind: now.unixMilliseconds), lifted_by = \(bind: operatorEmail)
                WHERE prefix = \(bind: prefix) AND lifted_at IS NULL AND until > \(bind: now.unixMilliseconds)
                RETURNING prefix
                """
            ).first() != nil
        }
    }
}

extension SQLRow {
    /// A row of `prefix_pauses` read with ``SQLPrefixGuardRepository/pauseColumns``.
    func prefixPause() throws -> PrefixPause {
        PrefixPause(
            prefix: try string("prefix"), reason: try string("reason"), pausedAt: try date("paused_at"),
            until: try date("until"), liftedAt: try optionalDate("lifted_at"),
            liftedBy: try decode(column: "lifted_by", as: String?.self))
    }
}
