import Foundation
import Logging

/// What the owners of an organization see of its billing.
public struct BillingOverview: Sendable, Equatable {
    public var balanceMicros: Int64
    public var currency: BillingCurrency
    public var paymentMethods: [PaymentMethod]
    /// Auto-recharge as it applies now.
    public var autoRecharge: AutoRecharge
    /// Whether the owners set it themselves (otherwise the defaults apply).
    public var autoRechargeIsCustom: Bool
    /// Micro-units paid so far, purchases less refunds.
    public var totalPaidMicros: Int64
    public var firstPaymentAt: Date?
    /// Whether no real money moves (the test provider).
    public var testMode: Bool
    /// The purchase limits, in micro-units.
    public var minimumPurchaseMicros: Int64
    public var defaultPurchaseMicros: Int64
    public var maximumPurchaseMicros: Int64
}

/// Cards, credit purchases, auto-recharge and the ledger. The ledger is only ever added to; a
/// purchase is credited in the same transaction that marks it succeeded, so whichever of the
/// person's return, the provider's webhook or the sweeper comes first credits it, once.
public struct BillingService: Sendable {
    /// A signed-in person acting in one organization.
    public typealias Requester = PhoneVerificationService.Requester

    let billing: any BillingRepository
    let accounts: any AccountRepository
    let audit: any AuditLogRepository
    let provider: any PaymentProvider
    let fingerprints: CardFingerprints
    let email: EmailSender
    /// The operator's settings.
    public let settings: BillingSettings
    let clock: Clock
    let logger: Logger

    /// Creates the service.
    public init(
        billing: any BillingRepository, accounts: any AccountRepository, audit: any AuditLogRepository,
        provider: any PaymentProvider, fingerprints: CardFingerprints, email: EmailSender, settings: BillingSettings,
        clock: Clock, logger: Logger
    ) {
        self.billing = billing
        self.accounts = accounts
        self.audit = audit
        self.provider = provider
        self.fingerprints = fingerprints
        self.email = email
        self.settings = settings
        self.clock = clock
        self.logger = logger
    }

    /// Whether no real money moves.
    public var isTestMode: Bool { provider.isTestMode }

    // MARK: Reading

    /// The balance, cards and auto-recharge of the organization. Owners only.
    public func overview(for membership: Membership) async throws -> BillingOverview {
        try membership.require(.manageBilling)
        let organization = membership.organization.id
        let account = try await billing.account(of: organization)
        return BillingOverview(
            balanceMicros: try await billing.balance(of: organization), currency: settings.currency,
            paymentMethods: try await billing.paymentMethods(of: organization),
            autoRecharge: effectiveAutoRecharge(account), autoRechargeIsCustom: account?.autoRecharge != nil,
            totalPaidMicros: try await billing.totalPaid(by: organization), firstPaymentAt: account?.firstPaymentAt,
            testMode: provider.isTestMode, minimumPurchaseMicros: settings.minimumPurchaseMicros,
            defaultPurchaseMicros: settings.defaultPurchaseMicros, maximumPurchaseMicros: settings.maximumPurchaseMicros
        )
    }

    /// The organization's ledger, newest first. Owners only.
    public func transactions(
        for membership: Membership, after rawCursor: String?, limit: Int
    ) async throws
        -> Page<LedgerEntry>
    {
        try membership.require(.manageBilling)
        var cursor: LedgerEntryID?
        if let rawCursor {
            guard let id = LedgerEntryID(rawCursor) else {
                throw DomainError.malformedCursor(expected: "a transaction id")
            }
            cursor = id
        }
        return try await billing.entries(of: membership.organization.id, after: cursor, limit: limit)
    }

    /// A purchase of the organization. Owners only.
    public func purchase(_ rawID: String, for membership: Membership) async throws -> CreditPurchase {
        try membership.require(.manageBilling)
        guard let id = CreditPurchaseID(rawID),
            let purchase = try await billing.purchase(id, in: membership.organization.id)
        else { throw DomainError.purchaseNotFound(rawID) }
        return purchase
    }

    /// Whether the setup is one of the organization's, and the member may see its billing.
    public func hasSetup(_ id: BillingSetupID, for membership: Membership) async throws -> Bool {
        guard membership.allows(.manageBilling) else { return false }
        return try await billing.setup(id, in: membership.organization.id) != nil
    }

    /// Auto-recharge as it applies: the owners' settings, or the defaults, on once a first
    /// purchase succeeded.
    func effectiveAutoRecharge(_ account: BillingAccount?) -> AutoRecharge {
        if let custom = account?.autoRecharge { return custom }
        var defaults = settings.autoRechargeDefaults
        defaults.enabled = defaults.enabled && account?.firstPaymentAt != nil
        return defaults
    }

