import Foundation

/// Two-factor authentication: enrolment of an authenticator app confirmed by a code, recovery
/// codes, the second step of sign-in, and the step-up asked before sensitive actions.
///
/// A code is accepted within one step either side of now and never twice (the last used step
/// is kept); recovery codes are single use. Wrong codes count against
/// ``AccountSettings/secondFactorLimitPerAccount``, whatever they were typed for.
extension AccountService {
    // MARK: Status and enrolment

    /// Where the person stands.
    public func twoFactorStatus(of user: User) async throws -> TwoFactorStatus {
        let credential = try await twoFactor.repository.credential(of: user.id)
        let enabled = credential?.confirmedAt != nil
        return TwoFactorStatus(
            enabled: enabled, enabledAt: credential?.confirmedAt,
            unusedRecoveryCodes: enabled ? try await twoFactor.repository.unusedRecoveryCodes(of: user.id) : 0,
            enrolmentPending: credential != nil && !enabled)
    }

    /// Begins setting up an authenticator app with a new secret, replacing one begun earlier.
    /// Needs a recent sign-in.
    ///
    /// - Throws: ``DomainError`` `reauthentication_required` (403), `mfa_already_enabled` (409).
    public func beginTwoFactorEnrolment(for user: User, session: Session?) async throws -> TwoFactorEnrolment {
        try requireRecentSignIn(session)
        let secret = TOTPSecret.generate()
        let credential = TOTPCredential(
            userID: user.id, sealedSecret: try twoFactor.sealer.seal(secret, for: user.id),
            createdAt: wholeMilliseconds(clock.now()))
        guard try await twoFactor.repository.savePending(credential) else { throw Self.alreadyEnabled }
        return enrolment(secret, for: user)
    }

    /// The enrolment begun and not yet confirmed, to show again; `nil` when there is none.
    public func pendingTwoFactorEnrolment(for user: User) async throws -> TwoFactorEnrolment? {
        guard let credential = try await twoFactor.repository.credential(of: user.id), credential.confirmedAt == nil
        else { return nil }
        return enrolment(try twoFactor.sealer.open(credential.sealedSecret, for: user.id), for: user)
    }

    /// Turns two-factor authentication on with a first code from the app; answers the ten
    /// recovery codes, shown this once. Records `mfa.enabled`.
    ///
    /// - Throws: ``DomainError`` `incorrect_code` naming `code`, `too_many_mfa_attempts` (429),
    ///   `mfa_already_enabled` (409), `mfa_not_enabled` (409) when no enrolment was begun.
    public func confirmTwoFactor(code typed: String, for user: User, clientAddress: String?) async throws -> [String] {
        let now = wholeMilliseconds(clock.now())
        guard let credential = try await twoFactor.repository.credential(of: user.id) else {
            throw DomainError(
                .conflict, code: .mfaNotEnabled,
                message: "Begin setting up an authenticator app first (POST /v1/me/mfa/totp).")
        }
        guard credential.confirmedAt == nil else { throw Self.alreadyEnabled }
        let reservation = try await reserveGuess(for: user, now: now)
        let secret = try twoFactor.sealer.open(credential.sealedSecret, for: user.id)
        guard let code = TOTPSecret.normalizedCode(typed), let step = secret.matchingStep(code, at: now) else {
            try await recordFailure(user, purpose: "enrolment", clientAddress: clientAddress, now: now)
            throw Self.incorrectCode
        }
        let codes = RecoveryCodes.generate()
        guard
            try await twoFactor.repository.confirm(
                user: user.id, pendingCreatedAt: credential.createdAt, at: now, step: step,
                recoveryCodeDigests: digests(codes))
        else { throw Self.alreadyEnabled }
        try await throttleRelease(reservation)
        try await record(.mfaEnabled, user: user, clientAddress: clientAddress, now: now)
        return codes
    }

    /// Turns two-factor authentication off, with a current code or a recovery code and a recent
    /// sign-in. Records `mfa.disabled`.
    ///
    /// - Throws: ``DomainError`` `reauthentication_required` (403), `mfa_not_enabled` (409),
    ///   `incorrect_code` naming `code`, `too_many_mfa_attempts` (429).
    public func disableTwoFactor(
        code: String, for user: User, session: Session?, clientAddress: String?
    ) async throws {
        try requireRecentSignIn(session)
        let now = wholeMilliseconds(clock.now())
        try await requireSecondFactor(code, of: user, purpose: "disable", clientAddress: clientAddress, now: now)
        guard try await twoFactor.repository.remove(of: user.id) else { throw Self.notEnabled }
        try await record(.mfaDisabled, user: user, clientAddress: clientAddress, now: now)
    }

