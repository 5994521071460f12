import KeywardenCore

/// The one place refusals become the sentences pages show. Most refusals already say in words
/// what to do next; the ones written for API callers (naming headers, fields or endpoints) are
/// said again here for a person at a form.
enum PageSentences {
    static func sentence(for refusal: DomainError) -> String {
        switch refusal.code {
        case .invalidCredentials where refusal.param == "current_password":
            return "That is not your current password. Type it again; nothing was changed."
        case .invalidCredentials where refusal.param == "password":
            // Asked by "Confirm it's you"; a failed log-in names no field.
            return "That password is not right. Type it again."
        case .invalidCredentials:
            return "That email address and password do not match an account. Check both and try again."
        case .emailTaken:
            return "An account with this email address already exists. Log in instead."
        case .phoneVerificationRequired:
            return "Verify a phone number for this organization before creating API keys."
        case .insufficientPermissions where refusal.param == "project_id":
            return "Your role in this project does not allow that. Ask an owner of the project or of the organization."
        case .insufficientPermissions:
            return "Only owners of this organization can do that. Ask an owner."
        // Teams: members, invites and organizations.
        case .lastOwner:
            return "An organization needs at least one owner. Make another member an owner first."
        case .alreadyMember where refusal.param == "email":
            return "This person is already a member of this organization."
        case .alreadyMember where refusal.param == "token":
            return "You already belong to this organization. Choose it in the organization menu."
        case .alreadyMember:
            return "This person is already a member of this project. Change their role instead."
        case .userNotFound:
            return "That person is not a member here any more. Reload the page."
        case .inviteNotFound:
            return "This invite link no longer works: it was revoked or sent again with a new link. "
                + "Ask an owner of the organization for a new invite."
        case .inviteExpired:
            return "This invite has expired. Ask an owner of the organization to send it again."
        case .inviteNotPending:
            return "This invite has already been accepted."
        case .emailProviderUnavailable:
            return "We could not send the email just now. Nothing was sent; try again in a minute."
        case .invalidEmail:
            return "Enter an email address of the form name@example.com."
        // Phone verification: each refusal says what to do next.
        case .invalidPhoneNumber:
            return "This is not a phone number we can send a code to. Check the digits and the country, "
                + "or type the number with its country code, such as +1 201 555 0123."
        case .unsupportedCountry:
            return "Phone numbers from this country cannot be verified on this Keywarden. "
                + "Use a mobile number from a country in the list."
        case .phoneLineTypeNotAllowed:
            // The engine names the kind of line and asks for a mobile number.
            return refusal.message + " If you have no mobile number, contact the operator of this Keywarden."
        case .phoneNumberLimitReached:
            return "This phone number already verifies as many organizations as one number may. "
                + "Use another mobile number."
        case .tooManyVerificationRequests:
            return "Too many codes were asked for in a short time. Try again "
                + (refusal.retryAfterSeconds.map { "in " + duration(seconds: $0) } ?? "later") + "."
        case .resendTooSoon:
            return "A code was sent moments ago. You can ask for another "
                + (refusal.retryAfterSeconds.map { "in " + duration(seconds: $0) } ?? "in a moment") + "."
        case .incorrectCode:
            return "That code is not right. Check the text message and try again."
        case .maxAttemptsReached:
            return "Too many wrong codes were entered. Send a new code to start again."
        case .verificationExpired:
            return "This code has expired. Send a new code."
        case .verificationNotPending:
            return "This code can no longer be used. Send a new code to start again."
        case .verificationNotFound:
            return "This code was not sent for this organization. Send a new code."
        case .smsProviderUnavailable:
            return "We could not send the code just now. Nothing was used up; try again in a minute."
        case .missingRequiredParameter where refusal.param == "phone_number":
            return "Enter your phone number."
        case .invalidValue where refusal.param == "country":
            return "Choose a country from the list."
        case .missingRequiredParameter where refusal.param == "name":
            return "Enter a name."
        case .invalidValue where refusal.param == "name":
            return "Use a name of at most 256 characters, on one line, without control characters."
        case .invalidValue where refusal.param == "scopes":
            return "Choose Read or Write for at least one group of resources, or choose All or Read only."
        case .projectNotFound:
            return "Choose one of this organization's projects."
        case .projectArchived:
            return "This project is archived, so it and its keys can no longer change."
        case .apiKeyNotActive:
            return "This key has been revoked or has expired, so it can no longer be rotated, changed or enabled. "
                + "Create a new key instead."
        case .apiKeyDisabled:
            return "This key is disabled. Enable it first, then rotate it."
        case .cannotArchiveDefaultProject:
            return "The default project cannot be archived. Archive another project instead."
        case .unknownCursor:
            return "That page of the list is no longer there. Start again from the first page."
        // Accounts: confirmation, passwords, sessions, sign-up limits.
        case .emailNotConfirmed:
            return "Confirm your email address first: open the link we sent you, "
                + "or choose Send the link again at the top of the page."
        case .emailAlreadyConfirmed:
            return "Your email address is already confirmed."
        case .tooManyEmailRequests:
            return "An email was sent moments ago. You can ask for another "
                + (refusal.retryAfterSeconds.map { "in " + duration(seconds: $0) } ?? "in a moment") + "."
        case .tooManySignups:
            return "Too many accounts were made from your network in the last hour. Try again "
                + (refusal.retryAfterSeconds.map { "in " + duration(seconds: $0) } ?? "later") + "."
        case .captchaFailed:
            return "Complete the check that you are a person, then send the form again."
        case .captchaUnavailable:
            return "We could not run the check that you are a person just now. "
                + "Nothing was done; try again in a minute."
        case .sessionNotFound:
            return "That session has already ended."
        case .invalidValue where refusal.param == "session_id":
            return "This is the session you are using. To end it, log out."
        // Two-factor authentication and confirming it's you.
        case .tooManyMfaAttempts:
            return "Too many wrong codes were entered. Try again "
                + (refusal.retryAfterSeconds.map { "in " + duration(seconds: $0) } ?? "in a few minutes") + "."
        case .reauthenticationRequired:
            return "For your security, that needs a recent sign-in. Start again, and enter your password when asked."
        case .mfaAlreadyEnabled:
            return "Two-factor authentication is already on. To set up another app, turn it off first."
        case .mfaNotEnabled where refusal.param == "code":
            return "Two-factor authentication is off for your account, so confirm with your password."
        case .mfaNotEnabled:
            return "Two-factor authentication is off for your account. Set it up to use codes."
        default:
            return refusal.message
        }
    }

