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
        case .cannotArchiveDefaultProject:
            return "The default project cannot be archived. Archive another project instead."
        case .projectArchived:
            return "This project is archived and can no longer be changed."
        case .unknownCursor:
            return "That page of the list is no longer there. Start again from the first page."
        case .missingRequiredParameter where refusal.param == "name":
            return "Enter a name."
        case .invalidValue where refusal.param == "name":
            return "Use a name of at most 256 characters, without control characters."
        default:
            return refusal.message
        }
    }

    // MARK: Settings: what the pages check themselves

    /// A requests or tokens per minute limit that is not a whole number in range.
    static let perMinuteLimit =
        "Enter a whole number from 1 to 1000000000000, or leave the field empty to use the tier's limit."
    /// A day that is not `YYYY-MM-DD` from 1970 through 9999.
    static let day = "Enter a date as YYYY-MM-DD, from 1970 through 9999."
    /// A To day before the From day.
    static let dayOrder = "The To date must be on or after the From date."
    /// An audit event type that is not in the list.
    static let eventType = "Choose an event type from the list."
}