    // MARK: Cards

    /// Opens the provider's page to save a card and answers where to send the person. Owners only.
    public func startSetup(by requester: Requester) async throws -> BillingSetup {
        try requester.membership.require(.manageBilling)
        let organization = requester.membership.organization
        let customer = try await customer(for: organization)
        let id = BillingSetupID.generate()
        let now = clock.now()
        let page: ProviderSetupPage
        do {
            page = try await provider.startSetup(
                customer: customer, setup: id, currency: settings.currency,
                returnURL: "\(settings.publicURL)/settings/organization/billing/return?setup=\(id.rawValue)",
                cancelURL: "\(settings.publicURL)/settings/organization/billing?canceled=\(id.rawValue)")
        } catch {
            throw providerFailure(error, doing: "open the card page")
        }
        let setup = BillingSetup(
            id: id, organizationID: organization.id, userID: requester.user.id, providerReference: page.reference,
            url: page.url, status: .open, createdAt: now, expiresAt: now.addingTimeInterval(settings.setupLifetime))
        try await billing.createSetup(setup)
        return setup
    }

    /// The setup as it stands, after asking the provider how it ended if it is still open: the
    /// person's return from the provider's page lands here. Owners only.
    public func finishSetup(_ rawID: String, by requester: Requester) async throws -> BillingSetup {
        try requester.membership.require(.manageBilling)
        guard let id = BillingSetupID(rawID), let setup = try await billing.setup(id, in: requester.organization)
        else { throw DomainError.billingSetupNotFound(rawID) }
        return try await settle(setup, actor: requester.actor)
    }

    /// Removes a card: it is no longer charged, and still counts toward its card's limit. Owners only.
    public func removePaymentMethod(_ rawID: String, by requester: Requester) async throws {
        try requester.membership.require(.manageBilling)
        let organization = requester.membership.organization.id
        guard let id = PaymentMethodID(rawID), let method = try await billing.paymentMethod(id, in: organization),
            method.removedAt == nil
        else { throw DomainError.paymentMethodNotFound(rawID) }
        let now = clock.now()
        guard try await billing.removePaymentMethod(id, in: organization, at: now) else {
            throw DomainError.paymentMethodNotFound(rawID)
        }
        do {
            try await provider.detach(paymentMethod: method.providerReference)
        } catch {
            // The card is no longer charged by Keywarden either way; the provider keeps it until asked again.
            logger.warning(
                "payment provider did not detach a removed card",
                metadata: ["payment_method_id": .string(id.rawValue), "error": .string("\(error)")])
        }
        try await record(
            .billingPaymentMethodRemoved, organization, actor: requester.actor, now: now,
            details: ["payment_method_id": id.rawValue, "brand": method.brand, "last4": method.last4])
    }

    /// The provider's customer for the organization, made on first use.
    func customer(for organization: Organization) async throws -> String {
        if let existing = try await billing.account(of: organization.id)?.customerReference { return existing }
        let made: String
        do {
            made = try await provider.createCustomer(
                organization: organization.id, name: organization.name,
                idempotencyKey: "keywarden-customer-\(organization.id.rawValue)")
        } catch {
            throw providerFailure(error, doing: "create the customer")
        }
        return try await billing.saveCustomer(made, for: organization.id)
    }

    /// Asks the provider how an open setup ended and records it; an ended one is answered as it is.
    func settle(_ setup: BillingSetup, actor: AuditActor) async throws -> BillingSetup {
        guard setup.status == .open else { return setup }
        let now = clock.now()
        let state: ProviderSetupState
        do {
            state = try await provider.setupState(reference: setup.providerReference)
        } catch {
            throw providerFailure(error, doing: "read the card page")
        }
        switch state {
        case .open:
            if now >= setup.expiresAt {
                _ = try await billing.endSetup(setup.id, as: .expired, code: nil, message: nil, at: now)
            }
        case .expired:
            _ = try await billing.endSetup(setup.id, as: .expired, code: nil, message: nil, at: now)
        case .failed(let message):
            if try await billing.endSetup(
                setup.id, as: .failed, code: DomainError.Code.cardDeclined.rawValue, message: message, at: now)
            {
                try await record(
                    .billingPaymentMethodRefused, setup.organizationID, actor: actor, now: now,
                    details: ["setup_id": setup.id.rawValue, "reason": "card_declined"])
            }
        case .saved(let card):
            try await save(card, from: setup, actor: actor, now: now)
        }
        return try await billing.setup(setup.id, in: setup.organizationID) ?? setup
    }

