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
        case .missingRequiredParameter where refusal.param == "name":
            return "Enter a name."
        case .invalidValue where refusal.param == "name":
            return "Use a name of at most 256 characters, on one line."
        case .invalidValue where refusal.param == "scopes":
            return "Choose Read or Write for at least one group of resources, or choose All or Read only."
        case .projectNotFound:
            return "Choose one of this organization's projects."
        case .projectArchived:
            return "This project is archived, so its keys can no longer change."
        case .apiKeyNotActive:
            return "This key has been revoked or has expired, so it cannot be rotated. Create a new key instead."
        default:
            return refusal.message
        }
    }
}

/// Sentences for what the API keys pages check themselves, before any service is asked.
extension PageSentences {
    static let serviceAccountKeyPermissions =
        "A service account's key has all permissions. Choose All, or make the key owned by you."
    static let unknownKeyOwner = "Choose who owns the key: you or a service account."
    static let unknownKeyPermissions = "Choose All, Restricted or Read only."
    static let unknownScopeLevel = "Choose None, Read or Write for each group of resources."
    static let unknownGracePeriod =
        "Choose how long the old key keeps working: revoke it now, or after 1 hour, 24 hours or 7 days."
}
