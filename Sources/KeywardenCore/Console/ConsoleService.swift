import Foundation
import Logging
import PhoneNumbers

/// One organization as the console's detail page shows it.
public struct OrganizationDetail: Sendable {
    public var organization: Organization
    public var members: [OrganizationMember]
    /// The tier it is on now, and the tier the operator pinned, if any.
    public var tier: String
    public var pinnedTier: String?
    public var keys: [APIKey]
    /// The last 30 days of gateway calls.
    public var requests: Int
    public var tokens: Int
    public var costNanos: Int64
    public var balanceMicros: Int64
    /// Other organizations verified with the same number, or with a card of the same fingerprint.
    public var organizationsSharingNumber: Int
    public var organizationsSharingCard: Int
    public var supportRequests: [SupportRequest]
}

/// What an operator does in the console and its API: every action checks that the person is an
/// operator with two-factor authentication on, and is audited with the operator's name.
public struct ConsoleService: Sendable {
    let console: any ConsoleRepository
    let accounts: AccountService
    let accountRepository: any AccountRepository
    let organizations: OrganizationService
    let rateLimits: RateLimitPolicy
    let billing: BillingService
    let billingRepository: any BillingRepository
    let usage: any UsageRepository
    let audit: any AuditLogRepository
    let prefixes: any PrefixGuardRepository
    let stats: any VerificationStatsRepository
    /// The gateway's in-memory set, changed at once when this instance suspends.
    public let suspended: SuspendedOrganizations
    /// The support queue.
    public let support: SupportService
    /// What a text message costs per country, for the insights' spend estimate.
    public let messagePrices: MessagePrices
    /// The currency amounts are shown in.
    public let currency: BillingCurrency
    /// Turns a whole number typed in a search into the digest organizations keep of it.
    let secrets: VerificationSecrets?
    let clock: Clock
    let logger: Logger

    /// Creates the service.
    public init(
        console: any ConsoleRepository, accounts: AccountService, accountRepository: any AccountRepository,
        organizations: OrganizationService, rateLimits: RateLimitPolicy, billing: BillingService,
        billingRepository: any BillingRepository, usage: any UsageRepository, audit: any AuditLogRepository,
        prefixes: any PrefixGuardRepository, stats: any VerificationStatsRepository, suspended: SuspendedOrganizations,
        support: SupportService, messagePrices: MessagePrices, currency: BillingCurrency,
        secrets: VerificationSecrets? = nil, clock: Clock, logger: Logger
    ) {
        self.secrets = secrets
        self.console = console
        self.accounts = accounts
        self.accountRepository = accountRepository
        self.organizations = organizations
        self.rateLimits = rateLimits
        self.billing = billing
        self.billingRepository = billingRepository
        self.usage = usage
        self.audit = audit
        self.prefixes = prefixes
        self.stats = stats
        self.suspended = suspended
        self.support = support
        self.messagePrices = messagePrices
        self.currency = currency
        self.clock = clock
        self.logger = logger
    }

    // MARK: Operators

    /// Whether the user holds the operator role (the console's nav link shows only then).
    public func isOperator(_ user: User) async throws -> Bool {
        try await console.isOperator(user.id)
    }

    /// Refuses anyone but an operator with two-factor authentication on.
    ///
    /// - Throws: `operator_required` (403), `mfa_required` (403).
    public func requireOperator(_ user: User) async throws {
        guard try await console.isOperator(user.id) else { throw DomainError.operatorRequired }
        guard try await accounts.twoFactorStatus(of: user).enabled else { throw DomainError.operatorNeedsTwoFactor }
    }

    /// Grants the operator role to the account with this email address (`keywarden admin operator
    /// grant`); answers whether it was granted now (`false`: it was held already).
    public func grantOperator(email rawEmail: String) async throws -> Bool {
        let user = try await user(email: rawEmail)
        let granted = try await console.grantOperator(user.id, at: wholeMilliseconds(clock.now()))
        if granted {
            try await console.appendConsoleEvent(
                type: ConsoleEventType.operatorGranted.rawValue, actor: .operator,
                details: ["user_id": user.id.rawValue, "email": user.email.value], at: clock.now())
        }
        return granted
    }

    /// Takes the operator role away; answers whether it was held.
    public func revokeOperator(email rawEmail: String) async throws -> Bool {
        let user = try await user(email: rawEmail)
        let revoked = try await console.revokeOperator(user.id)
        if revoked {
            try await console.appendConsoleEvent(
                type: ConsoleEventType.operatorRevoked.rawValue, actor: .operator,
                details: ["user_id": user.id.rawValue, "email": user.email.value], at: clock.now())
        }
        return revoked
    }

