import Foundation

/// Identifies a phone verification (`pv_...`).
public struct PhoneVerificationID: PrefixedID {
    public static let prefix = "pv"
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

/// An attempt to prove control of a phone number by a one-time code.
///
/// `pending → approved | expired | canceled | max_attempts_reached | failed`. The full number
/// and the sealed code exist only while pending; every way out of pending erases them.
public struct PhoneVerification: Equatable, Sendable {
    /// Where a verification stands.
    public enum Status: String, Sendable, Codable {
        case pending, approved, expired, canceled, failed
        case maxAttemptsReached = "max_attempts_reached"
    }

    /// What the SMS provider last said about the message.
    public enum Delivery: String, Sendable, Codable {
        case queued, sent, delivered, undelivered, failed
    }

    public var id: PhoneVerificationID
    public var organizationID: OrganizationID
    public var userID: UserID
    /// HMAC of the E.164 number under the server secret.
    public var phoneDigest: String
    /// The E.164 number sealed with a key derived from the server secret, only while pending
    /// (to send a resend and, with a remote provider, to check): the database and its logs never
    /// hold the number in the clear.
    public var sealedPhoneNumber: String?
    /// The number with all but the last two digits hidden.
    public var maskedPhoneNumber: String
    /// The number's region (ISO code).
    public var country: String
    public var status: Status
    /// HMAC of the code, for comparison; `nil` when a remote provider owns the code.
    public var codeDigest: String?
    /// The code sealed with a key derived from the server secret, only while pending, so a
    /// resend can send the same code.
    public var sealedCode: String?
    /// Checks made so far.
    public var attempts: Int
    /// Messages sent so far.
    public var sends: Int
    public var createdAt: Date
    public var expiresAt: Date
    public var lastSentAt: Date
    public var nextResendAt: Date
    public var approvedAt: Date?
    public var delivery: Delivery?
    /// The provider's id for the last message (Twilio's `SM...`), to match delivery callbacks.
    public var providerMessageID: String?
    /// The way the person came to verify, recorded in the audit log.
    public var path: VerificationPath
    /// How the code travels: by text message or by WhatsApp.
    public var channel: MessageChannel

    /// Creates a verification value.
    public init(
        id: PhoneVerificationID, organizationID: OrganizationID, userID: UserID, phoneDigest: String,
        sealedPhoneNumber: String?, maskedPhoneNumber: String, country: String, status: Status, codeDigest: String?,
        sealedCode: String?, attempts: Int, sends: Int, createdAt: Date, expiresAt: Date, lastSentAt: Date,
        nextResendAt: Date, approvedAt: Date? = nil, delivery: Delivery? = nil, providerMessageID: String? = nil,
        path: VerificationPath = .phone, channel: MessageChannel = .sms
    ) {
        self.path = path
        self.channel = channel
        self.id = id
        self.organizationID = organizationID
        self.userID = userID
        self.phoneDigest = phoneDigest
        self.sealedPhoneNumber = sealedPhoneNumber
        self.maskedPhoneNumber = maskedPhoneNumber
        self.country = country
        self.status = status
        self.codeDigest = codeDigest
        self.sealedCode = sealedCode
        self.attempts = attempts
        self.sends = sends
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastSentAt = lastSentAt
        self.nextResendAt = nextResendAt
        self.approvedAt = approvedAt
        self.delivery = delivery
        self.providerMessageID = providerMessageID
    }
}

/// An organization's standing under the key-issuance policy.
public struct OrganizationVerification: Equatable, Sendable {
    /// Whether the organization may create keys after the enforcement date.
    public enum Status: String, Sendable, Codable {
        case unverified, verified, exempt
    }

    public var status: Status
    /// How it was verified (`phone`) or exempted (`support`), or `nil`.
    public var method: String?
    public var verifiedAt: Date?
    /// The verified number, all but the last two digits hidden.
    public var maskedPhoneNumber: String?
    /// The operator who granted an exemption (method `support`), by email address.
    public var approvedBy: String?

    /// Creates a value.
    public init(
        status: Status, method: String? = nil, verifiedAt: Date? = nil, maskedPhoneNumber: String? = nil,
        approvedBy: String? = nil
    ) {
        self.status = status
        self.method = method
        self.verifiedAt = verifiedAt
        self.maskedPhoneNumber = maskedPhoneNumber
        self.approvedBy = approvedBy
    }

    /// Not verified.
    public static let unverified = OrganizationVerification(status: .unverified)
}

/// Which way a person came to verify a phone number.
public enum VerificationPath: String, Sendable, Codable, CaseIterable {
    /// Settings → Billing → Add payment method, with the phone step inside that flow.
    case billing
    /// Settings → Account → Phone.
    case phone
    /// The JSON API.
    case api
}
