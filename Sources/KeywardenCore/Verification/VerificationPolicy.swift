import Foundation
import PhoneNumbers

/// Every setting of phone verification, with the defaults of DESIGN §3 (Twilio Verify,
/// OWASP ASVS 5.0, Ory Kratos).
public struct VerificationPolicy: Sendable {
    /// Digits in a code.
    public var codeLength = 6
    /// How long a code lives.
    public var codeLifetime: TimeInterval = 600
    /// Checks allowed per code; the counter is raised before comparing.
    public var maxChecks = 5
    /// Wait before the first resend; it doubles with each resend.
    public var resendCooldown: TimeInterval = 30
    /// Sends per number per 10 minutes.
    public var sendsPerNumberPer10Minutes = 5
    /// Sends per number per day.
    public var sendsPerNumberPerDay = 10
    /// Sends per organization per day.
    public var sendsPerOrganizationPerDay = 10
    /// Sends per client address per hour.
    public var sendsPerClientAddressPerHour = 20
    /// Organizations one number may verify.
    public var maxOrganizationsPerPhone = 2
    /// ISO codes of the countries numbers may come from; `nil` allows every country.
    public var allowedCountries: Set<String>?
    /// Line types refused (DESIGN §2 rule 5).
    public var blockedLineTypes: Set<PhoneNumberType> = [
        .voip, .tollFree, .premiumRate, .sharedCost, .uan, .pager, .voicemail, .personalNumber, .fixedLine,
    ]
    /// ISO codes of the countries whose numbers may get their code by WhatsApp; empty offers
    /// WhatsApp nowhere (the default).
    public var whatsappCountries: Set<String> = []
    /// The adaptive per-prefix guard against SMS pumping.
    public var prefixGuard = PrefixGuard()

    /// Blocks a number prefix whose sends are many and approvals few.
    public struct PrefixGuard: Sendable {
        /// Digits of the national number, after the calling code, that make a prefix.
        public var prefixDigits = 3
        /// The sliding window the counts cover.
        public var window: TimeInterval = 3600
        /// Sends in the window before the approval rate is judged.
        public var minimumSends = 20
        /// Below this share of approvals, the prefix is blocked until the window moves on.
        public var minimumApprovalRate = 0.2

        /// The defaults.
        public init() {}
    }

    /// The defaults.
    public init() {}

    /// The channels offered for numbers from `country`: SMS always, WhatsApp where allowed.
    public func channels(for country: String) -> [MessageChannel] {
        whatsappCountries.contains(country) ? [.sms, .whatsapp] : [.sms]
    }

    /// Unknown-type numbers are refused only when the operator blocks `unknown` explicitly.
    public func allows(_ type: PhoneNumberType) -> Bool {
        !blockedLineTypes.contains(type)
    }
}