    private func save(_ card: ProviderCard, from setup: BillingSetup, actor: AuditActor, now: Date) async throws {
        let method = PaymentMethod(
            organizationID: setup.organizationID, providerReference: card.reference, brand: card.brand,
            last4: card.last4, expMonth: card.expMonth, expYear: card.expYear,
            fingerprintDigest: fingerprints.digest(provider: provider.name, fingerprint: card.fingerprint),
            createdAt: now)
        switch try await billing.completeSetup(
            setup.id, with: method, at: now, maxOrganizationsPerCard: settings.maxOrganizationsPerCard)
        {
        case .saved(let saved) where saved.id == method.id:
            try await record(
                .billingPaymentMethodAdded, setup.organizationID, actor: actor, now: now,
                details: ["payment_method_id": saved.id.rawValue, "brand": saved.brand, "last4": saved.last4])
        case .saved, .alreadyEnded:
            // The organization had this card already, or the setup had ended: nothing was added.
            break
        case .cardLimitReached:
            let refusal = DomainError.paymentMethodLimitReached(settings.maxOrganizationsPerCard)
            if try await billing.endSetup(
                setup.id, as: .failed, code: refusal.code.rawValue, message: refusal.message, at: now)
            {
                try await record(
                    .billingPaymentMethodRefused, setup.organizationID, actor: actor, now: now,
                    details: ["setup_id": setup.id.rawValue, "reason": refusal.code.rawValue])
                try? await provider.detach(paymentMethod: card.reference)
            }
        }
    }

    // MARK: Purchases

    /// Buys credits with a saved card (the newest when none is named). Sent again with the same
    /// `idempotencyKey`, the same purchase is answered and nothing is charged twice. Owners only.
    ///
    /// - Returns: the purchase: `succeeded` (credited), or `requires_action` with the URL where
    ///   the person confirms the charge.
    /// - Throws: `card_declined` (402) when the card was declined, naming why; nothing is credited.
    public func buyCredits(
        amountMinorUnits: Int64?, paymentMethod rawMethod: String?, idempotencyKey rawKey: String?,
        by requester: Requester
    ) async throws -> CreditPurchase {
        try requester.membership.require(.manageBilling)
        let organization = requester.membership.organization
        let amount = try purchaseAmount(amountMinorUnits)
        let idempotencyKey = try Self.idempotencyKey(rawKey)
        let method = try await chargeableMethod(rawMethod, in: organization.id)
        let now = clock.now()
        let fresh = CreditPurchase(
            organizationID: organization.id, amountMicros: amount, paymentMethodID: method.id, trigger: .manual,
            status: .pending, idempotencyKey: idempotencyKey, userID: requester.user.id, createdAt: now, updatedAt: now)
        let stored = try await billing.createPurchase(fresh)
        if stored.id != fresh.id {
            guard stored.amountMicros == amount, rawMethod == nil || stored.paymentMethodID == method.id,
                stored.trigger == .manual
            else {
                throw DomainError.idempotencyKeyReused
            }
            let replayed = try await refreshed(stored, actor: requester.actor)
            if replayed.status == .failed {
                throw DomainError.cardDeclined(replayed.failureMessage ?? Self.declinedMessage)
            }
            return replayed
        }
        let purchase = try await charge(
            stored, method: method, organization: organization, personPresent: true, actor: requester.actor)
        if purchase.status == .failed {
            throw DomainError.cardDeclined(purchase.failureMessage ?? Self.declinedMessage)
        }
        return purchase
    }

    /// The purchase after asking the provider where it stands: the person's return from a
    /// confirmation step lands here. Owners only.
    public func finishPurchase(_ rawID: String, by requester: Requester) async throws -> CreditPurchase {
        let purchase = try await purchase(rawID, for: requester.membership)
        return try await refreshed(purchase, actor: requester.actor)
    }

