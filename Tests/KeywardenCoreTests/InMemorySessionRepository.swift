import Foundation
import KeywardenCore

/// Sessions in memory, as `SQLSessionRepository` keeps them: by token digest, each statement
/// one uninterrupted step.
struct InMemorySessionRepository: SessionRepository {
    let database: InMemoryDatabase

    func create(_ session: Session, tokenDigest: String) async throws {
        try await database.transaction { tables in
            try tables.requireUser(session.userID)
            try tables.require(
                !tables.sessions.contains { $0.tokenDigest == tokenDigest }, "sessions.token_digest is unique")
            try tables.require(!tables.sessions.contains { $0.session.id == session.id }, "sessions.id is unique")
            tables.sessions.append(InMemoryDatabase.SessionRow(session: session, tokenDigest: tokenDigest))
        }
    }

    func session(tokenDigest: String) async throws -> Session? {
        await database.transaction { tables in tables.sessions.first { $0.tokenDigest == tokenDigest }?.session }
    }

    func touch(_ id: SessionID, at now: Date, ifLastSeenBefore staleBefore: Date) async throws {
        await database.transaction { tables in
            for index in tables.sessions.indices
            where tables.sessions[index].session.id == id && tables.sessions[index].session.lastSeenAt < staleBefore {
                tables.sessions[index].session.lastSeenAt = now
            }
        }
    }

    func revoke(_ id: SessionID, at now: Date) async throws {
        await database.transaction { tables in
            for index in tables.sessions.indices
            where tables.sessions[index].session.id == id && tables.sessions[index].session.revokedAt == nil {
                tables.sessions[index].session.revokedAt = now
            }
        }
    }

    func liveSessions(of user: UserID, at now: Date, lastSeenAfter: Date, limit: Int) async throws -> [Session] {
        await database.transaction { (tables) -> [Session] in
            let live = tables.sessions.map(\.session).filter {
                $0.userID == user && $0.revokedAt == nil && $0.expiresAt > now && $0.lastSeenAt > lastSeenAfter
            }
            return Array(
                live.sorted { ($0.createdAt, $0.id.rawValue) > ($1.createdAt, $1.id.rawValue) }.prefix(limit))
        }
    }

    func revoke(_ id: SessionID, of user: UserID, at now: Date) async throws -> Bool {
        await database.transaction { (tables) -> Bool in
            guard
                let index = tables.sessions.firstIndex(where: {
                    $0.session.id == id && $0.session.userID == user && $0.session.revokedAt == nil
                })
            else { return false }
            tables.sessions[index].session.revokedAt = now
            return true
        }
    }

    func reauthenticate(_ id: SessionID, at now: Date) async throws {
        await database.transaction { tables in
            for index in tables.sessions.indices where tables.sessions[index].session.id == id {
                tables.sessions[index].session.authenticatedAt = now
            }
        }
    }

    func revokeAll(of user: UserID, except kept: SessionID?, at now: Date) async throws -> [SessionID] {
        await database.transaction { (tables) -> [SessionID] in
            var ended: [SessionID] = []
            for index in tables.sessions.indices {
                let session = tables.sessions[index].session
                guard session.userID == user, session.revokedAt == nil, session.id != kept else { continue }
                tables.sessions[index].session.revokedAt = now
                ended.append(session.id)
            }
            return ended
        }
    }
}
