import Foundation

/// Settings for accounts and sessions.
public struct AccountSettings: Sendable {
    /// The shortest password accepted.
    public var minimumPasswordLength = 10
    /// The longest password accepted, to bound hashing work.
    public var maximumPasswordLength = 1024
    /// The longest display name accepted.
    public var maximumNameLength = 256
    /// A session unused for this long ends.
    public var sessionIdleTimeout: TimeInterval = 7 * 24 * 3600
    /// A session ends this long after sign-in, however active.
    public var sessionLifetime: TimeInterval = 30 * 24 * 3600
    /// How stale `last_seen_at` may get before a request records use again.
    public var sessionTouchInterval: TimeInterval = 60
    /// Failed sign-ins allowed per email address.
    public var loginLimitPerAccount = FixedWindowLimit(limit: 10, window: 900)
    /// Failed sign-ins allowed per client address.
    public var loginLimitPerClientAddress = FixedWindowLimit(limit: 50, window: 900)
    /// Sign-ups allowed per client address.
    public var signUpLimitPerClientAddress = FixedWindowLimit(limit: 5, window: 3600)
    /// Email domains sign-up refuses.
    public var refusedEmailDomains = RefusedEmailDomains.none
    /// Confirmation links asked for again, and password-reset links, allowed per account (or
    /// address typed) in each window: one a minute and five a day.
    public var emailLimitsPerAccount = [
        FixedWindowLimit(limit: 1, window: 60), FixedWindowLimit(limit: 5, window: 86_400),
    ]
    /// Password-reset links asked for per client address.
    public var passwordResetLimitPerClientAddress = FixedWindowLimit(limit: 20, window: 3600)
    /// Wrong second-factor codes allowed per person in each window (sign-in, enrolment,
    /// step-up and turning 2FA off share it).
    public var secondFactorLimitPerAccount = FixedWindowLimit(limit: 5, window: 300)
    /// How recent a sign-in (or a password or code entered again) must be for creating or
    /// rotating keys, changing two-factor settings and inviting owners (`step_up_window`).
    public var stepUpWindow: TimeInterval = 600

    /// The defaults.
    public init() {}
}

/// What sign-up creates and hands back.
public struct SignUpResult: Sendable {
    /// The new user.
    public var user: User
    /// Their personal organization.
    public var organization: Organization
    /// Its default project.
    public var defaultProject: Project
    /// A session token for the new user, shown once.
    public var token: SessionToken
}

/// How a sign-in with the right password ends.
public enum LogInOutcome: Sendable {
    /// Signed in: the user and their new session's token.
    case signedIn(User, SessionToken)
    /// Two-factor authentication is on: a code must follow, with this challenge.
    case secondFactorRequired(SecondFactorChallenge)

    /// The user and token of a finished sign-in; `nil` when a code must follow.
    public var session: (user: User, token: SessionToken)? {
        if case .signedIn(let user, let token) = self { return (user, token) }
        return nil
    }
}

/// The short-lived proof that a sign-in's password was right, traded with a code for a session.
public struct SecondFactorChallenge: Sendable {
    /// The secret text, shown once to the client that typed the password.
    public var token: String
    /// When it stops working.
    public var expiresAt: Date
}

/// A session that was checked and found live, with its user.
public struct AuthenticatedSession: Sendable {
    /// The session.
    public var session: Session
    /// Its user.
    public var user: User

    /// Pairs a session with its user.
    public init(session: Session, user: User) {
        self.session = session
        self.user = user
    }
}

/// Sign-up, sign-in, sign-out and session checks; email confirmation, passwords and the
/// sessions list live in extensions of their own.
public struct AccountService: Sendable {
    let accounts: any AccountRepository
    let sessions: any SessionRepository
    let tokens: any AccountTokenRepository
    let counters: any RateCounterRepository
    let throttle: LoginThrottle
    let signUps: SignUpThrottle
    let emailThrottle: EmailSendThrottle
    let hasher: PasswordHasher
    let clock: Clock
    let settings: AccountSettings
    let audit: any AuditLogRepository
    let mail: AccountMail
    let twoFactor: TwoFactorStore
    /// The CAPTCHA check sign-up asks for (none unless `captcha_provider` is set).
    public let humanCheck: HumanCheck

