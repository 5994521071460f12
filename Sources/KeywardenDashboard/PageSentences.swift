import KeywardenCore

/// The one place refusals become the sentences pages show. Most refusals already say in words
/// what to do next; the ones written for API callers (naming headers, fields or endpoints) are
/// said again here for a person at a form.
enum PageSentences {
    static func sentence(for refusal: DomainError) -> String {
        switch refusal.code {
        case .invalidCredentials:
            return "That email address and password do not match an account. Check both and try again."
        case .emailTaken:
            return "An account with this email address already exists. Log in instead."
        case .phoneVerificationRequired:
            return "Verify a phone number for this organization before creating API keys."
        case .insufficientPermissions:
            return "Only owners of this organization can do that. Ask an owner."
        default:
            return refusal.message
        }
    }
}
