import Foundation

/// Passwords: a reset by a link mailed to the address (which ends every session), and a change
/// by a signed-in person who knows the current one (which ends their other sessions).
extension AccountService {
    /// Mails a password-reset link to `email` when an account uses it. The answer is the same
    /// whether or not one does; only a malformed address or a spent budget is refused.
    ///
    /// - Throws: ``DomainError`` `invalid_email`, or `too_many_email_requests` (429) past one a
    ///   minute and five a day for the address typed, or 20 an hour from the client address.
    public func requestPasswordReset(email rawEmail: String, clientAddress: String?) async throws {
        let email = try EmailAddress(normalizing: rawEmail)
        let now = clock.now()
        // Counted for any address, with or without an account, under its digest.
        var buckets = EmailSendThrottle.buckets(
            "email:reset:\(Digest.sha256Hex(email.value))", settings.emailLimitsPerAccount)
        if let clientAddress {
            buckets.append(("email:reset:address:\(clientAddress)", settings.passwordResetLimitPerClientAddress))
        }
        let reservation = try await emailThrottle.reserve(buckets, now: now)
        guard let user = try await accounts.credentials(email: email)?.user else { return }
        do {
            let token = try await issueToken(.passwordReset, for: user.id, at: wholeMilliseconds(now))
            try await mail.sender.send(
                AccountEmails.passwordReset(to: user.email, link: mail.link("/reset-password", token: token)))
        } catch {
            mail.logFailure("password reset", to: user.id, error)
            try? await emailThrottle.release(reservation)
        }
    }

    /// Sets a new password with a reset link's token, once: every session of the person ends,
    /// and their address counts as confirmed (the link reached them there). Records
    /// `user.password_reset`.
    ///
    /// - Throws: ``DomainError`` `weak_password` or `invalid_value` naming `password` (the token
    ///   is left unused then), `invalid_token` naming `token`.
    public func resetPassword(token raw: String, password: String, clientAddress: String?) async throws -> User {
        try checkPasswordStrength(password, field: "password")
        let now = wholeMilliseconds(clock.now())
        guard let userID = try await consume(raw, purpose: .passwordReset, at: now) else {
            throw Self.invalidLink(.passwordReset)
        }
        let hash = try await hasher.hash(password)
        guard try await accounts.setPasswordHash(hash, of: userID),
            let user = try await accounts.confirmEmail(of: userID, at: now)
        else { throw Self.invalidLink(.passwordReset) }
        let ended = try await sessions.revokeAll(of: userID, except: nil, at: now)
        try await record(
            .userPasswordReset, user: user, clientAddress: clientAddress, now: now,
            details: ["sessions_ended": String(ended.count)])
        return user
    }

    /// Changes the signed-in person's password, once they give the current one; their other
    /// sessions end, this one goes on, and a notice is mailed. Records `user.password_changed`.
    ///
    /// A wrong current password counts against the sign-in throttle, as a failed sign-in does.
    ///
    /// - Throws: ``DomainError`` `weak_password` or `invalid_value` naming `new_password`,
    ///   `invalid_credentials` (400) naming `current_password`, `too_many_login_attempts` (429).
    public func changePassword(
        current: String, new: String, session: Session, user: User, clientAddress: String?
    ) async throws -> User {
        try checkPasswordStrength(new, field: "new_password")
        let now = clock.now()
        try await checkPassword(current, of: user, field: "current_password", clientAddress: clientAddress)
        let hash = try await hasher.hash(new)
        _ = try await accounts.setPasswordHash(hash, of: user.id)
        let ended = try await sessions.revokeAll(of: user.id, except: session.id, at: wholeMilliseconds(now))
        try await record(
            .userPasswordChanged, user: user, clientAddress: clientAddress, now: now,
            details: ["sessions_ended": String(ended.count)])
        do {
            try await mail.sender.send(
                AccountEmails.passwordChanged(to: user.email, resetLink: mail.linkBaseURL + "/forgot-password"))
        } catch {
            mail.logFailure("password changed", to: user.id, error)
        }
        return user
    }
}
