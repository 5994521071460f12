import PhoneNumbers

/// The refusals of phone verification, each with its stable code.
extension DomainError {
    // MARK: The request

    /// A channel other than SMS was asked for.
    static let unsupportedChannel = DomainError.invalidField("channel", "'channel' is 'sms' or 'whatsapp'.")

    /// WhatsApp asked for a number from a country the operator does not offer it in.
    static func whatsappNotOffered(_ country: String) -> DomainError {
        DomainError.invalidField(
            "channel", "Codes by WhatsApp are not offered for numbers from \(country); use 'sms'.")
    }

    /// A `country` that is not two letters.
    static let malformedCountry = DomainError.invalidField(
        "country", "'country' is a two-letter ISO 3166 code such as US or GB; GET /v1/phone/countries lists them.")

    /// A code that is not `length` digits.
    static func malformedCode(length: Int) -> DomainError {
        invalidField("code", "The code is the \(length) digits from the text message.")
    }

    // MARK: The number

    /// Text that could not be read as a phone number, said the way the parser failed.
    static func unreadablePhoneNumber(_ error: PhoneNumberParseError) -> DomainError {
        let message =
            switch error {
            case .invalidCountryCode: "Include the country code (such as +1) or choose the country."
            case .notANumber: "Enter a phone number, such as +1 201 555 0123."
            case .tooShortAfterIDD, .tooShortNSN: "This phone number is too short."
            case .tooLong: "This phone number is too long."
            }
        return DomainError(.invalidRequest, code: .invalidPhoneNumber, message: message, param: "phone_number")
    }

    /// A number that parses but is not one its country assigns.
    static let invalidPhoneNumber = DomainError(
        .invalidRequest, code: .invalidPhoneNumber,
        message: "This is not a valid phone number. Check the digits and the country.", param: "phone_number")

    /// A country numbers may not come from; `param` names the field that gave it.
    static func unsupportedCountry(_ country: String, param: String) -> DomainError {
        let place = country.isEmpty ? "this country" : country
        return DomainError(
            .invalidRequest, code: .unsupportedCountry,
            message: "Phone numbers from \(place) cannot be used for verification here.", param: param)
    }

    /// A line type the policy refuses.
    static func lineTypeNotAllowed(_ type: PhoneNumberType) -> DomainError {
        DomainError(
            .invalidRequest, code: .phoneLineTypeNotAllowed,
            message: "\(describe(type)) numbers cannot be used for verification. Use a mobile number.",
            param: "phone_number")
    }

    /// A number that has already verified as many organizations as one number may.
    static let phoneLimitReached = DomainError(
        .conflict, code: .phoneNumberLimitReached,
        message: "This phone number has already verified the maximum number of organizations. Use another number.",
        param: "phone_number")

    // MARK: The code

    /// A wrong code, with the checks still left.
    static func incorrectCode(remaining: Int) -> DomainError {
        DomainError(
            .invalidRequest, code: .incorrectCode,
            message: "Incorrect code. You have \(remaining) attempt\(remaining == 1 ? "" : "s") left.", param: "code")
    }

    /// Every check of a verification is used up.
    static let maxAttemptsReached = DomainError(
        .rateLimited, code: .maxAttemptsReached,
        message: "Too many incorrect codes for this verification. Start a new one.")

    /// The code's lifetime is over.
    static let verificationExpired = DomainError(
        .gone, code: .verificationExpired, message: "This code has expired. Start a new verification.")

    /// A verification that has already ended with `status`.
    static func verificationNotPending(_ status: PhoneVerification.Status) -> DomainError {
        DomainError(
            .conflict, code: .verificationNotPending,
            message: status == .approved
                ? "This verification is already approved."
                : "This verification was \(status.rawValue). Start a new one.")
    }

    /// No verification with this id in the caller's organization.
    static func verificationNotFound(_ id: String) -> DomainError {
        DomainError(
            .notFound, code: .verificationNotFound,
            message: "No phone verification with id '\(id)' exists in this organization.", param: "verification_id")
    }

    // MARK: Sending

    /// A resend asked for before its cooldown is over; `wait` is the seconds left.
    static func resendTooSoon(wait: Int) -> DomainError {
        DomainError(
            .rateLimited, code: .resendTooSoon,
            message: "A code was sent moments ago. You can ask for it again in \(wait) seconds.",
            retryAfterSeconds: wait)
    }

    /// A send cap of the number, organization or client address is reached.
    static func tooManyVerificationRequests(retryAfterSeconds wait: Int) -> DomainError {
        DomainError(
            .rateLimited, code: .tooManyVerificationRequests,
            message: "Too many verification codes were requested. Try again in \(wait) seconds.",
            retryAfterSeconds: wait)
    }

    /// Sends to the number's prefix are paused by the guard against SMS pumping.
    static func prefixPaused(retryAfterSeconds wait: Int) -> DomainError {
        DomainError(
            .rateLimited, code: .tooManyVerificationRequests,
            message:
                "Verification codes to numbers like this one are paused for a while. Try again in \(wait) seconds.",
            retryAfterSeconds: wait)
    }

    /// The SMS provider failed; nothing was used up.
    static let smsProviderUnavailable = DomainError(
        .unavailable, code: .smsProviderUnavailable,
        message: "We could not send the code just now. Nothing was used up; try again in a minute.",
        retryAfterSeconds: 30)

    /// A line type as the start of a sentence.
    private static func describe(_ type: PhoneNumberType) -> String {
        switch type {
        case .voip: "VoIP"
        case .tollFree: "Toll-free"
        case .premiumRate: "Premium-rate"
        case .sharedCost: "Shared-cost"
        case .uan: "Universal access"
        case .pager: "Pager"
        case .voicemail: "Voicemail"
        case .personalNumber: "Personal"
        case .fixedLine: "Landline"
        case .mobile: "Mobile"
        case .fixedLineOrMobile: "These"
        case .unknown: "Unrecognized"
        }
    }
}
