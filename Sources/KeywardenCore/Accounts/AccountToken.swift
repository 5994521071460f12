import Foundation

/// A single-use secret mailed to a person in a link: proof that they read mail at their address,
/// to confirm it or to choose a new password.
///
/// The value is 256 random bits, shown only in the emailed link; storage keeps its SHA-256, the
/// purpose, the user, and when it was made, ends and was used.
public struct AccountToken: Sendable {
    /// What a token may be used for, and how long it lives.
    public enum Purpose: String, Sendable, CaseIterable, Codable {
        /// Confirms the account's email address; 24 hours.
        case emailConfirmation = "email_confirmation"
        /// Sets a new password; 1 hour.
        case passwordReset = "password_reset"
        /// Finishes a sign-in whose password was right with a second factor; 5 minutes. Handed
        /// to the client that typed the password, never mailed.
        case mfaChallenge = "mfa_challenge"

        /// How long a token of this purpose works after it is made.
        public var lifetime: TimeInterval {
            switch self {
            case .emailConfirmation: 24 * 3600
            case .passwordReset: 3600
            case .mfaChallenge: 300
            }
        }
    }

    /// The longest token text looked up; anything longer is refused unhashed.
    public static let maximumLength = 128

    /// The secret text: 256 random bits, base64url without padding (43 characters).
    public let value: String

    /// A new token from the CSPRNG.
    public static func generate() -> AccountToken {
        AccountToken(value: SecureRandom.token(byteCount: 32))
    }

    /// Wraps a token presented by a client.
    public init(value: String) {
        self.value = value
    }

    /// The digest under which the token is stored and looked up.
    public var digest: String { Digest.sha256Hex(value) }
}

/// A token as storage keeps it: never its value.
public struct StoredAccountToken: Equatable, Sendable {
    /// The SHA-256 of the value, lowercase hexadecimal.
    public var digest: String
    public var purpose: AccountToken.Purpose
    /// The person the token was mailed to.
    public var userID: UserID
    public var createdAt: Date
    public var expiresAt: Date
    /// When it was used; `nil` until then.
    public var usedAt: Date?

    /// Creates a stored token.
    public init(
        digest: String, purpose: AccountToken.Purpose, userID: UserID, createdAt: Date, expiresAt: Date,
        usedAt: Date? = nil
    ) {
        self.digest = digest
        self.purpose = purpose
        self.userID = userID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
    }
}

/// Stores single-use account tokens by their digest.
public protocol AccountTokenRepository: Sendable {
    /// Stores a new token and, in the same transaction, ends the user's older unused tokens of
    /// the same purpose (their `expires_at` becomes the new token's `created_at`): only the
    /// newest link works.
    func issue(_ token: StoredAccountToken) async throws

    /// Uses the token with this digest and purpose if it is unused and unexpired at `now`, with
    /// one conditional update, so of two simultaneous uses exactly one succeeds; returns the
    /// user it was for, or `nil` when it is unknown, used, expired or of another purpose.
    func consume(digest: String, purpose: AccountToken.Purpose, at now: Date) async throws -> UserID?

    /// The user the token with this digest and purpose was made for while it is unused and
    /// unexpired at `now`, without using it; `nil` otherwise.
    func holder(digest: String, purpose: AccountToken.Purpose, at now: Date) async throws -> UserID?

    /// Deletes tokens that ended before `date`, used or not.
    func purge(expiredBefore date: Date) async throws
}
