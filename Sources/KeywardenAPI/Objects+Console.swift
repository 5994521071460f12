import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// The JSON shapes of support requests and of the operator API.

/// A support request as the organization's members see it.
struct SupportRequestObject: ResponseEncodable {
    let object = "organization.support_request"
    let id: String
    let reason: String
    let details: String
    let status: String
    let createdAt: Int64
    @ExplicitNull var decidedAt: Int64?
    @ExplicitNull var declineReason: String?

    init(_ request: SupportRequest) {
        id = request.id.rawValue
        reason = request.reason.rawValue
        details = request.details
        status = request.status.rawValue
        createdAt = request.createdAt.unixSeconds
        decidedAt = request.decidedAt?.unixSeconds
        declineReason = request.declineReason
    }

    enum CodingKeys: String, CodingKey {
        case object, id, reason, details, status
        case createdAt = "created_at"
        case decidedAt = "decided_at"
        case declineReason = "decline_reason"
    }
}

/// A support request as an operator sees it: also whose it is, who filed it and who decided it.
struct ConsoleSupportRequestObject: ResponseEncodable {
    let object = "organization.support_request"
    let id: String
    let organizationID: String
    let email: String
    let reason: String
    let details: String
    let status: String
    let createdAt: Int64
    @ExplicitNull var decidedAt: Int64?
    @ExplicitNull var decidedBy: String?
    @ExplicitNull var declineReason: String?

    init(_ request: SupportRequest) {
        id = request.id.rawValue
        organizationID = request.organizationID.rawValue
        email = request.email
        reason = request.reason.rawValue
        details = request.details
        status = request.status.rawValue
        createdAt = request.createdAt.unixSeconds
        decidedAt = request.decidedAt?.unixSeconds
        decidedBy = request.decidedBy
        declineReason = request.declineReason
    }

    enum CodingKeys: String, CodingKey {
        case object, id, email, reason, details, status
        case organizationID = "organization_id"
        case createdAt = "created_at"
        case decidedAt = "decided_at"
        case decidedBy = "decided_by"
        case declineReason = "decline_reason"
    }
}

/// An amount as the costs endpoint writes it: `{value, currency}`, `value` a JSON decimal exact to
/// the unit it was counted in, never a sum of floating-point values.
struct DecimalAmountObject: Encodable, Sendable {
    let value: Decimal
    let currency: String

    /// An amount counted in nano-units (usage costs).
    init(nanos: Int64, currency: BillingCurrency) {
        value = Decimal(sign: nanos < 0 ? .minus : .plus, exponent: -9, significand: Decimal(nanos.magnitude))
        self.currency = currency.code
    }

    /// An amount counted in micro-units (message prices).
    init(micros: Int64, currency: BillingCurrency) {
        value = Decimal(sign: micros < 0 ? .minus : .plus, exponent: -6, significand: Decimal(micros.magnitude))
        self.currency = currency.code
    }
}

/// An organization's standing under the key-issuance policy, with the operator who exempted it.
struct ConsoleVerificationObject: Encodable, Sendable {
    let status: String
    @ExplicitNull var method: String?
    @ExplicitNull var verifiedAt: Int64?
    @ExplicitNull var phoneNumber: String?
    @ExplicitNull var approvedBy: String?

    init(_ verification: OrganizationVerification) {
        status = verification.status.rawValue
        method = verification.method
        verifiedAt = verification.verifiedAt?.unixSeconds
        phoneNumber = verification.maskedPhoneNumber
        approvedBy = verification.approvedBy
    }

    enum CodingKeys: String, CodingKey {
        case status, method
        case verifiedAt = "verified_at"
        case phoneNumber = "phone_number"
        case approvedBy = "approved_by"
    }
}

/// Why and since when an organization is suspended.
struct SuspensionObject: Encodable, Sendable {
    let reason: String
    let suspendedAt: Int64

    init(_ suspension: Suspension) {
        reason = suspension.reason
        suspendedAt = suspension.suspendedAt.unixSeconds
    }

    enum CodingKeys: String, CodingKey {
        case reason
        case suspendedAt = "suspended_at"
    }
}

/// An organization as the console's search lists it.
struct ConsoleOrganizationObject: ResponseEncodable {
    let object = "admin.organization"
    let id: String
    let name: String
    let personal: Bool
    let createdAt: Int64
    let verification: ConsoleVerificationObject
    @ExplicitNull var suspension: SuspensionObject?
    let memberCount: Int

    init(_ summary: OrganizationSummary) {
        let organization = summary.organization
        id = organization.id.rawValue
        name = organization.name
        personal = organization.isPersonal
        createdAt = organization.createdAt.unixSeconds
        verification = ConsoleVerificationObject(organization.verification)
        suspension = (summary.suspension ?? organization.suspension).map(SuspensionObject.init)
        memberCount = summary.memberCount
    }