    /// Every operator.
    public func operators() async throws -> [User] {
        try await console.operators()
    }

    func user(email rawEmail: String) async throws -> User {
        guard let email = try? EmailAddress(normalizing: rawEmail),
            let user = try await accountRepository.credentials(email: email)?.user
        else {
            throw DomainError(
                .notFound, code: .userNotFound, message: "No account has the email address '\(rawEmail)'.")
        }
        return user
    }

    // MARK: Organizations

    /// Organizations matching `query` (an id, part of a name or a member's email address, the
    /// last two digits of the verified number, or the whole number in international form); at
    /// most `limit`, newest first.
    public func search(
        _ rawQuery: String?, after rawAfter: String? = nil, limit: Int = 50
    ) async throws
        -> [OrganizationSummary]
    {
        let query = (rawQuery ?? "").trimmingWhitespace()
        guard query.count <= 200 else {
            throw DomainError.invalidField("query", "A search is at most 200 characters.")
        }
        // A whole number, as a person would type it, is looked up by its digest.
        var digest: String?
        if let secrets, query.utf8.filter({ $0 >= 48 && $0 <= 57 }).count >= 7,
            let number = try? PhoneNumbers.parse(query, defaultRegion: nil), number.isValid
        {
            digest = secrets.phoneDigest(number.e164)
        }
        var after: OrganizationID?
        if let rawAfter, !rawAfter.isEmpty {
            guard let id = OrganizationID(rawAfter) else { throw DomainError.unknownCursor }
            after = id
        }
        return try await console.searchOrganizations(
            query, phoneDigest: digest, after: after, limit: min(max(limit, 1), 200))
    }

    /// The organization with this id, or `organization_not_found`.
    public func organization(_ rawID: String) async throws -> Organization {
        guard let id = OrganizationID(rawID), let organization = try await accountRepository.organization(id: id) else {
            throw DomainError(
                .notFound, code: .organizationNotFound, message: "No organization with id '\(rawID)'.", param: "id")
        }
        return organization
    }

    /// Everything the console's detail page shows of an organization.
    public func detail(_ rawID: String) async throws -> OrganizationDetail {
        let organization = try await organization(rawID)
        let id = organization.id
        let now = clock.now()
        let totals = try await usage.totals(
            UsageQuery(
                organizationID: id.rawValue, start: now.addingTimeInterval(-30 * 86_400), end: now,
                bucketWidth: 86_400))
        var requests = 0
        var tokens = 0
        var cost: Int64 = 0
        for total in totals {
            requests += total.requests
            tokens += total.promptTokens + total.completionTokens
            cost = cost.addingSaturated(total.inputCostNanos).addingSaturated(total.outputCostNanos)
        }
        return OrganizationDetail(
            organization: organization, members: try await accountRepository.members(of: id),
            tier: await rateLimits.usageTier(of: id, now: now).name,
            pinnedTier: await rateLimits.pinnedTier(of: id, now: now),
            keys: try await console.keys(of: id, limit: 100), requests: requests, tokens: tokens, costNanos: cost,
            balanceMicros: try await billingRepository.balance(of: id),
            organizationsSharingNumber: try await console.organizationsSharingNumber(with: id),
            organizationsSharingCard: try await console.organizationsSharingCard(with: id),
            supportRequests: try await support.requests.requests(in: id, limit: 20))
    }

    /// Suspends an organization: its keys are refused at the gateway from the next call, and its
    /// members see why and how to appeal.
    public func suspend(
        _ rawID: String, reason rawReason: String?, by operatorUser: User, clientAddress: String?
    ) async throws -> Organization {
        let reason = (rawReason ?? "").trimmingWhitespace()
        guard !reason.isEmpty else { throw DomainError.missingField("reason") }
        guard reason.count <= Suspension.maxReasonLength else {
            throw DomainError.invalidField("reason", "'reason' is at most \(Suspension.maxReasonLength) characters.")
        }
        var organization = try await organization(rawID)
        let now = wholeMilliseconds(clock.now())
        let event = AuditEvent(
            organizationID: organization.id, type: .organizationSuspended, effectiveAt: now,
            actor: .console(operatorUser, ipAddress: clientAddress), details: ["reason": reason])
        // The suspension and its audit entry are written together, or neither is.
        guard try await console.suspend(organization.id, reason: reason, at: now, recording: [event]) else {
            throw DomainError(.conflict, code: .invalidValue, message: "This organization is suspended already.")
        }
        suspended.insert(organization.id, reason: reason)
        organization.suspension = Suspension(suspendedAt: now, reason: reason)
        return organization
    }