    /// A wrong code, with the checks the verification has left.
    static func incorrectCode(remaining: Int) -> String {
        "That code is not right. \(remaining) attempt\(remaining == 1 ? "" : "s") left."
    }

    /// `45 seconds`, `3 minutes`, `2 hours`: a wait, rounded up to the unit it is said in.
    static func duration(seconds: Int) -> String {
        func counted(_ count: Int, _ unit: String) -> String { "\(count) \(unit)\(count == 1 ? "" : "s")" }
        if seconds < 90 { return counted(max(1, seconds), "second") }
        if seconds < 90 * 60 { return counted((seconds + 59) / 60, "minute") }
        return counted((seconds + 3599) / 3600, "hour")
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

/// Sentences for what the API keys pages check themselves, before any service is asked.
extension PageSentences {
    static let serviceAccountKeyPermissions =
        "A service account's key has all permissions. Choose All, or make the key owned by you."
    static let unknownKeyOwner = "Choose who owns the key: you or a service account."
    static let unknownKeyPermissions = "Choose All, Restricted or Read only."
    static let unknownScopeLevel = "Choose None, Read or Write for each group of resources."
    static let unknownGracePeriod =
        "Choose how long the old key keeps working: revoke it now, or after 1 hour, 24 hours or 7 days."
    static let unknownExpiry =
        "Choose when the key stops working: never, or after 1 day, 7 days, 30 days, 90 days or 1 year."
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

    // MARK: Members

    /// Leaving the one organization a person belongs to would leave them nowhere to work.
    static let onlyOrganization =
        "This is your only organization, so you cannot leave it. Create or join another one first."

    // MARK: Accounts: what the pages check themselves

    /// The new password and its confirmation differ.
    static let passwordsDiffer = "The two new passwords are not the same. Type the new password twice."
    /// A confirmation or reset page opened without the token of its link.
    static let linkWithoutToken = "This page needs the link from your email. Open the link again, whole."
}
