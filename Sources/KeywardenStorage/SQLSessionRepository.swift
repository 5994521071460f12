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

    /// The columns ``session(from:)`` reads.
    static let columns =
        "id, user_id, created_at, last_seen_at, expires_at, revoked_at, ip_address, user_agent, authenticated_at"

    public func create(_ session: Session, tokenDigest: String) async throws {
        try await database.withConnection { db in
            try await db.raw(
                """
                INSERT INTO sessions (token_digest, id, user_id, created_at, last_seen_at, expires_at, revoked_at,
                                      ip_address, user_agent, authenticated_at)
                VALUES (\(bind: tokenDigest), \(bind: session.id.rawValue), \(bind: session.userID.rawValue),
                        \(bind: session.createdAt.unixMilliseconds), \(bind: session.lastSeenAt.unixMilliseconds),
                        \(bind: session.expiresAt.unixMilliseconds), \(bind: session.revokedAt?.unixMilliseconds),
                        \(bind: session.ipAddress), \(bind: session.userAgent),
                        \(bind: session.authenticatedAt.unixMilliseconds))
                """
            ).run()
        }
    }

    public func session(tokenDigest: String) async throws -> Session? {
        try await database.withConnection { db in
            try await db.raw(
                "SELECT \(unsafeRaw: Self.columns) FROM sessions WHERE token_digest = \(bind: tokenDigest)"
            ).first().map(Self.session(from:))
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

    public func liveSessions(
        of user: UserID, at now: Date, lastSeenAfter: Date, limit: Int
    ) async throws -> [Session] {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT \(unsafeRaw: Self.columns) FROM sessions
                WHERE user_id = \(bind: user.rawValue) AND revoked_at IS NULL
                    AND expires_at > \(bind: now.unixMilliseconds)
                    AND last_seen_at > \(bind: lastSeenAfter.unixMilliseconds)
                ORDER BY created_at DESC, id DESC LIMIT \(literal: limit)
                """
            ).all().map(Self.session(from:))
        }
    }

    public func revoke(_ id: SessionID, of user: UserID, at now: Date) async throws -> Bool {
        try await database.withConnection { db in
            // One conditional statement: another person's session, or one already ended, is left
            // as it is and reported as not found.
            try await db.raw(
                """
                UPDATE sessions SET revoked_at = \(bind: now.unixMilliseconds)
                WHERE id = \(bind: id.rawValue) AND user_id = \(bind: user.rawValue) AND revoked_at IS NULL
                RETURNING id
                """
            ).first() != nil
        }
    }

    public func revokeAll(of user: UserID, except kept: SessionID?, at now: Date) async throws -> [SessionID] {
        try await database.withConnection { db in
            try await db.raw(
                """
                UPDATE sessions SET revoked_at = \(bind: now.unixMilliseconds)
                WHERE user_id = \(bind: user.rawValue) AND revoked_at IS NULL
                    AND id <> \(bind: kept?.rawValue ?? "")
                RETURNING id
                """
            ).all().map { SessionID(unchecked: try $0.string("id")) }
        }
    }

    public func reauthenticate(_ id: SessionID, at now: Date) async throws {
        try await database.withConnection { db in
            try await db.raw(
                "UPDATE sessions SET authenticated_at = \(bind: now.unixMilliseconds) WHERE id = \(bind: id.rawValue)"
            ).run()
        }
    }

    /// A session from a row with ``columns``.
    static func session(from row: any SQLRow) throws -> Session {
        Session(
            id: SessionID(unchecked: try row.string("id")),
            userID: UserID(unchecked: try row.string("user_id")),
            createdAt: try row.date("created_at"),
            lastSeenAt: try row.date("last_seen_at"),
            expiresAt: try row.date("expires_at"),
            revokedAt: try row.optionalDate("revoked_at"),
            ipAddress: try row.decode(column: "ip_address", as: String?.self),
            userAgent: try row.decode(column: "user_agent", as: String?.self),
            authenticatedAt: try row.optionalDate("authenticated_at"))
    }
}