    /// Creates the service from its stores and effects.
    public init(
        accounts: any AccountRepository, sessions: any SessionRepository, tokens: any AccountTokenRepository,
        counters: any RateCounterRepository, audit: any AuditLogRepository, hasher: PasswordHasher, clock: Clock,
        settings: AccountSettings, mail: AccountMail, twoFactor: TwoFactorStore,
        humanCheck: HumanCheck = .notRequired
    ) {
        self.twoFactor = twoFactor
        self.audit = audit
        self.accounts = accounts
        self.sessions = sessions
        self.tokens = tokens
        self.counters = counters
        self.throttle = LoginThrottle(
            perAccount: settings.loginLimitPerAccount,
            perClientAddress: settings.loginLimitPerClientAddress, counters: counters)
        self.signUps = SignUpThrottle(perClientAddress: settings.signUpLimitPerClientAddress, counters: counters)
        self.emailThrottle = EmailSendThrottle(counters: counters)
        self.hasher = hasher
        self.clock = clock
        self.settings = settings
        self.mail = mail
        self.humanCheck = humanCheck
    }

    /// Creates a user, their personal organization with them as owner, its default project,
    /// and a session, and mails the link that confirms the address.
    ///
    /// What was typed is checked first; then the attempt counts against the client address's
    /// sign-up budget, before the CAPTCHA (when required), hashing or storage. A confirmation
    /// email that cannot be sent is logged and does not stop the sign-up.
    public func signUp(
        email rawEmail: String, password: String, name rawName: String?, clientAddress: String? = nil,
        userAgent: String? = nil, humanCheckResponse: String? = nil
    ) async throws
        -> SignUpResult
    {
        let email = try EmailAddress(normalizing: rawEmail)
        try settings.refusedEmailDomains.check(email)
        try checkPasswordStrength(password, field: "password")
        let name = try DisplayName.validate(rawName ?? "", field: "name", maximumLength: settings.maximumNameLength)
        try await signUps.count(clientAddress: clientAddress, now: clock.now())
        try await humanCheck.require(humanCheckResponse, clientAddress: clientAddress)
        let now = wholeMilliseconds(clock.now())
        let user = User(id: .generate(), email: email, name: name, createdAt: now)
        let organization = Organization(id: .generate(), name: "Personal", isPersonal: true, createdAt: now)
        let project = Project(
            id: .generate(), organizationID: organization.id, name: "Default project", isDefault: true,
            createdAt: now)
        let passwordHash = try await hasher.hash(password)
        try await accounts.createAccount(
            NewAccount(user: user, passwordHash: passwordHash, organization: organization, defaultProject: project))
        let token = try await startSession(for: user.id, at: now, clientAddress: clientAddress, userAgent: userAgent)
        await mailConfirmationAfterSignUp(to: user, at: now)
        return SignUpResult(user: user, organization: organization, defaultProject: project, token: token)
    }

    /// Signs a user in, or throws the one `invalid_credentials` refusal whatever was wrong.
    ///
    /// A person with two-factor authentication on gets no session yet: the outcome is a
    /// challenge, finished with a code by ``completeLogIn(challenge:code:clientAddress:userAgent:)``.
    public func logIn(
        email rawEmail: String, password: String, clientAddress: String?, userAgent: String? = nil
    ) async throws
        -> LogInOutcome
    {
        let now = clock.now()
        // A malformed email cannot have an account; it gets the same refusal as a wrong password.
        guard let email = try? EmailAddress(normalizing: rawEmail) else { throw Self.invalidCredentials }
        let attempt = try await throttle.reserve(email: email, clientAddress: clientAddress, now: now)
        guard password.unicodeScalars.count <= settings.maximumPasswordLength,
            let credentials = try await accounts.credentials(email: email)
        else {
            // Spend the same hashing work as a real check, so timing does not reveal accounts.
            _ = try await hasher.hash(String(password.prefix(settings.maximumPasswordLength)))
            throw Self.invalidCredentials
        }
        guard try await hasher.verify(password, credentials.passwordHash) else {
            try await record(
                .loginFailed, user: credentials.user, clientAddress: clientAddress, now: now,
                details: ["error_code": "invalid_credentials"])
            throw Self.invalidCredentials
        }
        try await throttle.release(attempt)
        if try await twoFactor.repository.credential(of: credentials.user.id)?.confirmedAt != nil {
            return .secondFactorRequired(try await issueChallenge(for: credentials.user, at: wholeMilliseconds(now)))
        }
        let token = try await startSession(
            for: credentials.user.id, at: wholeMilliseconds(now), clientAddress: clientAddress, userAgent: userAgent)
        try await record(.loginSucceeded, user: credentials.user, clientAddress: clientAddress, now: now)
        return .signedIn(credentials.user, token)
    }

