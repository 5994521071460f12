import Foundation
import Logging

/// Starts, checks and resends phone verifications under the policy, the caps and the
/// per-number organization limit. Every refusal happens before any SMS is sent.
///
/// Screening a number, sending codes, checking them and expiring them each live in an
/// extension of their own; the refusals are in `VerificationRefusals.swift`.
public struct PhoneVerificationService: Sendable {
    let verifications: any PhoneVerificationRepository
    let audit: any AuditLogRepository
    let throttle: SendThrottle
    let secrets: VerificationSecrets
    let delivery: CodeDelivery
    let lineTypes: LineTypeLookup
    let policy: VerificationPolicy
    let clock: Clock
    let logger: Logger
    /// Whether the person must have confirmed their email address before they start.
    let emailConfirmation: EmailConfirmationRule
    /// The CAPTCHA check starting a verification asks for (none unless `captcha_provider` is set).
    public let humanCheck: HumanCheck
    /// Where starts, sends, approvals and refusals are counted for the console, if anywhere.
    let stats: (any VerificationStatsRepository)?

    /// Creates the service.
    public init(
        verifications: any PhoneVerificationRepository, audit: any AuditLogRepository,
        counters: any RateCounterRepository, secrets: VerificationSecrets, delivery: CodeDelivery,
        lineTypes: LineTypeLookup, policy: VerificationPolicy, clock: Clock, logger: Logger,
        emailConfirmation: EmailConfirmationRule = .notRequired, humanCheck: HumanCheck = .notRequired,
        stats: (any VerificationStatsRepository)? = nil, prefixRules: (any PrefixGuardRepository)? = nil
    ) {
        self.verifications = verifications
        self.audit = audit
        self.throttle = SendThrottle(counters: counters, policy: policy, logger: logger, prefixRules: prefixRules)
        self.stats = stats
        self.secrets = secrets
        self.delivery = delivery
        self.lineTypes = lineTypes
        self.policy = policy
        self.clock = clock
        self.logger = logger
        self.emailConfirmation = emailConfirmation
        self.humanCheck = humanCheck
    }

    /// Checks allowed per code.
    public var maxChecks: Int { policy.maxChecks }

    /// Digits in a code, for a form's code field.
    public var codeLength: Int { policy.codeLength }

    /// ISO codes of the countries numbers may come from; `nil` allows every country.
    public var allowedCountries: Set<String>? { policy.allowedCountries }

    /// ISO codes of the countries whose numbers may get codes by WhatsApp.
    public var whatsappCountries: Set<String> { policy.whatsappCountries }

    /// Who asks: an owner of the organization, from an address.
    public struct Requester: Sendable {
        public var membership: Membership
        public var user: User
        public var clientAddress: String?

        /// Creates a requester.
        public init(membership: Membership, user: User, clientAddress: String?) {
            self.membership = membership
            self.user = user
            self.clientAddress = clientAddress
        }

        var actor: AuditActor { .session(user, ipAddress: clientAddress) }
        var organization: OrganizationID { membership.organization.id }
    }

    /// A verification as stored now, after a change to it.
    func reload(_ id: PhoneVerificationID, in organization: OrganizationID) async throws -> PhoneVerification {
        guard let verification = try await verifications.verification(id, in: organization) else {
            throw DomainError.verificationNotFound(id.rawValue)
        }
        return verification
    }

    /// Appends an audit event about a verification: its id, masked number and country, and `extra`.
    func record(
        _ type: AuditEventType, _ verification: PhoneVerification, actor: AuditActor, now: Date,
        extra: [String: String] = [:]
    ) async throws {
        var details = [
            "verification_id": verification.id.rawValue, "phone_number": verification.maskedPhoneNumber,
            "country": verification.country,
        ]
        details.merge(extra) { $1 }
        try await audit.append(
            AuditEvent(
                organizationID: verification.organizationID, type: type, effectiveAt: now, actor: actor,
                details: details))
    }
}
