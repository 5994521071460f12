import Foundation
import KeywardenCore

/// The ledger, cards, card setups, purchases and handled provider events in memory, as
/// `SQLBillingRepository` keeps them: each call runs on the actor without a suspension point,
/// so it is one uninterrupted step, as its statement or transaction is.
///
/// It keeps the rules the schema enforces (unique ids, one entry per kind and reference, one
/// purchase per organization and idempotency key, one record per provider event) and refuses,
/// as a constraint violation, a call storage could not answer (completing a setup that is not
/// there).
actor InMemoryBillingRepository: BillingRepository {
    typealias ConstraintViolation = InMemoryDatabase.ConstraintViolation

    /// A provider event noted as handled.
    private struct EventKey: Hashable {
        var provider: String
        var id: String
    }

    private var accounts: [OrganizationID: BillingAccount] = [:]
    private var setups: [BillingSetup] = []
    private var methods: [PaymentMethod] = []
    private var purchaseRows: [CreditPurchase] = []
    private var ledgerRows: [LedgerEntry] = []
    private var events: [EventKey: Date] = [:]

    // MARK: Accounts

    func account(of organization: OrganizationID) -> BillingAccount? {
        accounts[organization]
    }

    func saveCustomer(_ reference: String, for organization: OrganizationID) -> String {
        ensureAccount(organization)
        // The first customer stored wins, so two simultaneous first setups agree on one.
        if accounts[organization]?.customerReference == nil { accounts[organization]?.customerReference = reference }
        return accounts[organization]?.customerReference ?? reference
    }

    func setAutoRecharge(_ settings: AutoRecharge, for organization: OrganizationID) {
        ensureAccount(organization)
        accounts[organization]?.autoRecharge = settings
    }

    func accountsBelowThreshold(defaults: AutoRecharge, enabledByDefault: Bool, limit: Int) -> [OrganizationID] {
        let below = accounts.values.filter { account in
            // Own settings when set; the defaults, on after a first payment, otherwise.
            let enabled = account.autoRecharge?.enabled ?? (enabledByDefault && account.firstPaymentAt != nil)
            let threshold = account.autoRecharge?.thresholdMicros ?? defaults.thresholdMicros
            let organization = account.organizationID
            let cards = methods.filter { $0.organizationID == organization && $0.removedAt == nil }
            guard enabled, let newest = cards.map(\.createdAt).max() else { return false }
            let waiting = purchaseRows.contains {
                $0.organizationID == organization && $0.trigger == .autoRecharge
                    && (!$0.status.isFinal || ($0.status == .failed && $0.createdAt >= newest))
            }
            return !waiting && balance(of: organization) < threshold
        }
        return Array(below.map(\.organizationID).sorted { $0.rawValue < $1.rawValue }.prefix(max(1, limit)))
    }

    private func ensureAccount(_ organization: OrganizationID) {
        if accounts[organization] == nil { accounts[organization] = BillingAccount(organizationID: organization) }
    }

    // MARK: Setups and cards

    func createSetup(_ setup: BillingSetup) throws {
        try require(!setups.contains { $0.id == setup.id }, "billing_setups.id is unique")
        setups.append(setup)
    }

    func setup(_ id: BillingSetupID, in organization: OrganizationID) -> BillingSetup? {
        setups.first { $0.id == id && $0.organizationID == organization }
    }

    func setup(providerReference: String) -> BillingSetup? {
        setups.first { $0.providerReference == providerReference }
    }

    func openSetups(before: Date, limit: Int) -> [BillingSetup] {
        let open = setups.filter { $0.status == .open && $0.createdAt < before }
            .sorted { ($0.createdAt, $0.id.rawValue) < ($1.createdAt, $1.id.rawValue) }
        return Array(open.prefix(max(1, limit)))
    }

    func completeSetup(
        _ setup: BillingSetupID, with method: PaymentMethod, at now: Date, maxOrganizationsPerCard: Int
    ) throws -> SetupCompletion {
        guard let index = setups.firstIndex(where: { $0.id == setup }) else {
            throw ConstraintViolation(rule: "billing setup \(setup) exists")
        }
        guard setups[index].status == .open else { return .alreadyEnded(setups[index]) }
        let saved: PaymentMethod
        if let existing = methods.first(where: {
            $0.organizationID == method.organizationID && $0.fingerprintDigest == method.fingerprintDigest
                && $0.removedAt == nil
        }) {
            // The organization has this card already: it is answered, not saved twice.
            saved = existing
        } else {
            let others = organizationsSharingCard(
                fingerprintDigest: method.fingerprintDigest, except: method.organizationID)
            guard others < maxOrganizationsPerCard else { return .cardLimitReached }
            try require(!methods.contains { $0.id == method.id }, "payment_methods.id is unique")
            methods.append(method)
            saved = method
        }
        setups[index].status = .complete
        setups[index].paymentMethodID = saved.id
        return .saved(saved)
    }

    func endSetup(
        _ setup: BillingSetupID, as status: BillingSetup.Status, code: String?, message: String?, at now: Date
    ) throws -> Bool {
        try require(status == .failed || status == .expired, "a setup ends as failed or expired")
        guard let index = setups.firstIndex(where: { $0.id == setup && $0.status == .open }) else { return false }
        setups[index].status = status
        setups[index].failureCode = code
        setups[index].failureMessage = message
        return true
    }

    func paymentMethods(of organization: OrganizationID) -> [PaymentMethod] {
        methods.filter { $0.organizationID == organization && $0.removedAt == nil }
            .sorted { ($0.createdAt, $0.id.rawValue) < ($1.createdAt, $1.id.rawValue) }
    }

    func paymentMethod(_ id: PaymentMethodID, in organization: OrganizationID) -> PaymentMethod? {
        methods.first { $0.id == id && $0.organizationID == organization }
    }

    func removePaymentMethod(_ id: PaymentMethodID, in organization: OrganizationID, at now: Date) -> Bool {
        guard
            let index = methods.firstIndex(where: {
                $0.id == id && $0.organizationID == organization && $0.removedAt == nil
            })
        else { return false }
        methods[index].removedAt = now
        return true
    }

    func organizationsSharingCard(fingerprintDigest: String, except organization: OrganizationID) -> Int {
        // Removed cards count: an organization that had the card once has had it.
        Set(
            methods.filter { $0.fingerprintDigest == fingerprintDigest && $0.organizationID != organization }
                .map(\.organizationID)
        ).count
    }

    // MARK: Purchases

    func createPurchase(_ purchase: CreditPurchase) throws -> CreditPurchase {
        if let key = purchase.idempotencyKey,
            let earlier = purchaseRows.first(where: {
                $0.organizationID == purchase.organizationID && $0.idempotencyKey == key
            })
        {
            return earlier
        }
        try require(!purchaseRows.contains { $0.id == purchase.id }, "credit_purchases.id is unique")
        try require(
            purchase.trigger != .autoRecharge || purchase.status.isFinal
                || !purchaseRows.contains {
                    $0.organizationID == purchase.organizationID && $0.trigger == .autoRecharge && !$0.status.isFinal
                }, "one automatic purchase under way per organization")
        purchaseRows.append(purchase)
        return purchase
    }

    func purchase(_ id: CreditPurchaseID, in organization: OrganizationID) -> CreditPurchase? {
        purchaseRows.first { $0.id == id && $0.organizationID == organization }
    }

    func purchase(providerReference: String) -> CreditPurchase? {
        purchaseRows.first { $0.providerReference == providerReference }
    }

    func transition(
        _ purchase: CreditPurchaseID, to status: CreditPurchase.Status, providerReference: String?, actionURL: String?,
        failureMessage: String?, entry: LedgerEntry?, at now: Date
    ) throws -> PurchaseTransition {
        guard let index = purchaseRows.firstIndex(where: { $0.id == purchase }) else {
            throw ConstraintViolation(rule: "credit purchase \(purchase) exists")
        }
        // A purchase that ended stays as it is, so a charge is credited once.
        guard !purchaseRows[index].status.isFinal else { return .unchanged(purchaseRows[index]) }
        var changed = purchaseRows[index]
        changed.status = status
        changed.providerReference = providerReference ?? changed.providerReference
        changed.actionURL = actionURL
        changed.failureMessage = failureMessage
        changed.updatedAt = now
        if status == .succeeded, let entry {
            // The whole step either happens or not: check the entry before writing anything.
            try require(!ledgerRows.contains { $0.id == entry.id }, "ledger_entries.id is unique")
            _ = append(entryUnchecked: entry)
            ensureAccount(changed.organizationID)
            if accounts[changed.organizationID]?.firstPaymentAt == nil {
                accounts[changed.organizationID]?.firstPaymentAt = now
            }
        }
        purchaseRows[index] = changed
        return .changed(changed)
    }

    func unsettledPurchases(before: Date, limit: Int) -> [CreditPurchase] {
        let unsettled = purchaseRows.filter { !$0.status.isFinal && $0.updatedAt < before }
            .sorted { ($0.updatedAt, $0.id.rawValue) < ($1.updatedAt, $1.id.rawValue) }
        return Array(unsettled.prefix(max(1, limit)))
    }

    func autoRechargeTotal(of organization: OrganizationID, since: Date) -> Int64 {
        purchaseRows.filter {
            $0.organizationID == organization && $0.trigger == .autoRecharge && $0.status != .failed
                && $0.createdAt >= since
        }
        .reduce(0) { $0 + $1.amountMicros }
    }

    func latestAutoRecharge(of organization: OrganizationID) -> CreditPurchase? {
        purchaseRows.filter { $0.organizationID == organization && $0.trigger == .autoRecharge }
            .max { ($0.createdAt, $0.id.rawValue) < ($1.createdAt, $1.id.rawValue) }
    }

    func hasUnsettledAutoRecharge(_ organization: OrganizationID) -> Bool {
        purchaseRows.contains { $0.organizationID == organization && $0.trigger == .autoRecharge && !$0.status.isFinal }
    }

    // MARK: Ledger

    func append(_ entry: LedgerEntry) throws -> Bool {
        try require(!ledgerRows.contains { $0.id == entry.id }, "ledger_entries.id is unique")
        return append(entryUnchecked: entry)
    }

    /// Adds the entry unless one of its kind has its reference; entries without one stand alone.
    private func append(entryUnchecked entry: LedgerEntry) -> Bool {
        if let reference = entry.reference,
            ledgerRows.contains(where: { $0.kind == entry.kind && $0.reference == reference })
        {
            return false
        }
        ledgerRows.append(entry)
        return true
    }

    func balance(of organization: OrganizationID) -> Int64 {
        ledgerRows.filter { $0.organizationID == organization }.reduce(0) { $0 + $1.amountMicros }
    }

    func totalPaid(by organization: OrganizationID) -> Int64 {
        // Refund entries are negative, so the sum is purchases less refunds.
        ledgerRows.filter { $0.organizationID == organization && ($0.kind == .purchase || $0.kind == .refund) }
            .reduce(0) { $0 + $1.amountMicros }
    }

    func firstPayment(of organization: OrganizationID) -> Date? {
        ledgerRows.filter { $0.organizationID == organization && $0.kind == .purchase }.map(\.createdAt).min()
    }

    func entries(of organization: OrganizationID, after: LedgerEntryID?, limit: Int) throws -> Page<LedgerEntry> {
        try InMemoryKeyset.page(
            of: ledgerRows.filter { $0.organizationID == organization }, after: after?.rawValue, descending: true,
            limit: limit
        ) { ($0.createdAt, $0.id.rawValue) }
    }

    // MARK: Webhooks

    func hasEvent(provider: String, id: String) -> Bool {
        events[EventKey(provider: provider, id: id)] != nil
    }

    func recordEvent(provider: String, id: String, at now: Date) -> Bool {
        let key = EventKey(provider: provider, id: id)
        guard events[key] == nil else { return false }
        events[key] = now
        return true
    }

    // MARK: What tests read back

    /// Every entry of the organization's ledger, oldest first.
    func ledger(of organization: OrganizationID) -> [LedgerEntry] {
        ledgerRows.filter { $0.organizationID == organization }
    }

    /// Every purchase of the organization, oldest first.
    func purchases(of organization: OrganizationID) -> [CreditPurchase] {
        purchaseRows.filter { $0.organizationID == organization }
    }

    private func require(_ holds: Bool, _ rule: String) throws {
        guard holds else { throw ConstraintViolation(rule: rule) }
    }
}