    /// Sends a stored pending purchase to the provider and records the answer.
    func charge(
        _ purchase: CreditPurchase, method: PaymentMethod, organization: Organization, personPresent: Bool,
        actor: AuditActor
    ) async throws -> CreditPurchase {
        let customer = try await customer(for: organization)
        let request = ProviderCharge(
            customer: customer, paymentMethod: method.providerReference,
            amountMinorUnits: settings.currency.minorUnits(micros: purchase.amountMicros), currency: settings.currency,
            purchase: purchase.id, idempotencyKey: "keywarden-purchase-\(purchase.id.rawValue)",
            personPresent: personPresent,
            returnURL: "\(settings.publicURL)/settings/organization/billing/purchases/\(purchase.id.rawValue)/return",
            description: "Keywarden credits")
        let state: ProviderChargeState
        do {
            state = try await provider.charge(request)
        } catch let refusal as PaymentProviderError where refusal.refused {
            // The provider answered and did nothing: the purchase fails, and says so.
            logger.warning(
                "payment provider refused a charge",
                metadata: ["purchase_id": .string(purchase.id.rawValue), "error": .string("\(refusal)")])
            state = .failed(reference: nil, message: Self.notChargedMessage)
        } catch {
            // Whether the provider charged is unknown: the purchase stays pending, and the sweeper
            // asks again with the same idempotency key, which charges at most once. The person is
            // told it is being confirmed, never that nothing was charged.
            logger.warning(
                "payment provider did not answer a charge",
                metadata: ["purchase_id": .string(purchase.id.rawValue), "error": .string("\(error)")])
            return try await billing.purchase(purchase.id, in: purchase.organizationID) ?? purchase
        }
        return try await apply(state, to: purchase, actor: actor)
    }

    /// Records where the provider says a charge stands; a purchase that ended is left as it is.
    func apply(
        _ state: ProviderChargeState, to purchase: CreditPurchase, actor: AuditActor
    ) async throws
        -> CreditPurchase
    {
        let now = clock.now()
        let transition: PurchaseTransition
        switch state {
        case .processing(let reference):
            transition = try await billing.transition(
                purchase.id, to: .pending, providerReference: reference, actionURL: nil, failureMessage: nil,
                entry: nil, at: now)
        case .requiresAction(let reference, let url):
            transition = try await billing.transition(
                purchase.id, to: .requiresAction, providerReference: reference, actionURL: url, failureMessage: nil,
                entry: nil, at: now)
        case .succeeded(let reference):
            let entry = LedgerEntry(
                organizationID: purchase.organizationID, kind: .purchase, amountMicros: purchase.amountMicros,
                description: purchase.trigger == .autoRecharge ? "Auto-recharge" : "Credit purchase",
                reference: purchase.id.rawValue, createdAt: now)
            transition = try await billing.transition(
                purchase.id, to: .succeeded, providerReference: reference, actionURL: nil, failureMessage: nil,
                entry: entry, at: now)
            if case .changed(let done) = transition { try await purchased(done, actor: actor, now: now) }
        case .failed(let reference, let message):
            transition = try await billing.transition(
                purchase.id, to: .failed, providerReference: reference, actionURL: nil, failureMessage: message,
                entry: nil, at: now)
            if case .changed(let failed) = transition { try await purchaseFailed(failed, actor: actor, now: now) }
        }
        switch transition {
        case .changed(let changed), .unchanged(let changed): return changed
        }
    }

    private func refreshed(_ purchase: CreditPurchase, actor: AuditActor) async throws -> CreditPurchase {
        guard !purchase.status.isFinal, let reference = purchase.providerReference else { return purchase }
        let state: ProviderChargeState
        do {
            state = try await provider.chargeState(reference: reference)
        } catch {
            throw providerFailure(error, doing: "read the charge")
        }
        return try await apply(state, to: purchase, actor: actor)
    }

    private func purchased(_ purchase: CreditPurchase, actor: AuditActor, now: Date) async throws {
        try await record(
            .billingCreditsPurchased, purchase.organizationID, actor: actor, now: now,
            details: [
                "purchase_id": purchase.id.rawValue, "amount_micros": String(purchase.amountMicros),
                "trigger": purchase.trigger.rawValue,
            ])
        logger.info(
            "credits purchased",
            metadata: [
                "purchase_id": .string(purchase.id.rawValue),
                "organization_id": .string(purchase.organizationID.rawValue),
            ])
        await mailReceipt(for: purchase, now: now)
    }

    private func purchaseFailed(_ purchase: CreditPurchase, actor: AuditActor, now: Date) async throws {
        try await record(
            .billingPurchaseFailed, purchase.organizationID, actor: actor, now: now,
            details: [
                "purchase_id": purchase.id.rawValue, "amount_micros": String(purchase.amountMicros),
                "trigger": purchase.trigger.rawValue, "reason": "card_declined",
            ])
        if purchase.trigger == .autoRecharge {
            await mailOwners(
                of: purchase.organizationID, subject: "Your Keywarden auto-recharge failed",
                text: """
                    An automatic purchase of \(settings.currency.format(micros: purchase.amountMicros)) of credits failed: \
                    \(purchase.failureMessage ?? Self.declinedMessage)

                    Nothing was charged. Update your payment method or buy credits at \(settings.publicURL)/settings/organization/billing
                    """)
        }
    }