    /// Ends a session.
    public func logOut(_ session: Session, user: User, clientAddress: String?) async throws {
        let now = clock.now()
        try await sessions.revoke(session.id, at: now)
        try await record(.logoutSucceeded, user: user, clientAddress: clientAddress, now: now)
    }

    /// Writes an account event to the audit log of each of the user's organizations.
    func record(
        _ type: AuditEventType, user: User, clientAddress: String?, now: Date, details: [String: String] = [:]
    ) async throws {
        for membership in try await accounts.memberships(of: user.id) {
            try await audit.append(
                AuditEvent(
                    organizationID: membership.organization.id, type: type, effectiveAt: now,
                    actor: .session(user, ipAddress: clientAddress), details: details))
        }
    }

    /// The live session a token names, with its user; `nil` for unknown, revoked, expired
    /// or idle tokens.
    public func authenticate(token: String) async throws -> AuthenticatedSession? {
        guard token.hasPrefix(SessionToken.prefix), token.utf8.count <= 128 else { return nil }
        let now = clock.now()
        guard let session = try await sessions.session(tokenDigest: SessionToken(value: token).digest),
            session.isLive(at: now, idleTimeout: settings.sessionIdleTimeout),
            let user = try await accounts.user(id: session.userID)
        else { return nil }
        try await sessions.touch(
            session.id, at: now, ifLastSeenBefore: now.addingTimeInterval(-settings.sessionTouchInterval))
        return AuthenticatedSession(session: session, user: user)
    }

    /// A user by id.
    public func user(_ id: UserID) async throws -> User? {
        try await accounts.user(id: id)
    }

    /// An organization by id.
    public func organization(_ id: OrganizationID) async throws -> Organization? {
        try await accounts.organization(id: id)
    }

    /// The organizations a user belongs to.
    public func memberships(of user: UserID) async throws -> [Membership] {
        try await accounts.memberships(of: user)
    }

    /// The members of an organization the caller belongs to.
    public func members(of membership: Membership) async throws -> [OrganizationMember] {
        try await accounts.members(of: membership.organization.id)
    }

    /// The one refusal for a wrong email or password.
    public static let invalidCredentials = DomainError(
        .unauthenticated, code: .invalidCredentials, message: "Incorrect email address or password.")

    /// Refuses a password that is too short (`weak_password`) or too long, naming `field`.
    func checkPasswordStrength(_ password: String, field: String) throws {
        if password.unicodeScalars.count < settings.minimumPasswordLength {
            throw DomainError(
                .invalidRequest, code: .weakPassword,
                message: "Choose a password of at least \(settings.minimumPasswordLength) characters.",
                param: field)
        }
        if password.unicodeScalars.count > settings.maximumPasswordLength {
            throw DomainError(
                .invalidRequest, code: .invalidValue,
                message: "Choose a password of at most \(settings.maximumPasswordLength) characters.",
                param: field)
        }
    }

    /// Starts a session for `user`, noting where it was started from.
    func startSession(
        for user: UserID, at now: Date, clientAddress: String?, userAgent: String?
    ) async throws -> SessionToken {
        let token = SessionToken.generate()
        let session = Session(
            id: .generate(), userID: user, createdAt: now, lastSeenAt: now,
            expiresAt: now.addingTimeInterval(settings.sessionLifetime), ipAddress: clientAddress,
            userAgent: Session.userAgentSummary(userAgent), authenticatedAt: now)
        try await sessions.create(session, tokenDigest: token.digest)
        return token
    }
}

/// Times are stored in whole milliseconds; values handed back match what a later read returns.
func wholeMilliseconds(_ date: Date) -> Date {
    Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
}
