/// The rule that a person confirms their email address before they verify a phone number or make
/// API keys (`require_email_confirmation`). Keys acting with keys are never asked.
public struct EmailConfirmationRule: Sendable {
    /// Whether the rule applies; off, nothing is refused.
    public var isRequired: Bool

    /// Creates the rule.
    public init(isRequired: Bool) {
        self.isRequired = isRequired
    }

    /// The rule switched off.
    public static let notRequired = EmailConfirmationRule(isRequired: false)

    /// Refuses with `email_not_confirmed` (403) while the rule applies and `user` has not
    /// confirmed their address.
    public func check(_ user: User) throws {
        guard isRequired, !user.isEmailConfirmed else { return }
        throw Self.notConfirmed(user)
    }

    /// The refusal, saying what to do.
    public static func notConfirmed(_ user: User) -> DomainError {
        DomainError(
            .forbidden, code: .emailNotConfirmed,
            message:
                "Confirm your email address first: open the link we sent to \(user.email.value), or ask for a new one with POST /v1/auth/email/confirmation."
        )
    }
}