    // MARK: Auto-recharge

    /// Changes auto-recharge. Amounts are in minor units (cents); the threshold may be zero, the
    /// amount is a valid purchase, and the monthly cap at least the amount. Owners only.
    public func setAutoRecharge(
        enabled: Bool, thresholdMinorUnits: Int64?, amountMinorUnits: Int64?, monthlyCapMinorUnits: Int64?,
        by requester: Requester
    ) async throws -> AutoRecharge {
        try requester.membership.require(.manageBilling)
        let organization = requester.membership.organization.id
        let current = effectiveAutoRecharge(try await billing.account(of: organization))
        let currency = settings.currency
        func micros(_ value: Int64?, field: String, otherwise: Int64) throws -> Int64 {
            guard let value else { return otherwise }
            guard value >= 0, let micros = currency.micros(minorUnits: value),
                micros <= settings.maximumPurchaseMicros * 100
            else {
                throw DomainError.invalidField(
                    field,
                    "'\(field)' must be a whole number of \(currency.minorUnitName) from 0 up to \(currency.minorUnits(micros: settings.maximumPurchaseMicros * 100))."
                )
            }
            return micros
        }
        let threshold = try micros(thresholdMinorUnits, field: "threshold", otherwise: current.thresholdMicros)
        let amount = try micros(amountMinorUnits, field: "amount", otherwise: current.amountMicros)
        guard amount >= settings.minimumPurchaseMicros, amount <= settings.maximumPurchaseMicros else {
            throw DomainError.invalidField("amount", amountRangeMessage(field: "amount"))
        }
        let cap = try micros(
            monthlyCapMinorUnits, field: "monthly_cap", otherwise: max(current.monthlyCapMicros, amount))
        guard cap >= amount else {
            throw DomainError.invalidField(
                "monthly_cap", "'monthly_cap' must be at least the recharge amount, \(currency.format(micros: amount))."
            )
        }
        let chosen = AutoRecharge(
            enabled: enabled, thresholdMicros: threshold, amountMicros: amount, monthlyCapMicros: cap)
        try await billing.setAutoRecharge(chosen, for: organization)
        try await record(
            .billingAutoRechargeUpdated, organization, actor: requester.actor, now: clock.now(),
            details: [
                "enabled": String(enabled), "threshold_micros": String(threshold), "amount_micros": String(amount),
                "monthly_cap_micros": String(cap),
            ])
        return chosen
    }

    /// Buys the auto-recharge amount for an organization whose balance is below its threshold,
    /// unless an automatic purchase is under way or this month's cap would be passed. Returns the
    /// purchase made, if any.
    @discardableResult
    public func rechargeIfNeeded(_ organizationID: OrganizationID) async throws -> CreditPurchase? {
        let account = try await billing.account(of: organizationID)
        let auto = effectiveAutoRecharge(account)
        guard auto.enabled else { return nil }
        guard try await billing.balance(of: organizationID) < auto.thresholdMicros else { return nil }
        guard !(try await billing.hasUnsettledAutoRecharge(organizationID)) else { return nil }
        guard let method = try await billing.paymentMethods(of: organizationID).last else { return nil }
        if let last = try await billing.latestAutoRecharge(of: organizationID), last.status == .failed,
            last.createdAt >= method.createdAt
        {
            // The owners were told it failed; the same card is not charged again every round,
            // only once a card is added (or a person buys credits, which succeeds or says why).
            return nil
        }
        let now = clock.now()
        let spent = try await billing.autoRechargeTotal(of: organizationID, since: UTCMonth.start(of: now))
        guard spent + auto.amountMicros <= auto.monthlyCapMicros else { return nil }
        guard let organization = try await accounts.organization(id: organizationID) else { return nil }
        let purchase = try await billing.createPurchase(
            CreditPurchase(
                organizationID: organizationID, amountMicros: auto.amountMicros, paymentMethodID: method.id,
                trigger: .autoRecharge, status: .pending, idempotencyKey: nil, userID: nil, createdAt: now,
                updatedAt: now))
        return try await charge(
            purchase, method: method, organization: organization, personPresent: false, actor: .system)
    }

    // MARK: Provider events and the sweeper

