import Foundation
import KeywardenCore
import SQLKit

/// Single-use account tokens in SQL, keyed by the SHA-256 of their value.
public struct SQLAccountTokenRepository: AccountTokenRepository {
    let database: DatabaseClient

    /// Creates the repository over a database.
    public init(database: DatabaseClient) {
        self.database = database
    }

    public func issue(_ token: StoredAccountToken) async throws {
        try await database.withTransaction { db in
            // A newer link ends the older unused ones of the same purpose.
            try await db.raw(
                """
                UPDATE account_tokens SET expires_at = \(bind: token.createdAt.unixMilliseconds)
                WHERE user_id = \(bind: token.userID.rawValue) AND purpose = \(bind: token.purpose.rawValue)
                    AND used_at IS NULL AND expires_at > \(bind: token.createdAt.unixMilliseconds)
                """
            ).run()
            try await db.raw(
                """
                INSERT INTO account_tokens (token_digest, purpose, user_id, created_at, expires_at, used_at)
                VALUES (\(bind: token.digest), \(bind: token.purpose.rawValue), \(bind: token.userID.rawValue),
                        \(bind: token.createdAt.unixMilliseconds), \(bind: token.expiresAt.unixMilliseconds),
                        \(bind: token.usedAt?.unixMilliseconds))
                """
            ).run()
        }
    }

    public func consume(digest: String, purpose: AccountToken.Purpose, at now: Date) async throws -> UserID? {
        try await database.withConnection { db in
            // One conditional statement: of two simultaneous uses, the database lets one through.
            try await db.raw(
                """
                UPDATE account_tokens SET used_at = \(bind: now.unixMilliseconds)
                WHERE token_digest = \(bind: digest) AND purpose = \(bind: purpose.rawValue)
                    AND used_at IS NULL AND expires_at > \(bind: now.unixMilliseconds)
                RETURNING user_id
                """
            ).first().map { UserID(unchecked: try $0.string("user_id")) }
        }
    }

    public func holder(digest: String, purpose: AccountToken.Purpose, at now: Date) async throws -> UserID? {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT user_id FROM account_tokens
                WHERE token_digest = \(bind: digest) AND purpose = \(bind: purpose.rawValue)
                    AND used_at IS NULL AND expires_at > \(bind: now.unixMilliseconds)
                """
            ).first().map { UserID(unchecked: try $0.string("user_id")) }
        }
    }

    public func purge(expiredBefore date: Date) async throws {
        try await database.withConnection { db in
            try await db.raw("DELETE FROM account_tokens WHERE expires_at < \(bind: date.unixMilliseconds)").run()
        }
    }

    /// Every stored token of a user, oldest first: what storage keeps, for tests and the operator.
    public func tokens(of user: UserID) async throws -> [StoredAccountToken] {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT token_digest, purpose, user_id, created_at, expires_at, used_at FROM account_tokens
                WHERE user_id = \(bind: user.rawValue) ORDER BY created_at, token_digest
                """
            ).all().map { row in
                let raw = try row.string("purpose")
                guard let purpose = AccountToken.Purpose(rawValue: raw) else {
                    throw StorageError.corruptRow("unknown token purpose '\(raw)'")
                }
                return StoredAccountToken(
                    digest: try row.string("token_digest"), purpose: purpose,
                    userID: UserID(unchecked: try row.string("user_id")), createdAt: try row.date("created_at"),
                    expiresAt: try row.date("expires_at"), usedAt: try row.optionalDate("used_at"))
            }
        }
    }
}
