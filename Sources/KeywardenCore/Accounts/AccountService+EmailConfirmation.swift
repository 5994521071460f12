import Foundation

/// Email confirmation: the link mailed at sign-up, asking for it again (throttled), and using it.
extension AccountService {
    /// Mails `user` a new confirmation link (ending any older one), or throws what stopped it.
    func mailConfirmation(to user: User, at now: Date) async throws {
        let token = try await issueToken(.emailConfirmation, for: user.id, at: now)
        try await mail.sender.send(
            AccountEmails.confirmation(to: user.email, link: mail.link("/confirm-email", token: token)))
    }

    /// The sign-up's confirmation email: a failure is logged, never passed on.
    func mailConfirmationAfterSignUp(to user: User, at now: Date) async {
        do {
            try await mailConfirmation(to: user, at: now)
        } catch {
            mail.logFailure("confirmation", to: user.id, error)
        }
    }

    /// Mails the signed-in `user` a new confirmation link, which ends the older ones.
    ///
    /// - Throws: ``DomainError`` `email_already_confirmed` (409) for a confirmed address,
    ///   `too_many_email_requests` (429) past one a minute or five a day, `email_provider_unavailable` (503)
    ///   when the email could not be sent (it does not count then).
    public func resendConfirmation(to user: User) async throws {
        guard !user.isEmailConfirmed else {
            throw DomainError(
                .conflict, code: .emailAlreadyConfirmed,
                message: "Your email address \(user.email.value) is already confirmed. Nothing was sent.")
        }
        let now = clock.now()
        let reservation = try await emailThrottle.reserve(
            EmailSendThrottle.buckets("email:confirmation:\(user.id.rawValue)", settings.emailLimitsPerAccount),
            now: now)
        do {
            try await mailConfirmation(to: user, at: wholeMilliseconds(now))
        } catch {
            mail.logFailure("confirmation", to: user.id, error)
            try? await emailThrottle.release(reservation)
            throw DomainError.emailProviderUnavailable
        }
    }

    /// Confirms the address the token was mailed to, once; records `user.email_confirmed`.
    ///
    /// - Throws: ``DomainError`` `invalid_token` (400, naming `token`) for a token that is unknown,
    ///   used, expired, or replaced by a newer one.
    public func confirmEmail(token raw: String, clientAddress: String?) async throws -> User {
        let now = wholeMilliseconds(clock.now())
        guard let userID = try await consume(raw, purpose: .emailConfirmation, at: now),
            let user = try await accounts.confirmEmail(of: userID, at: now)
        else { throw Self.invalidLink(.emailConfirmation) }
        try await record(.userEmailConfirmed, user: user, clientAddress: clientAddress, now: now)
        return user
    }

    // MARK: Tokens

    /// Stores a new token of `purpose` for `user`, ending their older unused ones, and returns
    /// its value, which only the email will carry.
    func issueToken(_ purpose: AccountToken.Purpose, for user: UserID, at now: Date) async throws -> AccountToken {
        let token = AccountToken.generate()
        try await tokens.issue(
            StoredAccountToken(
                digest: token.digest, purpose: purpose, userID: user, createdAt: now,
                expiresAt: now.addingTimeInterval(purpose.lifetime)))
        return token
    }

    /// Uses a presented token of `purpose`; the user it was for, or `nil`.
    func consume(_ raw: String, purpose: AccountToken.Purpose, at now: Date) async throws -> UserID? {
        let presented = raw.trimmingWhitespace()
        guard !presented.isEmpty, presented.utf8.count <= AccountToken.maximumLength else { return nil }
        return try await tokens.consume(digest: AccountToken(value: presented).digest, purpose: purpose, at: now)
    }

    /// The refusal of a link that does not work (any more), saying how to get a new one.
    static func invalidLink(_ purpose: AccountToken.Purpose) -> DomainError {
        let next =
            switch purpose {
            case .emailConfirmation: "Sign in and ask for a new confirmation link."
            case .passwordReset: "Ask for a new one on the Forgot your password? page."
            case .mfaChallenge: "Log in again with your password."
            }
        return DomainError(
            .invalidRequest, code: .invalidToken,
            message: "This link has expired, has been used already, or a newer one was sent. \(next)",
            param: "token")
    }
}
