import Foundation

/// A person who signs in to Keywarden.
public struct User: Equatable, Sendable {
    /// The user's id.
    public var id: UserID
    /// The normalised email address the user signs in with.
    public var email: EmailAddress
    /// The display name; may be empty.
    public var name: String
    /// When the account was created.
    public var createdAt: Date
    /// When the person proved the address is theirs (a confirmation link, or an invite sent
    /// to it); `nil` until then. Accounts made before confirmation existed count as confirmed.
    public var emailConfirmedAt: Date?

    /// Creates a user value.
    public init(id: UserID, email: EmailAddress, name: String, createdAt: Date, emailConfirmedAt: Date? = nil) {
        self.id = id
        self.email = email
        self.name = name
        self.createdAt = createdAt
        self.emailConfirmedAt = emailConfirmedAt
    }

    /// Whether the email address is confirmed.
    public var isEmailConfirmed: Bool { emailConfirmedAt != nil }
}

/// A user together with the stored password hash, as read for sign-in only.
public struct UserCredentials: Sendable {
    /// The user.
    public var user: User
    /// The bcrypt hash of the (pre-hashed) password.
    public var passwordHash: String

    /// Creates the pair.
    public init(user: User, passwordHash: String) {
        self.user = user
        self.passwordHash = passwordHash
    }
}
