import Foundation

/// A signed-in session. Its secret token is never stored, only its SHA-256.
public struct Session: Equatable, Sendable {
    /// The session's public id.
    public var id: SessionID
    /// The user it belongs to.
    public var userID: UserID
    /// When it was created.
    public var createdAt: Date
    /// When it was last used (updated at most once a minute).
    public var lastSeenAt: Date
    /// The absolute end of the session, however active it is.
    public var expiresAt: Date
    /// When it was ended by logout; `nil` while live.
    public var revokedAt: Date?
    /// The client address it was started from, when known.
    public var ipAddress: String?
    /// A short summary of the browser or program it was started from (its `User-Agent`, cut
    /// to ``userAgentLimit`` characters), when known.
    public var userAgent: String?
    /// When the person last proved it was them on this session (their password, or their
    /// password and a second factor, at sign-in; a password or code for a sensitive action).
    public var authenticatedAt: Date

    /// Creates a session value; `authenticatedAt` defaults to `createdAt`.
    public init(
        id: SessionID, userID: UserID, createdAt: Date, lastSeenAt: Date, expiresAt: Date,
        revokedAt: Date? = nil, ipAddress: String? = nil, userAgent: String? = nil, authenticatedAt: Date? = nil
    ) {
        self.authenticatedAt = authenticatedAt ?? createdAt
        self.id = id
        self.userID = userID
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.ipAddress = ipAddress
        self.userAgent = userAgent
    }

    /// The most characters of a `User-Agent` kept with a session.
    public static let userAgentLimit = 200

    /// A `User-Agent` header as a session keeps it: control characters dropped, white space
    /// trimmed, cut to ``userAgentLimit`` characters; `nil` when nothing is left.
    public static func userAgentSummary(_ header: String?) -> String? {
        guard let header else { return nil }
        var kept = String.UnicodeScalarView()
        for scalar in header.unicodeScalars.prefix(4 * userAgentLimit)
        where scalar.properties.generalCategory != .control {
            kept.append(scalar)
        }
        let summary = String(String(kept).trimmingWhitespace().prefix(userAgentLimit))
        return summary.isEmpty ? nil : summary
    }

    /// Whether the session still works at `now`: not revoked, not past its lifetime, and used
    /// within `idleTimeout`.
    public func isLive(at now: Date, idleTimeout: TimeInterval) -> Bool {
        revokedAt == nil && expiresAt > now && lastSeenAt.addingTimeInterval(idleTimeout) > now
    }
}

/// A session token handed to the client once, at login or sign-up.
public struct SessionToken: Sendable {
    /// The prefix every session token starts with.
    public static let prefix = "sess_"

    /// The secret text: `sess_` and 256 random bits, base64url.
    public let value: String

    /// A new token from the CSPRNG.
    public static func generate() -> SessionToken {
        SessionToken(value: prefix + SecureRandom.token(byteCount: 32))
    }

    /// Wraps a token presented by a client.
    public init(value: String) {
        self.value = value
    }

    /// The digest under which the session is stored and looked up.
    public var digest: String { Digest.sha256Hex(value) }
}
