import Foundation
import KeywardenCore
import SQLKit

/// Sessions in SQL, keyed by the SHA-256 of their token.
public struct SQLSessionRepository: SessionRepository {
    let database: DatabaseClient

    /// Creates the repository over a database.
    public init(database: DatabaseClient) {
        self.database = database
    }

    public func create(_ session: Session, tokenDigest: String) async throws {
        try await database.withConnection { db in
            try await db.raw(
                """
                INSERT INTO sessions (token_digest, id, user_id, created_at, last_seen_at, expires_at, revoked_at)
                VALUES (\(bind: tokenDigest), \(bind: session.id.rawValue), \(bind: session.userID.rawValue),
                        \(bind: session.createdAt.unixMilliseconds), \(bind: session.lastSeenAt.unixMilliseconds),
                        \(bind: session.expiresAt.unixMilliseconds), \(bind: session.revokedAt?.unixMilliseconds))
                """
            ).run()
        }
    }

    public func session(tokenDigest: String) async throws -> Session? {
        try await database.withConnection { db in
            guard
                let row = try await db.raw(
                    """
                    SELECT id, user_id, created_at, last_seen_at, expires_at, revoked_at
                    FROM sessions WHERE token_digest = \(bind: tokenDigest)
                    """
                ).first()
            else { return nil }
            return Session(
                id: SessionID(unchecked: try row.string("id")),
                userID: UserID(unchecked: try row.string("user_id")),
                createdAt: try row.date("created_at"),
                lastSeenAt: try row.date("last_seen_at"),
                expiresAt: try row.date("expires_at"),
                revokedAt: try row.optionalDate("revoked_at"))
        }
    }

    public func touch(_ id: SessionID, at now: Date, ifLastSeenBefore staleBefore: Date) async throws {
        try await database.withConnection { db in
            try await db.raw(
                """
                UPDATE sessions SET last_seen_at = \(bind: now.unixMilliseconds)
                WHERE id = \(bind: id.rawValue) AND last_seen_at < \(bind: staleBefore.unixMilliseconds)
                """
            ).run()
        }
    }

    public func revoke(_ id: SessionID, at now: Date) async throws {
        try await database.withConnection { db in
            try await db.raw(
                """
                UPDATE sessions SET revoked_at = \(bind: now.unixMilliseconds)
                WHERE id = \(bind: id.rawValue) AND revoked_at IS NULL
                """
            ).run()
        }
    }
}
