import Foundation
import KeywardenCore
import PhoneNumbers

/// The phone step as the `phone-step` partial shows it: the number form, or the code form once a
/// code is sent. The partial reads it from a `phone` member of the page's view, and each page
/// that includes it (the phone page and the billing flow, each a ``PhoneStepHost``) gives the
/// paths its forms post to.
struct PhoneStep: Sendable {
    /// Where the step's forms post, and where "Use another number" leads.
    struct Actions: Sendable {
        let send: String
        let verify: String
        let resend: String
        let another: String
    }

    /// One entry of the "Country" select.
    struct Country: Sendable {
        /// The ISO 3166 code, the option's value.
        let code: String
        let name: String
        /// The calling code without `+`, such as 44.
        let callingCode: Int
        let selected: Bool
    }

    /// The "Send the code by" choice, offered while WhatsApp is offered for any country.
    struct ChannelChoice: Sendable {
        /// WhatsApp is chosen; otherwise a text message, the default.
        let whatsapp: Bool
        /// The countries WhatsApp is offered for, by name, as a sentence lists them.
        let whatsappCountries: String
    }

    /// The number form: country and number, with what was typed and what was wrong.
    struct NumberForm: Sendable {
        let countries: [Country]
        let phoneNumber: String
        /// How the code is to be sent, when there is a choice.
        let channelChoice: ChannelChoice?
        let errors: FieldErrors
        /// The CAPTCHA widget "Send code" needs, when one is required.
        let captcha: HumanCheck.Widget?
    }

    /// The code form of a pending verification.
    struct CodeForm: Sendable {
        let verificationID: String
        let maskedNumber: String
        /// The code went by WhatsApp rather than by text message.
        let byWhatsApp: Bool
        let attemptsLeft: Int
        /// Whether exactly one check is left (the template says "attempt" then).
        let oneAttemptLeft: Bool
        let codeLength: Int
        /// Unix seconds after which a resend is accepted, for the countdown.
        let resendAvailableAt: Int64
        /// When the code stops working, in UTC.
        let expiresAt: String
        let errors: FieldErrors
    }

    let actions: Actions
    let numberForm: NumberForm?
    let codeForm: CodeForm?

    /// The number form, with `country` chosen (or the first country of the list) and, where
    /// WhatsApp is offered, `channel` (or a text message).
    static func number(
        actions: Actions, allowedCountries: Set<String>?, whatsappCountries: Set<String> = [],
        phoneNumber: String = "", country: String? = nil, channel: String? = nil, errors: FieldErrors = FieldErrors(),
        captcha: HumanCheck.Widget? = nil
    ) -> PhoneStep {
        let form = NumberForm(
            countries: countries(allowed: allowedCountries, selected: country), phoneNumber: phoneNumber,
            channelChoice: channelChoice(whatsapp: whatsappCountries, allowed: allowedCountries, chosen: channel),
            errors: errors, captcha: captcha)
        return PhoneStep(actions: actions, numberForm: form, codeForm: nil)
    }

    /// The code form of `verification`.
    static func code(
        actions: Actions, verification: PhoneVerification, service: PhoneVerificationService,
        errors: FieldErrors = FieldErrors()
    ) -> PhoneStep {
        let left = max(0, service.maxChecks - verification.attempts)
        let form = CodeForm(
            verificationID: verification.id.rawValue, maskedNumber: verification.maskedPhoneNumber,
            byWhatsApp: verification.channel == .whatsapp, attemptsLeft: left, oneAttemptLeft: left == 1,
            codeLength: service.codeLength,
            resendAvailableAt: Int64(verification.nextResendAt.timeIntervalSince1970.rounded(.up)),
            expiresAt: UTCTime.minutes(verification.expiresAt), errors: errors)
        return PhoneStep(actions: actions, numberForm: nil, codeForm: form)
    }

    /// The countries of `GET /v1/phone/countries` (every region the phone metadata knows, less
    /// those the policy does not allow): United States first, then the rest in name order.
    static func countries(allowed: Set<String>?, selected: String?) -> [Country] {
        let regions = PhoneNumbers.regions.filter { allowed?.contains($0.code) ?? true }
        let ordered = regions.filter { $0.code == "US" } + regions.filter { $0.code != "US" }
        let wanted = selected?.trimmingCharacters(in: .whitespaces).uppercased()
        let chosen = ordered.contains { $0.code == wanted } ? wanted : ordered.first?.code
        return ordered.map {
            Country(code: $0.code, name: $0.name, callingCode: $0.callingCode, selected: $0.code == chosen)
        }
    }

    /// The channel choice while WhatsApp is offered for a country numbers may come from, or
    /// `nil` (text messages only); `chosen` is the form's `channel` value.
    static func channelChoice(whatsapp offered: Set<String>, allowed: Set<String>?, chosen: String?) -> ChannelChoice? {
        let names = PhoneNumbers.regions
            .filter { offered.contains($0.code) && (allowed?.contains($0.code) ?? true) }
            .map(\.name)
        guard let last = names.last else { return nil }
        let listed = names.count == 1 ? last : names.dropLast().joined(separator: ", ") + " and " + last
        return ChannelChoice(whatsapp: chosen == MessageChannel.whatsapp.rawValue, whatsappCountries: listed)
    }
}
