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

extension PageSentences {
    /// The usage page's filters: each sentence says what was wrong and what is shown instead.
    enum Usage {
        static let malformedDay =
            "Enter the date as year, month and day, such as 2025-06-15. The last 7 days are shown instead."
        static let dayOutOfRange =
            "Choose a day that exists, from 1970-01-01 to 9999-12-31. The last 7 days are shown instead."
        static let toBeforeFrom = "The To date must be on or after the From date. The last 7 days are shown instead."
        static let rangeTooLong = "Choose a range of at most 366 days. The last 7 days are shown instead."
        static let unknownProject =
            "That project is not an active project of this organization, so usage of all projects is shown."
        static let unknownKey = "That API key is not one of the keys listed here, so usage of all keys is shown."
    }
}
