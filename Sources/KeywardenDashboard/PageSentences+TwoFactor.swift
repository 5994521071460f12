import KeywardenCore

/// Sentences of the two-factor pages: the sign-in code step, the Security page's section and
/// "Confirm it's you".
extension PageSentences {
    /// The code step was opened without a challenge that still works.
    static let signInExpired = "Your sign-in expired. Log in again."
    /// "Confirm it's you" sent with neither field filled in, when only a password confirms.
    static let enterPassword = "Enter your password."
    /// "Confirm it's you" sent with neither field filled in, when a code confirms too.
    static let enterPasswordOrCode = "Enter your password, or an authentication code."

    /// A refusal of an authentication code or recovery code. `incorrect_code` is worded here
    /// rather than in ``sentence(for:)``, where it is about the code of a text message.
    static func authenticationCodeSentence(for refusal: DomainError) -> String {
        switch refusal.code {
        case .incorrectCode:
            return "That code is not right. Enter the current 6-digit code from your authenticator app, "
                + "or one of your recovery codes."
        case .missingRequiredParameter:
            return "Enter the 6-digit code from your authenticator app, or one of your recovery codes."
        default:
            return sentence(for: refusal)
        }
    }
}