    /// Ten new recovery codes, shown this once; the old ones stop working. Needs a recent
    /// sign-in. Records `mfa.recovery_codes_regenerated`.
    ///
    /// - Throws: ``DomainError`` `reauthentication_required` (403), `mfa_not_enabled` (409).
    public func regenerateRecoveryCodes(
        for user: User, session: Session?, clientAddress: String?
    ) async throws -> [String] {
        try requireRecentSignIn(session)
        let now = wholeMilliseconds(clock.now())
        let codes = RecoveryCodes.generate()
        guard try await twoFactor.repository.replaceRecoveryCodes(of: user.id, with: digests(codes), at: now) else {
            throw Self.notEnabled
        }
        try await record(.mfaRecoveryCodesRegenerated, user: user, clientAddress: clientAddress, now: now)
        return codes
    }

    // MARK: Sign-in

    /// Finishes a sign-in with the challenge the password earned and a code from the app or a
    /// recovery code: a session starts and the challenge is used up. Records `login.succeeded`
    /// with the `method`.
    ///
    /// - Throws: ``DomainError`` `invalid_token` (401) naming `challenge` for an unknown, used
    ///   or expired challenge; `incorrect_code` naming `code` (the challenge still works);
    ///   `too_many_mfa_attempts` (429).
    public func completeLogIn(
        challenge raw: String, code: String, clientAddress: String?, userAgent: String? = nil
    ) async throws -> (User, SessionToken) {
        let now = wholeMilliseconds(clock.now())
        let presented = raw.trimmingWhitespace()
        guard !presented.isEmpty, presented.utf8.count <= AccountToken.maximumLength,
            let userID = try await tokens.holder(
                digest: AccountToken(value: presented).digest, purpose: .mfaChallenge, at: now),
            let user = try await accounts.user(id: userID)
        else { throw Self.challengeExpired }
        let method = try await requireSecondFactor(
            code, of: user, purpose: "login", clientAddress: clientAddress, now: now)
        guard try await consume(presented, purpose: .mfaChallenge, at: now) == userID else {
            throw Self.challengeExpired
        }
        let token = try await startSession(for: user.id, at: now, clientAddress: clientAddress, userAgent: userAgent)
        try await record(
            .loginSucceeded, user: user, clientAddress: clientAddress, now: now, details: ["method": method.rawValue])
        return (user, token)
    }

    /// A challenge for a person whose password was right.
    func issueChallenge(for user: User, at now: Date) async throws -> SecondFactorChallenge {
        let token = try await issueToken(.mfaChallenge, for: user.id, at: now)
        return SecondFactorChallenge(
            token: token.value, expiresAt: now.addingTimeInterval(AccountToken.Purpose.mfaChallenge.lifetime))
    }

    // MARK: Step-up

    /// Refuses a session whose last sign-in (or password or code entered again) is older than
    /// ``AccountSettings/stepUpWindow``. Admin keys, which have no session, pass.
    ///
    /// - Throws: ``DomainError`` `reauthentication_required` (403).
    public func requireRecentSignIn(_ session: Session?) throws {
        guard let session else { return }
        guard session.authenticatedAt.addingTimeInterval(settings.stepUpWindow) <= clock.now() else { return }
        let minutes = max(1, Int(settings.stepUpWindow / 60))
        throw DomainError(
            .forbidden, code: .reauthenticationRequired,
            message:
                "Confirm it's you first: this needs a sign-in in the last \(minutes) minutes. Enter your password "
                + "or an authentication code with POST /v1/auth/reauthenticate, then try again.")
    }

    /// When the session's step-up ends.
    public func stepUpEnds(for session: Session) -> Date {
        session.authenticatedAt.addingTimeInterval(settings.stepUpWindow)
    }

    /// Confirms it is the person on `session`, with their password or, when two-factor
    /// authentication is on, a code; sensitive actions are then allowed for
    /// ``AccountSettings/stepUpWindow``. Records `session.reauthenticated`; answers when the
    /// session was confirmed.
    ///
    /// - Throws: ``DomainError`` `missing_required_parameter` naming `password` when neither is
    ///   given; `invalid_credentials` (400) naming `password`; `too_many_login_attempts` (429);
    ///   `incorrect_code` naming `code`; `mfa_not_enabled` (409) for a code without 2FA.
    public func reauthenticate(
        session: Session, user: User, password: String?, code: String?, clientAddress: String?
    ) async throws -> Date {
        let now = wholeMilliseconds(clock.now())
        let method: String
        if let password, !password.isEmpty {
            try await checkPassword(password, of: user, field: "password", clientAddress: clientAddress)
            method = "password"
        } else if let code, !code.trimmingWhitespace().isEmpty {
            guard try await twoFactor.repository.credential(of: user.id)?.confirmedAt != nil else {
                throw DomainError(
                    .conflict, code: .mfaNotEnabled,
                    message: "Two-factor authentication is off for your account: confirm with your password.",
                    param: "code")
            }
            method = try await requireSecondFactor(
                code, of: user, purpose: "reauthentication", clientAddress: clientAddress, now: now
            ).rawValue
        } else {
            throw DomainError.missingField("password")
        }
        try await sessions.reauthenticate(session.id, at: now)
        try await record(
            .sessionReauthenticated, user: user, clientAddress: clientAddress, now: now, details: ["method": method])
        return now
    }