    /// Acts on an event the provider sent (already checked as genuine), once per event id.
    ///
    /// An event is noted after it was handled, so a delivery that failed half-way is handled
    /// again when the provider retries; every step of handling is safe to repeat.
    public func handle(_ event: ProviderEvent) async throws {
        guard !(try await billing.hasEvent(provider: provider.name, id: event.id)) else { return }
        let now = clock.now()
        switch event.subject {
        case .ignored:
            break
        case .setupFinished(let reference):
            if let setup = try await billing.setup(providerReference: reference) {
                _ = try await settle(setup, actor: .system)
            }
        case .charge(let state):
            let reference: String?
            switch state {
            case .processing(let ref), .requiresAction(let ref, _), .succeeded(let ref): reference = ref
            case .failed(let ref, _): reference = ref
            }
            if let reference, let purchase = try await billing.purchase(providerReference: reference) {
                _ = try await apply(state, to: purchase, actor: .system)
            }
        case .refund(let charge, let reference, let amount):
            if var purchase = try await billing.purchase(providerReference: charge) {
                // A refund can only follow a payment: one that arrives before the payment's own
                // news settles the purchase first, or waits for the provider to send it again.
                purchase = try await refreshed(purchase, actor: .system)
                guard purchase.status.isFinal else {
                    throw PaymentProviderError("a refund arrived before its payment \(purchase.id.rawValue) settled")
                }
                try await refund(purchase, reference: reference, amountMinorUnits: amount, now: now)
            }
        }
        _ = try await billing.recordEvent(provider: provider.name, id: event.id, at: now)
    }

    /// One round of the sweeper: asks the provider about purchases and card pages that have
    /// waited longer than `settle_after`, and tops up balances below their auto-recharge threshold.
    /// Returns how many purchases it settled.
    @discardableResult
    public func sweep(limit: Int = 100) async throws -> Int {
        let now = clock.now()
        var settled = 0
        for purchase in try await billing.unsettledPurchases(
            before: now.addingTimeInterval(-settings.settleAfter), limit: limit)
        {
            var settledPurchase: CreditPurchase?
            do {
                settledPurchase = try await settle(purchase, now: now)
            } catch {
                logger.warning(
                    "could not settle a purchase",
                    metadata: ["purchase_id": .string(purchase.id.rawValue), "error": .string("\(error)")])
            }
            // After a failure it is read again: another instance may have moved it meanwhile.
            let after: CreditPurchase
            if let settledPurchase {
                after = settledPurchase
            } else if let reread = try await billing.purchase(purchase.id, in: purchase.organizationID) {
                after = reread
            } else {
                continue
            }
            if after.status.isFinal {
                settled += 1
            } else if after.updatedAt == purchase.updatedAt {
                // Asked and still unsettled: to the back of the queue, so one stuck purchase
                // cannot hold the front of every round.
                _ = try await billing.transition(
                    after.id, to: after.status, providerReference: nil, actionURL: after.actionURL,
                    failureMessage: nil, entry: nil, at: now)
            }
        }
        for setup in try await billing.openSetups(before: now.addingTimeInterval(-settings.settleAfter), limit: limit) {
            do {
                _ = try await settle(setup, actor: .system)
            } catch {
                logger.warning(
                    "could not settle a card setup",
                    metadata: ["setup_id": .string(setup.id.rawValue), "error": .string("\(error)")])
            }
        }
        for organization in try await billing.accountsBelowThreshold(
            defaults: settings.autoRechargeDefaults, enabledByDefault: settings.autoRechargeDefaults.enabled,
            limit: limit)
        {
            do {
                try await rechargeIfNeeded(organization)
            } catch {
                logger.warning(
                    "auto-recharge failed",
                    metadata: ["organization_id": .string(organization.rawValue), "error": .string("\(error)")])
            }
        }
        return settled
    }

    /// How long a charge may wait, unanswered or for the person's confirmation, before it is
    /// given up: the provider keeps idempotency keys for a day.
    static let chargeLifetime: TimeInterval = 86_400

