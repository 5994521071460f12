import Foundation

/// Identifies a support request (`supreq_...`).
public struct SupportRequestID: PrefixedID {
    public static let prefix = "supreq"
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

/// Why a person cannot verify a phone number, as they pick it on the form.
public enum SupportReason: String, Sendable, Codable, CaseIterable {
    case noMobilePhone = "no_mobile_phone"
    case voipOrLandlineOnly = "voip_or_landline_only"
    case countryNotSupported = "country_not_supported"
    case codeNeverArrives = "code_never_arrives"
    case other
    /// The organization is suspended and asks for it to be lifted; approving it unsuspends.
    case suspensionAppeal = "suspension_appeal"

    /// The reasons for a phone exemption, as the phone page's form offers them.
    public static let verificationReasons: [SupportReason] = [
        .noMobilePhone, .voipOrLandlineOnly, .countryNotSupported, .codeNeverArrives, .other,
    ]

    /// The reason as the form and the console show it.
    public var label: String {
        switch self {
        case .noMobilePhone: "I have no mobile phone"
        case .voipOrLandlineOnly: "I only have VoIP or landline numbers"
        case .countryNotSupported: "My country is not supported"
        case .codeNeverArrives: "The code never arrives"
        case .other: "Something else"
        case .suspensionAppeal: "Appeal the suspension"
        }
    }
}

/// A request to be let through the phone policy without a phone: filed by an owner, decided by
/// an operator. One may be open per organization at a time.
public struct SupportRequest: Equatable, Sendable {
    /// Where a request is.
    public enum Status: String, Sendable, Codable, CaseIterable {
        case open, approved, declined
    }

    public var id: SupportRequestID
    public var organizationID: OrganizationID
    /// Who filed it.
    public var userID: UserID
    /// Their email address when they filed it, for the console.
    public var email: String
    public var reason: SupportReason
    /// What the person wrote; at most ``SupportRequest/maxDetailsLength`` characters.
    public var details: String
    public var status: Status
    public var createdAt: Date
    public var decidedAt: Date?
    /// The operator who decided it (email address).
    public var decidedBy: String?
    /// Why it was declined, as the operator wrote it.
    public var declineReason: String?

    /// Creates a value.
    public init(
        id: SupportRequestID, organizationID: OrganizationID, userID: UserID, email: String, reason: SupportReason,
        details: String, status: Status, createdAt: Date, decidedAt: Date? = nil, decidedBy: String? = nil,
        declineReason: String? = nil
    ) {
        self.id = id
        self.organizationID = organizationID
        self.userID = userID
        self.email = email
        self.reason = reason
        self.details = details
        self.status = status
        self.createdAt = createdAt
        self.decidedAt = decidedAt
        self.decidedBy = decidedBy
        self.declineReason = declineReason
    }

    /// The longest `details` a request keeps.
    public static let maxDetailsLength = 2000
    /// The longest decline reason.
    public static let maxDeclineReasonLength = 1000
}

/// How deciding a request ended.
public enum SupportDecision: Equatable, Sendable {
    /// Decided now.
    case decided(SupportRequest)
    /// It was no longer open (another operator decided it first).
    case notOpen(SupportRequest.Status)
    /// No such request.
    case notFound
}

/// Stores support requests.
public protocol SupportRequestRepository: Sendable {
    /// Stores a new open request; `false` when the organization has an open one already (the
    /// check and the insert are one statement, so two racing requests store one).
    func create(_ request: SupportRequest) async throws -> Bool

    /// The request with this id.
    func request(_ id: SupportRequestID) async throws -> SupportRequest?

    /// The organization's requests, newest first.
    func requests(in organization: OrganizationID, limit: Int) async throws -> [SupportRequest]

    /// Requests in `status` (every status when `nil`), oldest first for open ones and newest
    /// first otherwise, after the request `after`.
    func queue(
        status: SupportRequest.Status?, after: SupportRequestID?, limit: Int
    ) async throws
        -> Page<SupportRequest>

    /// In one transaction: marks the open request approved by `operatorEmail`, and makes its
    /// organization `exempt` with method `support` and `verified_by` the operator (unless it is
    /// verified already, which then stays); for a `suspension_appeal`, lifts the suspension instead.
    /// `events` are appended to the audit log in the same transaction, only when it was decided now.
    func approve(
        _ id: SupportRequestID, by operatorEmail: String, at now: Date, recording events: [AuditEvent]
    ) async throws -> SupportDecision

    /// Marks the open request declined with `reason`, appending `events` in the same transaction.
    func decline(
        _ id: SupportRequestID, reason: String, by operatorEmail: String, at now: Date, recording events: [AuditEvent]
    ) async throws -> SupportDecision
}

extension SupportRequestRepository {
    /// Approves with nothing to audit.
    public func approve(
        _ id: SupportRequestID, by operatorEmail: String, at now: Date
    ) async throws
        -> SupportDecision
    {
        try await approve(id, by: operatorEmail, at: now, recording: [])
    }

    /// Declines with nothing to audit.
    public func decline(
        _ id: SupportRequestID, reason: String, by operatorEmail: String, at now: Date
    ) async throws
        -> SupportDecision
    {
        try await decline(id, reason: reason, by: operatorEmail, at: now, recording: [])
    }
}