    /// Checks the person's password, counting a wrong one against the sign-in throttle.
    ///
    /// - Throws: ``DomainError`` `invalid_credentials` (400) naming `field`, `too_many_login_attempts` (429).
    func checkPassword(_ password: String, of user: User, field: String, clientAddress: String?) async throws {
        let attempt = try await throttle.reserve(email: user.email, clientAddress: clientAddress, now: clock.now())
        guard password.unicodeScalars.count <= settings.maximumPasswordLength,
            let credentials = try await accounts.credentials(email: user.email), credentials.user.id == user.id,
            try await hasher.verify(password, credentials.passwordHash)
        else {
            throw DomainError(
                .invalidRequest, code: .invalidCredentials,
                message: "That password is not right. Type it again; nothing was changed.", param: field)
        }
        try await throttle.release(attempt)
    }

    // MARK: Codes

    /// Accepts a current code from the app (one not used before) or an unused recovery code.
    ///
    /// - Throws: ``DomainError`` `mfa_not_enabled` (409), `incorrect_code` naming `code`,
    ///   `too_many_mfa_attempts` (429).
    @discardableResult
    func requireSecondFactor(
        _ typed: String, of user: User, purpose: String, clientAddress: String?, now: Date
    ) async throws -> SecondFactorMethod {
        guard let credential = try await twoFactor.repository.credential(of: user.id), credential.confirmedAt != nil
        else { throw Self.notEnabled }
        let reservation = try await reserveGuess(for: user, now: now)
        if let code = TOTPSecret.normalizedCode(typed) {
            let secret = try twoFactor.sealer.open(credential.sealedSecret, for: user.id)
            if let step = secret.matchingStep(code, at: now), try await twoFactor.repository.useStep(step, of: user.id)
            {
                try await throttleRelease(reservation)
                return .totp
            }
        } else if let recovery = RecoveryCodes.normalized(typed),
            try await twoFactor.repository.useRecoveryCode(
                digest: twoFactor.digester.digest(recovery), of: user.id, at: now)
        {
            try await throttleRelease(reservation)
            let remaining = try await twoFactor.repository.unusedRecoveryCodes(of: user.id)
            try await record(
                .mfaRecoveryCodeUsed, user: user, clientAddress: clientAddress, now: now,
                details: ["remaining": String(remaining), "purpose": purpose])
            return .recoveryCode
        }
        try await recordFailure(user, purpose: purpose, clientAddress: clientAddress, now: now)
        throw Self.incorrectCode
    }

    private func reserveGuess(for user: User, now: Date) async throws -> WindowedAllowance.Reservation {
        let limit = settings.secondFactorLimitPerAccount
        switch try await WindowedAllowance(counters: counters).reserve([("mfa:\(user.id.rawValue)", limit)], now: now) {
        case .reserved(let reservation):
            return reservation
        case .refused(let wait):
            throw DomainError(
                .rateLimited, code: .tooManyMfaAttempts,
                message: "Too many wrong codes. Try again in \(wait) seconds.", retryAfterSeconds: wait)
        }
    }

    private func throttleRelease(_ reservation: WindowedAllowance.Reservation) async throws {
        try await WindowedAllowance(counters: counters).release(reservation)
    }

    private func recordFailure(_ user: User, purpose: String, clientAddress: String?, now: Date) async throws {
        try await record(.mfaFailed, user: user, clientAddress: clientAddress, now: now, details: ["purpose": purpose])
    }

    private func digests(_ codes: [String]) -> [String] {
        codes.compactMap(RecoveryCodes.normalized).map(twoFactor.digester.digest)
    }

    private func enrolment(_ secret: TOTPSecret, for user: User) -> TwoFactorEnrolment {
        TwoFactorEnrolment(
            setupKey: secret.setupKey, authenticatorURL: secret.authenticatorURL(account: user.email.value))
    }

    static let incorrectCode = DomainError(
        .invalidRequest, code: .incorrectCode,
        message: "That code is not right. Enter the current 6-digit code from your authenticator app, "
            + "or one of your recovery codes.",
        param: "code")

    static let alreadyEnabled = DomainError(
        .conflict, code: .mfaAlreadyEnabled,
        message: "Two-factor authentication is already on. To set up another app, turn it off first.")

    static let notEnabled = DomainError(
        .conflict, code: .mfaNotEnabled, message: "Two-factor authentication is off for your account.")

    static let challengeExpired = DomainError(
        .unauthenticated, code: .invalidToken,
        message: "This sign-in has expired or was already finished. Log in again with your password.",
        param: "challenge")
}