    /// One unsettled purchase as the sweeper finds it, after asking the provider again.
    private func settle(_ purchase: CreditPurchase, now: Date) async throws -> CreditPurchase {
        let age = now.timeIntervalSince(purchase.createdAt)
        guard let reference = purchase.providerReference else {
            if age > Self.chargeLifetime {
                // Past the idempotency key's life, asking again could charge twice.
                return try await apply(
                    .failed(reference: nil, message: Self.unconfirmedMessage), to: purchase, actor: .system)
            }
            // The charge request never got an answer: asking again with the same idempotency
            // key answers the first charge rather than making another.
            guard
                let method = try await billing.paymentMethod(purchase.paymentMethodID, in: purchase.organizationID),
                let organization = try await accounts.organization(id: purchase.organizationID)
            else { return purchase }
            return try await charge(
                purchase, method: method, organization: organization, personPresent: purchase.trigger == .manual,
                actor: .system)
        }
        if purchase.status == .requiresAction, age > Self.chargeLifetime {
            // Cancelled at the provider first, so a confirmation that comes later charges
            // nothing; a charge that went through meanwhile is credited as it should be. A
            // charge the provider still holds open stays as it is and is asked about again.
            try await provider.cancelCharge(reference: reference)
            return try await apply(try await provider.chargeState(reference: reference), to: purchase, actor: .system)
        }
        return try await refreshed(purchase, actor: .system)
    }

    /// Takes a refund back out of the balance: at most what the purchase bought, once per
    /// refund. The balance may go below zero, since the credit may have been spent already.
    func refund(_ purchase: CreditPurchase, reference: String, amountMinorUnits: Int64, now: Date) async throws {
        guard purchase.status == .succeeded, amountMinorUnits > 0,
            let micros = settings.currency.micros(minorUnits: amountMinorUnits)
        else { return }
        let taken = min(micros, purchase.amountMicros)
        let entry = LedgerEntry(
            organizationID: purchase.organizationID, kind: .refund, amountMicros: -taken,
            description: "Refund of \(purchase.id.rawValue)", reference: reference, createdAt: now)
        guard try await billing.append(entry) else { return }
        try await record(
            .billingCreditsRefunded, purchase.organizationID, actor: .system, now: now,
            details: [
                "purchase_id": purchase.id.rawValue, "amount_micros": String(taken),
                "transaction_id": entry.id.rawValue,
            ])
    }

    // MARK: Operator

    /// Adds credit to an organization's balance as a grant, recorded with who gave it.
    public func grant(
        micros: Int64, to organization: OrganizationID, reason: String?, by actor: AuditActor
    ) async throws -> LedgerEntry {
        guard micros > 0, micros <= settings.maximumPurchaseMicros * 100 else {
            throw DomainError.invalidField(
                "amount",
                "A grant must be more than zero and at most \(settings.currency.format(micros: settings.maximumPurchaseMicros * 100))."
            )
        }
        let now = clock.now()
        let entry = LedgerEntry(
            organizationID: organization, kind: .grant, amountMicros: micros,
            description: reason.map { "Credit grant: \($0)" } ?? "Credit grant", reference: nil, createdAt: now)
        _ = try await billing.append(entry)
        var details = ["amount_micros": String(micros), "transaction_id": entry.id.rawValue]
        details["reason"] = reason
        try await record(.billingCreditsGranted, organization, actor: actor, now: now, details: details)
        return entry
    }

    // MARK: Helpers

    static let declinedMessage = "Your card was declined. Try another card or contact your bank."
    static let notChargedMessage =
        "The payment provider could not take this payment, so nothing was charged. Try again, or use another card."
    static let unconfirmedMessage =
        "The payment provider never confirmed this payment within a day, so nothing was credited. Contact support if your card was charged."

    func purchaseAmount(_ minorUnits: Int64?) throws -> Int64 {
        guard let minorUnits else { return settings.defaultPurchaseMicros }
        guard minorUnits >= 0, let micros = settings.currency.micros(minorUnits: minorUnits),
            micros >= settings.minimumPurchaseMicros, micros <= settings.maximumPurchaseMicros
        else { throw DomainError.invalidField("amount", amountRangeMessage(field: "amount")) }
        return micros
    }

    func amountRangeMessage(field: String) -> String {
        let currency = settings.currency
        return
            "'\(field)' must be from \(currency.format(micros: settings.minimumPurchaseMicros)) to \(currency.format(micros: settings.maximumPurchaseMicros)), given in \(currency.minorUnitName) (\(currency.minorUnits(micros: settings.minimumPurchaseMicros)) to \(currency.minorUnits(micros: settings.maximumPurchaseMicros)))."
    }