    /// Lifts a suspension; the keys work again from the next call.
    public func unsuspend(
        _ rawID: String, by operatorUser: User, clientAddress: String?
    ) async throws
        -> Organization
    {
        var organization = try await organization(rawID)
        let now = wholeMilliseconds(clock.now())
        let actor = AuditActor.console(operatorUser, ipAddress: clientAddress)
        let event = AuditEvent(
            organizationID: organization.id, type: .organizationUnsuspended, effectiveAt: now, actor: actor,
            details: [:])
        guard try await console.unsuspend(organization.id, recording: [event]) else {
            throw DomainError(.conflict, code: .invalidValue, message: "This organization is not suspended.")
        }
        suspended.remove(organization.id)
        // An appeal still open is answered by this: left open, it would lift a later suspension.
        for request in try await support.requests.requests(in: organization.id, limit: 20)
        where request.status == .open && request.reason == .suspensionAppeal {
            let answered = AuditEvent(
                organizationID: organization.id, type: .supportRequestApproved, effectiveAt: now, actor: actor,
                details: [
                    "support_request_id": request.id.rawValue, "reason": request.reason.rawValue,
                    "outcome": "unsuspended",
                ])
            _ = try await support.requests.approve(
                request.id, by: operatorUser.email.value, at: now, recording: [answered])
        }
        organization.suspension = nil
        return organization
    }

    /// Returns an organization to unverified.
    public func resetVerification(
        _ rawID: String, reason: String?, by operatorUser: User, clientAddress: String?
    ) async throws {
        let organization = try await organization(rawID)
        let reason = reason?.trimmingWhitespace()
        guard (reason ?? "").count <= 500 else {
            throw DomainError.invalidField("reason", "'reason' is at most 500 characters.")
        }
        try await organizations.resetVerification(
            of: organization, reason: reason?.isEmpty == true ? nil : reason,
            by: .console(operatorUser, ipAddress: clientAddress))
    }

    /// Pins a tier (`nil` or `default`: earned by payment again).
    public func setTier(_ rawID: String, tier: String?, by operatorUser: User, clientAddress: String?) async throws {
        let organization = try await organization(rawID)
        let name = tier?.trimmingWhitespace()
        try await rateLimits.setTier(
            name == nil || name == "" || name == "default" ? nil : name, of: organization.id,
            by: .console(operatorUser, ipAddress: clientAddress))
    }

    /// Grants credit; `rawAmount` is money as a person writes it (`25`, `$25.00`).
    public func grantCredits(
        _ rawID: String, amount rawAmount: String?, reason: String?, by operatorUser: User, clientAddress: String?
    ) async throws -> LedgerEntry {
        let organization = try await organization(rawID)
        guard let rawAmount, !rawAmount.trimmingWhitespace().isEmpty else { throw DomainError.missingField("amount") }
        guard rawAmount.count <= 40, let micros = currency.parse(rawAmount) else {
            throw DomainError.invalidField(
                "amount", "'amount' is an amount of \(currency.code.uppercased()) such as 25 or 25.00.")
        }
        let reason = reason?.trimmingWhitespace()
        guard (reason ?? "").count <= 500 else {
            throw DomainError.invalidField("reason", "'reason' is at most 500 characters.")
        }
        return try await billing.grant(
            micros: micros, to: organization.id, reason: reason?.isEmpty == true ? nil : reason,
            by: .console(operatorUser, ipAddress: clientAddress))
    }

    /// The tiers an operator may pin.
    public var tierNames: [String] { rateLimits.usageTiers.tiers.map(\.name) }

    // MARK: Insights

    /// Each country's funnel over the window ending now.
    public func insights(_ window: InsightWindow) async throws -> [CountryInsight] {
        let counts = try await stats.counts(from: clock.now().addingTimeInterval(-window.seconds))
        return CountryInsight.rows(from: counts, prices: messagePrices)
    }

    // MARK: Prefix guard

    /// The operator's rules and the pauses that have not ended.
    public func prefixGuard() async throws -> (rules: [PrefixRule], pauses: [PrefixPause]) {
        (try await prefixes.rules(), try await prefixes.pauses(endingAfter: clock.now()))
    }

