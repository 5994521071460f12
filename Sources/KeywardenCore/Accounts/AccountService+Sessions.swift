import Foundation

/// A person's own sessions: listed with where they came from, and ended one by one or all but
/// the one in use.
extension AccountService {
    /// The most sessions listed.
    public static let sessionListLimit = 100

    /// The user's live sessions, newest first, at most ``sessionListLimit``.
    public func liveSessions(of user: User) async throws -> Page<Session> {
        let now = clock.now()
        let found = try await sessions.liveSessions(
            of: user.id, at: now, lastSeenAfter: now.addingTimeInterval(-settings.sessionIdleTimeout),
            limit: Self.sessionListLimit + 1)
        return Page(items: Array(found.prefix(Self.sessionListLimit)), hasMore: found.count > Self.sessionListLimit)
    }

    /// Ends one of the user's other sessions; it stops working on its next request. Records
    /// `session.revoked`.
    ///
    /// - Throws: ``DomainError`` `session_not_found` (404) for an id that is not one of the user's
    ///   live sessions (another person's included), `invalid_value` for the session in use (which
    ///   logging out ends).
    public func revokeSession(
        _ rawID: String, of user: User, current: Session, clientAddress: String?
    ) async throws -> SessionID {
        guard let id = SessionID(rawID) else { throw Self.sessionNotFound }
        guard id != current.id else {
            throw DomainError.invalidField(
                "session_id", "This is the session you are using. To end it, log out (POST /v1/auth/logout).")
        }
        let now = wholeMilliseconds(clock.now())
        guard try await sessions.revoke(id, of: user.id, at: now) else { throw Self.sessionNotFound }
        try await record(
            .sessionRevoked, user: user, clientAddress: clientAddress, now: now, details: ["session_id": id.rawValue])
        return id
    }

    /// Ends every session of the user but `current`; returns how many ended. Records one
    /// `session.revoked` naming them all, when there were any.
    public func revokeOtherSessions(of user: User, current: Session, clientAddress: String?) async throws -> Int {
        let now = wholeMilliseconds(clock.now())
        let ended = try await sessions.revokeAll(of: user.id, except: current.id, at: now)
        if !ended.isEmpty {
            try await record(
                .sessionRevoked, user: user, clientAddress: clientAddress, now: now,
                details: ["session_ids": ended.map(\.rawValue).joined(separator: ",")])
        }
        return ended.count
    }

    /// `session_not_found`: the id names none of the caller's live sessions. The id is not
    /// repeated, in case a token was sent where an id belongs.
    static let sessionNotFound = DomainError(
        .notFound, code: .sessionNotFound,
        message: "You have no live session with that id. List your sessions with GET /v1/me/sessions.",
        param: "session_id")
}