    static func idempotencyKey(_ raw: String?) throws -> String? {
        guard let raw else { return nil }
        guard !raw.isEmpty, raw.utf8.count <= 255, raw.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
            throw DomainError.invalidField(
                "Idempotency-Key", "Idempotency-Key must be 1 to 255 visible ASCII characters, without spaces.")
        }
        return raw
    }

    func chargeableMethod(_ raw: String?, in organization: OrganizationID) async throws -> PaymentMethod {
        if let raw {
            guard let id = PaymentMethodID(raw), let method = try await billing.paymentMethod(id, in: organization),
                method.removedAt == nil
            else { throw DomainError.paymentMethodNotFound(raw) }
            return method
        }
        guard let newest = try await billing.paymentMethods(of: organization).last else {
            throw DomainError.paymentMethodRequired
        }
        return newest
    }

    func providerFailure(_ error: any Error, doing what: String) -> DomainError {
        if let refusal = error as? DomainError { return refusal }
        logger.error(
            "payment provider failed", metadata: ["action": .string(what), "error": .string("\(error)")])
        return .paymentProviderUnavailable
    }

    func record(
        _ type: AuditEventType, _ organization: OrganizationID, actor: AuditActor, now: Date, details: [String: String]
    ) async throws {
        try await audit.append(
            AuditEvent(organizationID: organization, type: type, effectiveAt: now, actor: actor, details: details))
    }

    private func mailReceipt(for purchase: CreditPurchase, now: Date) async {
        let currency = settings.currency
        let method = try? await billing.paymentMethod(purchase.paymentMethodID, in: purchase.organizationID)
        let card = method.map { "\($0.brand.capitalized) ending in \($0.last4)" } ?? "your card"
        let balance = (try? await billing.balance(of: purchase.organizationID)) ?? 0
        let text = """
            Receipt \(purchase.id.rawValue)\(provider.isTestMode ? " (test mode: no money was charged)" : "")

            \(purchase.trigger == .autoRecharge ? "Auto-recharge" : "Credit purchase"): \(currency.format(micros: purchase.amountMicros))
            Paid with: \(card)
            Date: \(UTCMonth.dateText(now))
            Balance after: \(currency.format(micros: balance))

            Billing history: \(settings.publicURL)/settings/organization/billing
            """
        await mailOwners(of: purchase.organizationID, subject: "Your Keywarden receipt", text: text)
    }

    func mailOwners(of organization: OrganizationID, subject: String, text: String) async {
        guard let members = try? await accounts.members(of: organization) else { return }
        for member in members where member.role == .owner {
            do {
                try await email.send(EmailMessage(to: member.user.email, subject: subject, text: text))
            } catch {
                logger.warning(
                    "billing email not sent",
                    metadata: ["organization_id": .string(organization.rawValue), "error": .string("\(error)")])
            }
        }
    }
}

extension BillingCurrency {
    /// The minor unit's name in a sentence: `cents`, or `units` for zero-decimal currencies.
    public var minorUnitName: String { minorDigits == 0 ? "whole units" : code == "usd" ? "cents" : "minor units" }
}

/// Calendar months and dates in UTC, for monthly caps and receipts.
enum UTCMonth {
    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// The first instant of the month `date` falls in.
    static func start(of date: Date) -> Date {
        let (year, month) = yearAndMonth(of: date)
        return firstInstant(year: year, month: month)
    }

    /// The first instant of the month after the one `date` falls in.
    static func nextStart(after date: Date) -> Date {
        let (year, month) = yearAndMonth(of: date)
        return month == 12 ? firstInstant(year: year + 1, month: 1) : firstInstant(year: year, month: month + 1)
    }

    /// The UTC year and month (1–12) of `date`, by integer arithmetic on the proleptic Gregorian
    /// calendar (no Calendar look-up: the gateway asks this on every priced call).
    static func yearAndMonth(of date: Date) -> (year: Int, month: Int) {
        let seconds = date.timeIntervalSince1970.isFinite ? date.timeIntervalSince1970 : 0
        let clamped = min(max(seconds, -62_135_596_800), 253_402_300_799)  // years 1 to 9999
        let days = Int((clamped / 86_400).rounded(.down)) + 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shifted = (5 * dayOfYear + 2) / 153
        let month = shifted < 10 ? shifted + 3 : shifted - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month)
    }

    /// Midnight UTC of the first day of `month` in `year`.
    static func firstInstant(year: Int, month: Int) -> Date {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Date(timeIntervalSince1970: TimeInterval(days) * 86_400)
    }

    /// `1 January 2027 UTC`.
    static func dayText(_ date: Date) -> String {
        let names = [
            "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
            "November", "December",
        ]
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return "\(parts.day ?? 1) \(names[((parts.month ?? 1) - 1) % 12]) \(parts.year ?? 1970) UTC"
    }

    /// `2026-12-03 06:12 UTC`.
    static func dateText(_ date: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        return "\(parts.year ?? 0)-\(two(parts.month))-\(two(parts.day)) \(two(parts.hour)):\(two(parts.minute)) UTC"
    }
}