    enum CodingKeys: String, CodingKey {
        case object, id, name, personal, verification, suspension
        case createdAt = "created_at"
        case memberCount = "member_count"
    }
}

/// Everything the console shows of one organization: what the search lists, and its tier,
/// members, keys (redacted), the last 30 days of use, its balance, the organizations that share
/// its number or a card, and its support requests.
struct ConsoleOrganizationDetailObject: ResponseEncodable {
    let object = "admin.organization"
    let id: String
    let name: String
    let personal: Bool
    let createdAt: Int64
    let verification: ConsoleVerificationObject
    @ExplicitNull var suspension: SuspensionObject?
    let memberCount: Int
    let tier: String
    @ExplicitNull var pinnedTier: String?
    let members: [OrganizationUserObject]
    let keys: [APIKeyObject]
    let usage30d: RecentUsage
    let balance: MoneyObject
    let organizationsSharingNumber: Int
    let organizationsSharingCard: Int
    let supportRequests: [ConsoleSupportRequestObject]

    /// Gateway calls over the last 30 days.
    struct RecentUsage: Encodable, Sendable {
        let requests: Int
        let tokens: Int
        let cost: DecimalAmountObject
    }

    init(_ detail: OrganizationDetail, currency: BillingCurrency) {
        let organization = detail.organization
        id = organization.id.rawValue
        name = organization.name
        personal = organization.isPersonal
        createdAt = organization.createdAt.unixSeconds
        verification = ConsoleVerificationObject(organization.verification)
        suspension = organization.suspension.map(SuspensionObject.init)
        memberCount = detail.members.count
        tier = detail.tier
        pinnedTier = detail.pinnedTier
        members = detail.members.map(OrganizationUserObject.init)
        // Never a secret: the key objects carry only the redacted value.
        keys = detail.keys.map { APIKeyObject($0) }
        usage30d = RecentUsage(
            requests: detail.requests, tokens: detail.tokens,
            cost: DecimalAmountObject(nanos: detail.costNanos, currency: currency))
        balance = MoneyObject(detail.balanceMicros, in: currency)
        organizationsSharingNumber = detail.organizationsSharingNumber
        organizationsSharingCard = detail.organizationsSharingCard
        supportRequests = detail.supportRequests.map(ConsoleSupportRequestObject.init)
    }

    enum CodingKeys: String, CodingKey {
        case object, id, name, personal, verification, suspension, tier, members, keys, balance
        case createdAt = "created_at"
        case memberCount = "member_count"
        case pinnedTier = "pinned_tier"
        case usage30d = "usage_30d"
        case organizationsSharingNumber = "organizations_sharing_number"
        case organizationsSharingCard = "organizations_sharing_card"
        case supportRequests = "support_requests"
    }
}

/// Credit granted by an operator: the ledger entry, and the balance it left.
struct ConsoleCreditGrantObject: ResponseEncodable {
    let object = "admin.credit_grant"
    let organizationID: String
    let transaction: BillingTransactionObject
    let balance: MoneyObject

    enum CodingKeys: String, CodingKey {
        case object, transaction, balance
        case organizationID = "organization_id"
    }
}

/// One country's verification funnel over a window.
struct CountryInsightObject: Encodable, Sendable {
    let country: String
    let started: Int
    /// Codes sent by channel; `sms` and `whatsapp` are always present.
    let sent: [String: Int]
    let approved: Int
    @ExplicitNull var conversionPercent: Int?
    let refusals: [String: Int]
    @ExplicitNull var estimatedSpend: DecimalAmountObject?

    init(_ insight: CountryInsight, currency: BillingCurrency) {
        country = insight.country
        started = insight.started
        sent = insight.sent.merging(["sms": 0, "whatsapp": 0]) { counted, _ in counted }
        approved = insight.approved
        conversionPercent = insight.conversionPercent
        refusals = insight.refusals
        estimatedSpend = insight.estimatedSpendMicros.map { DecimalAmountObject(micros: $0, currency: currency) }
    }

    enum CodingKeys: String, CodingKey {
        case country, started, sent, approved, refusals
        case conversionPercent = "conversion_percent"
        case estimatedSpend = "estimated_spend"
    }
}

/// The verification funnel by country, busiest first.
struct VerificationInsightsObject: ResponseEncodable {
    let object = "admin.verification_insights"
    let window: String
    let data: [CountryInsightObject]
}

