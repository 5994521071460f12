import Foundation

/// What saving a card came to.
public enum SetupCompletion: Sendable, Equatable {
    /// The card was saved to the organization.
    case saved(PaymentMethod)
    /// The setup had already ended; nothing changed.
    case alreadyEnded(BillingSetup)
    /// The card already belongs to as many other organizations as it may; nothing was saved.
    case cardLimitReached
}

/// What a change to a purchase's status came to.
public enum PurchaseTransition: Sendable, Equatable {
    /// The purchase moved to the new status (and, on success, its credit was added).
    case changed(CreditPurchase)
    /// The purchase had already ended; nothing changed.
    case unchanged(CreditPurchase)
}

/// Stores the ledger, saved cards, card setups and purchases. Every change that must happen
/// once (a purchase credited, a card counted) is one conditional statement or transaction.
public protocol BillingRepository: Sendable {
    // MARK: Accounts

    /// The organization's billing account, or `nil` before anything was stored for it.
    func account(of organization: OrganizationID) async throws -> BillingAccount?

    /// Stores the provider's customer id for the organization unless it has one; returns the
    /// one that is stored afterwards, so two simultaneous first setups agree on one customer.
    func saveCustomer(_ reference: String, for organization: OrganizationID) async throws -> String

    /// Replaces the organization's auto-recharge settings.
    func setAutoRecharge(_ settings: AutoRecharge, for organization: OrganizationID) async throws

    /// Organizations with auto-recharge on (by their own settings, or by default after a first
    /// payment when `enabledByDefault`) whose balance is below their threshold, that have a card
    /// and no automatic purchase under way or declined since their newest card was added.
    func accountsBelowThreshold(
        defaults: AutoRecharge, enabledByDefault: Bool, limit: Int
    ) async throws
        -> [OrganizationID]

    // MARK: Setups and cards

    /// Stores a new setup.
    func createSetup(_ setup: BillingSetup) async throws

    /// A setup of the organization.
    func setup(_ id: BillingSetupID, in organization: OrganizationID) async throws -> BillingSetup?

    /// The setup the provider knows by this id.
    func setup(providerReference: String) async throws -> BillingSetup?

    /// Open setups started before `before`, oldest first.
    func openSetups(before: Date, limit: Int) async throws -> [BillingSetup]

    /// Saves the card and completes the open setup in one transaction, unless the card (by
    /// its fingerprint digest) already belongs to `maxOrganizationsPerCard` other organizations,
    /// removed cards included. A card the organization already has is not saved twice: the
    /// existing one is answered.
    func completeSetup(
        _ setup: BillingSetupID, with method: PaymentMethod, at now: Date, maxOrganizationsPerCard: Int
    )
        async throws -> SetupCompletion

    /// Ends an open setup as `failed` or `expired`, with the refusal's code and words; returns
    /// whether it was open.
    func endSetup(
        _ setup: BillingSetupID, as status: BillingSetup.Status, code: String?, message: String?, at now: Date
    ) async throws -> Bool

    /// The organization's cards that are not removed, oldest first.
    func paymentMethods(of organization: OrganizationID) async throws -> [PaymentMethod]

    /// One card of the organization, removed or not.
    func paymentMethod(_ id: PaymentMethodID, in organization: OrganizationID) async throws -> PaymentMethod?

    /// Marks the card removed; returns whether it was there and not yet removed.
    func removePaymentMethod(_ id: PaymentMethodID, in organization: OrganizationID, at now: Date) async throws -> Bool

    /// How many organizations other than `organization` have had this card.
    func organizationsSharingCard(fingerprintDigest: String, except organization: OrganizationID) async throws -> Int

    // MARK: Purchases

    /// Stores a new purchase, or answers the organization's earlier one with the same
    /// idempotency key (then nothing is stored).
    func createPurchase(_ purchase: CreditPurchase) async throws -> CreditPurchase

    /// A purchase of the organization.
    func purchase(_ id: CreditPurchaseID, in organization: OrganizationID) async throws -> CreditPurchase?

    /// The purchase the provider knows by this id.
    func purchase(providerReference: String) async throws -> CreditPurchase?

    /// Moves a purchase that has not ended to `status`. For `succeeded` the credit goes into the
    /// ledger as `entry` and the account's first payment is noted, all in one transaction;
    /// a purchase that has ended is left as it is, so a charge is credited once.
    func transition(
        _ purchase: CreditPurchaseID, to status: CreditPurchase.Status, providerReference: String?, actionURL: String?,
        failureMessage: String?, entry: LedgerEntry?, at now: Date
    ) async throws -> PurchaseTransition

    /// Purchases not yet ended that were last changed before `before`, oldest first.
    func unsettledPurchases(before: Date, limit: Int) async throws -> [CreditPurchase]

    /// Micro-units of the organization's automatic purchases since `since` that did not fail.
    func autoRechargeTotal(of organization: OrganizationID, since: Date) async throws -> Int64

    /// The organization's newest automatic purchase.
    func latestAutoRecharge(of organization: OrganizationID) async throws -> CreditPurchase?

    /// Whether the organization has an automatic purchase that has not ended.
    func hasUnsettledAutoRecharge(_ organization: OrganizationID) async throws -> Bool

    // MARK: Ledger

    /// Adds an entry; returns `false`, adding nothing, when an entry of its kind with its
    /// reference is already there.
    func append(_ entry: LedgerEntry) async throws -> Bool

    /// The organization's balance: the sum of its entries.
    func balance(of organization: OrganizationID) async throws -> Int64

    /// Micro-units the organization has paid (purchases less refunds).
    func totalPaid(by organization: OrganizationID) async throws -> Int64
    /// When the organization's first purchase was credited, or `nil` before one was.
    func firstPayment(of organization: OrganizationID) async throws -> Date?

    /// The organization's entries, newest first, after the entry `after`.
    func entries(of organization: OrganizationID, after: LedgerEntryID?, limit: Int) async throws -> Page<LedgerEntry>

    // MARK: Webhooks

    /// Whether a provider event was noted as handled.
    func hasEvent(provider: String, id: String) async throws -> Bool

    /// Notes a provider event as handled; returns `false` when it had been already.
    func recordEvent(provider: String, id: String, at now: Date) async throws -> Bool
}
