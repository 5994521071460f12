import Foundation

/// Everything sign-up creates, written together or not at all.
public struct NewAccount: Sendable {
    /// The new user.
    public var user: User
    /// The bcrypt hash of the user's pre-hashed password.
    public var passwordHash: String
    /// The user's personal organization, of which they become the owner.
    public var organization: Organization
    /// The organization's default project.
    public var defaultProject: Project

    /// Groups the parts of a new account.
    public init(user: User, passwordHash: String, organization: Organization, defaultProject: Project) {
        self.user = user
        self.passwordHash = passwordHash
        self.organization = organization
        self.defaultProject = defaultProject
    }
}

/// Stores users, organizations and memberships.
public protocol AccountRepository: Sendable {
    /// Writes the user, the organization, the owner membership and the default project in one
    /// transaction.
    ///
    /// - Throws: ``DomainError`` `email_taken` when the email already has an account; nothing is written then.
    func createAccount(_ account: NewAccount) async throws

    /// The user with this email and their password hash, for sign-in.
    func credentials(email: EmailAddress) async throws -> UserCredentials?

    /// The user with this id.
    func user(id: UserID) async throws -> User?

    /// Marks the user's email address confirmed at `date`, unless it already is; returns the
    /// user as stored afterwards, or `nil` when there is none.
    func confirmEmail(of user: UserID, at date: Date) async throws -> User?

    /// Replaces the user's password hash; returns whether there was such a user.
    func setPasswordHash(_ hash: String, of user: UserID) async throws -> Bool

    /// The organization with this id.
    func organization(id: OrganizationID) async throws -> Organization?

    /// Changes an organization's name; returns the changed organization, or `nil` when there is none.
    func renameOrganization(_ id: OrganizationID, to name: String) async throws -> Organization?

    /// The organizations the user belongs to, oldest membership first.
    func memberships(of user: UserID) async throws -> [Membership]

    /// The members of an organization, oldest first.
    func members(of organization: OrganizationID) async throws -> [OrganizationMember]
}

/// Stores sessions by the digest of their token.
public protocol SessionRepository: Sendable {
    /// Stores a new session under the digest of its token.
    func create(_ session: Session, tokenDigest: String) async throws

    /// The session whose token has this digest, revoked or expired ones included.
    func session(tokenDigest: String) async throws -> Session?

    /// Records use of the session, but only if the last record is older than `staleBefore`,
    /// so an active session costs one write a minute rather than one a request.
    func touch(_ id: SessionID, at now: Date, ifLastSeenBefore staleBefore: Date) async throws

    /// Ends the session.
    func revoke(_ id: SessionID, at now: Date) async throws

    /// The user's sessions that are live at `now`: not revoked, expiring after `now` and last
    /// seen after `lastSeenAfter`; newest first, at most `limit`.
    func liveSessions(of user: UserID, at now: Date, lastSeenAfter: Date, limit: Int) async throws -> [Session]

    /// Ends the session `id` if it belongs to `user` and is not ended yet; returns whether it did.
    func revoke(_ id: SessionID, of user: UserID, at now: Date) async throws -> Bool

    /// Ends every session of `user` not ended yet, except `kept`; returns the ids it ended.
    func revokeAll(of user: UserID, except kept: SessionID?, at now: Date) async throws -> [SessionID]

    /// Notes that the person proved it was them on the session at `now`.
    func reauthenticate(_ id: SessionID, at now: Date) async throws
}

/// Fixed-window counters kept in storage, so limits hold across restarts and instances.
public protocol RateCounterRepository: Sendable {
    /// Adds `amount` to the counter of `bucket` for the window starting at `windowStart`
    /// and returns the new total, atomically.
    func add(_ amount: Int, bucket: String, windowStart: Date, expiresAt: Date) async throws -> Int

    /// The current total of a window; 0 when it has no counter.
    func count(bucket: String, windowStart: Date) async throws -> Int

    /// Deletes counters whose windows ended before `date`.
    func purge(expiredBefore date: Date) async throws
}