/// A prefix the guard paused on its own.
struct PrefixPauseObject: Encodable, Sendable {
    let object = "admin.prefix_pause"
    let prefix: String
    let reason: String
    let pausedAt: Int64
    let until: Int64
    @ExplicitNull var liftedAt: Int64?
    @ExplicitNull var liftedBy: String?
    /// Whether it stops sends now: the guard lists only pauses that have not ended, so one that
    /// was not lifted is in force.
    let active: Bool

    init(_ pause: PrefixPause) {
        prefix = pause.prefix
        reason = pause.reason
        pausedAt = pause.pausedAt.unixSeconds
        until = pause.until.unixSeconds
        liftedAt = pause.liftedAt?.unixSeconds
        liftedBy = pause.liftedBy
        active = pause.liftedAt == nil
    }

    enum CodingKeys: String, CodingKey {
        case object, prefix, reason, until, active
        case pausedAt = "paused_at"
        case liftedAt = "lifted_at"
        case liftedBy = "lifted_by"
    }
}

/// An operator's standing rule for a prefix.
struct PrefixRuleObject: ResponseEncodable {
    let object = "admin.prefix_rule"
    let prefix: String
    let kind: String
    let reason: String
    let createdAt: Int64
    let createdBy: String

    init(_ rule: PrefixRule) {
        prefix = rule.prefix
        kind = rule.kind.rawValue
        reason = rule.reason
        createdAt = rule.createdAt.unixSeconds
        createdBy = rule.createdBy
    }

    enum CodingKeys: String, CodingKey {
        case object, prefix, kind, reason
        case createdAt = "created_at"
        case createdBy = "created_by"
    }
}

/// The prefix guard: the pauses that have not ended and the operator's rules.
struct PrefixGuardObject: ResponseEncodable {
    let object = "admin.prefix_guard"
    let paused: [PrefixPauseObject]
    let rules: [PrefixRuleObject]
}

/// `{object, prefix, deleted: true}`.
struct DeletedPrefixRuleObject: ResponseEncodable {
    let object = "admin.prefix_rule.deleted"
    let prefix: String
    let deleted = true
}

/// An audit event across organizations: the organization log's shape, plus `organization_id`,
/// `null` for actions on the deployment itself.
struct ConsoleAuditLogObject: Encodable, Sendable {
    let event: ConsoleAuditEvent

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AuditLogObject.Key.self)
        try container.encode("admin.audit_log", forKey: AuditLogObject.Key(stringValue: "object"))
        try container.encode(event.id.rawValue, forKey: AuditLogObject.Key(stringValue: "id"))
        try container.encode(event.organizationID?.rawValue, forKey: AuditLogObject.Key(stringValue: "organization_id"))
        try container.encode(event.type, forKey: AuditLogObject.Key(stringValue: "type"))
        try container.encode(event.effectiveAt.unixSeconds, forKey: AuditLogObject.Key(stringValue: "effective_at"))
        try container.encode(
            AuditActorObject(event.actor, showsOperatorAddress: true), forKey: AuditLogObject.Key(stringValue: "actor"))
        try container.encode(event.details, forKey: AuditLogObject.Key(stringValue: event.type))
    }
}

/// Who did something, in OpenAI's audit-log shape: a person's session with their address; an
/// operator of the console by name (their address only in the console's own log); otherwise the
/// type alone.
struct AuditActorObject: Encodable, Sendable {
    let actor: AuditActor
    /// Whether an operator's IP address is shown: to other operators, not to the organization.
    let showsOperatorAddress: Bool

    init(_ actor: AuditActor, showsOperatorAddress: Bool) {
        self.actor = actor
        self.showsOperatorAddress = showsOperatorAddress
    }

    func encode(to encoder: any Encoder) throws {
        typealias Key = AuditLogObject.Key
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(actor.type, forKey: Key(stringValue: "type"))
        switch actor.type {
        case "session":
            var session = container.nestedContainer(keyedBy: Key.self, forKey: Key(stringValue: "session"))
            var user = session.nestedContainer(keyedBy: Key.self, forKey: Key(stringValue: "user"))
            try user.encode(actor.userID, forKey: Key(stringValue: "id"))
            try user.encode(actor.email, forKey: Key(stringValue: "email"))
            try session.encode(actor.ipAddress, forKey: Key(stringValue: "ip_address"))
        case "operator" where actor.userID != nil:
            // The console names the operator; the command line has no one to name.
            var named = container.nestedContainer(keyedBy: Key.self, forKey: Key(stringValue: "operator"))
            var user = named.nestedContainer(keyedBy: Key.self, forKey: Key(stringValue: "user"))
            try user.encode(actor.userID, forKey: Key(stringValue: "id"))
            try user.encode(actor.email, forKey: Key(stringValue: "email"))
            if showsOperatorAddress { try named.encode(actor.ipAddress, forKey: Key(stringValue: "ip_address")) }
        default:
            break
        }
    }
}