    /// Lifts an automatic pause early; the guard leaves the prefix alone until the pause would
    /// have ended.
    public func liftPause(_ rawPrefix: String?, by operatorUser: User, clientAddress: String?) async throws {
        let prefix = try Self.prefix(rawPrefix)
        guard try await prefixes.liftPause(prefix: prefix, by: operatorUser.email.value, at: clock.now()) else {
            throw DomainError(.notFound, code: .invalidValue, message: "No paused prefix \(prefix).", param: "prefix")
        }
        try await console.appendConsoleEvent(
            type: ConsoleEventType.prefixPauseLifted.rawValue, actor: .console(operatorUser, ipAddress: clientAddress),
            details: ["prefix": prefix], at: clock.now())
    }

    /// Adds or replaces a standing rule: `safe` prefixes are never paused, `blocked` ones always
    /// refused.
    public func setRule(
        _ rawPrefix: String?, kind rawKind: String?, reason rawReason: String?, by operatorUser: User,
        clientAddress: String?
    ) async throws -> PrefixRule {
        let prefix = try Self.prefix(rawPrefix)
        guard let rawKind, let kind = PrefixRule.Kind(rawValue: rawKind) else {
            throw DomainError.invalidField("kind", "'kind' is 'safe' or 'blocked'.")
        }
        let reason = (rawReason ?? "").trimmingWhitespace()
        guard reason.count <= 500 else {
            throw DomainError.invalidField("reason", "'reason' is at most 500 characters.")
        }
        let rule = PrefixRule(
            prefix: prefix, kind: kind, reason: reason, createdAt: wholeMilliseconds(clock.now()),
            createdBy: operatorUser.email.value)
        try await prefixes.setRule(rule)
        try await console.appendConsoleEvent(
            type: ConsoleEventType.prefixRuleSet.rawValue, actor: .console(operatorUser, ipAddress: clientAddress),
            details: ["prefix": prefix, "kind": kind.rawValue, "reason": reason], at: clock.now())
        return rule
    }

    /// Removes a standing rule.
    public func removeRule(_ rawPrefix: String?, by operatorUser: User, clientAddress: String?) async throws {
        let prefix = try Self.prefix(rawPrefix)
        guard try await prefixes.removeRule(prefix: prefix) else {
            throw DomainError(.notFound, code: .invalidValue, message: "No rule for \(prefix).", param: "prefix")
        }
        try await console.appendConsoleEvent(
            type: ConsoleEventType.prefixRuleRemoved.rawValue, actor: .console(operatorUser, ipAddress: clientAddress),
            details: ["prefix": prefix], at: clock.now())
    }

    static func prefix(_ raw: String?) throws -> String {
        guard let raw, !raw.trimmingWhitespace().isEmpty else { throw DomainError.missingField("prefix") }
        guard raw.count <= 40, let prefix = PrefixRule.normalized(raw) else {
            throw DomainError.invalidField("prefix", "A prefix is + and 1 to 15 digits, such as +44 or +4479.")
        }
        return prefix
    }

    // MARK: Audit

    /// The audit log across organizations and of the console itself, newest first.
    public func auditLog(
        organization rawOrganization: String?, type rawType: String?, after rawAfter: String?, limit: Int
    ) async throws -> Page<ConsoleAuditEvent> {
        var organization: OrganizationID?
        if let rawOrganization, !rawOrganization.isEmpty {
            guard let id = OrganizationID(rawOrganization) else {
                throw DomainError.invalidField("organization_id", "'organization_id' is an id such as org_...")
            }
            organization = id
        }
        var types: [String]?
        if let rawType, !rawType.isEmpty {
            guard rawType.count <= 100 else {
                throw DomainError.invalidField("type", "'type' is at most 100 characters.")
            }
            types = [rawType]
        }
        var after: AuditEventID?
        if let rawAfter, !rawAfter.isEmpty {
            guard let id = AuditEventID(rawAfter) else { throw DomainError.unknownCursor }
            after = id
        }
        return try await console.auditEvents(
            organization: organization, types: types, after: after, limit: min(max(limit, 1), 100))
    }

    /// Reloads the suspended set from storage (every few seconds, so suspensions made by other
    /// instances reach this one).
    public func refreshSuspensions() async throws {
        let generation = suspended.generation
        suspended.replace(with: try await console.suspendedOrganizations(), readAt: generation)
    }
}
