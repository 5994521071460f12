import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// The organization's billing: balance, cards, credit purchases, auto-recharge and the ledger.
/// Owners only (the service refuses everyone else); admin keys act as owners, as on every other
/// `/v1/organization` endpoint.
public struct BillingController: Sendable {
    let billing: BillingService
    /// The name of the organization's usage tier, as the rate-limit policy stores it.
    let tierName: @Sendable (OrganizationID) async throws -> String

    /// The largest amount, in minor units, read from a request before the service checks it
    /// against the purchase limits: ten billion dollars, far past any limit, so nothing done
    /// with it further in can overflow.
    static let maxMinorUnits: Int64 = 1_000_000_000_000

    /// Creates the controller.
    public init(billing: BillingService, tierName: @escaping @Sendable (OrganizationID) async throws -> String) {
        self.billing = billing
        self.tierName = tierName
    }

    /// Registers the routes.
    public func addRoutes(to router: CatalogingRouter<KeywardenRequestContext>) {
        let group = router.group("/v1/organization/billing", context: OrganizationContext.self)
        group.get(use: overview)
        group.post("payment_methods", use: startSetup)
        group.delete("payment_methods/{payment_method_id}", use: removePaymentMethod)
        group.get("setups/{setup_id}", use: showSetup)
        group.post("credits", use: buyCredits)
        group.get("credits/{purchase_id}", use: showPurchase)
        group.post("auto_recharge", use: setAutoRecharge)
        group.get("transactions", use: transactions)
    }

    var currency: BillingCurrency { billing.settings.currency }

    @Sendable func overview(_ request: Request, context: OrganizationContext) async throws -> BillingObject {
        let overview = try await billing.overview(for: context.membership)
        return BillingObject(overview, tier: try await tierName(context.membership.organization.id))
    }

    /// Nothing to say: an empty body, or `{}`.
    struct EmptyBody: JSONRequestBody {
        static let fields: Set<String> = []
    }

    @Sendable func startSetup(
        _ request: Request, context: OrganizationContext
    ) async throws
        -> Created<BillingSetupObject>
    {
        _ = try await request.decodeBody(EmptyBody.self, context: context)
        return Created(body: BillingSetupObject(try await billing.startSetup(by: requester(context))))
    }

    /// The setup after asking the provider how it ended. A card that could not be saved is
    /// answered as the refusal it is, so a client branches on the status and `error.code`.
    @Sendable func showSetup(_ request: Request, context: OrganizationContext) async throws -> BillingSetupObject {
        let setup = try await billing.finishSetup(try context.parameters.require("setup_id"), by: requester(context))
        if setup.status == .failed, let raw = setup.failureCode {
            switch DomainError.Code(rawValue: raw) {
            case .paymentMethodLimitReached?:
                throw DomainError.paymentMethodLimitReached(billing.settings.maxOrganizationsPerCard)
            case .cardDeclined?:
                throw DomainError.paymentMethodRefused(
                    setup.failureMessage ?? "The card could not be saved. Try another card or contact your bank.")
            default:
                break
            }
        }
        return BillingSetupObject(setup)
    }

    @Sendable func removePaymentMethod(_ request: Request, context: OrganizationContext) async throws -> DeletedObject {
        let id = try context.parameters.require("payment_method_id")
        try await billing.removePaymentMethod(id, by: requester(context))
        return DeletedObject(object: "payment_method.deleted", id: id)
    }

    struct PurchaseBody: JSONRequestBody {
        static let fields: Set<String> = ["amount", "payment_method_id"]
        /// Minor units (cents); the default purchase when absent.
        let amount: Int64?
        /// The card to charge; the newest when absent.
        let paymentMethodID: String?

        enum CodingKeys: String, CodingKey {
            case amount
            case paymentMethodID = "payment_method_id"
        }
    }

    /// Always 201: a repeated `Idempotency-Key` answers the earlier purchase as it stands now,
    /// and nothing is charged twice.
    @Sendable func buyCredits(
        _ request: Request, context: OrganizationContext
    ) async throws
        -> Created<CreditPurchaseObject>
    {
        let body = try await request.decodeBody(PurchaseBody.self, context: context)
        let amount = try minorUnits(body.amount, field: "amount", refusal: purchaseRangeMessage)
        let purchase = try await billing.buyCredits(
            amountMinorUnits: amount, paymentMethod: body.paymentMethodID,
            idempotencyKey: request.headers[.init("Idempotency-Key")!], by: requester(context))
        return Created(body: CreditPurchaseObject(purchase, currency: currency))
    }

    /// The purchase after asking the provider where it stands: a client that sent the person to
    /// `action_url` asks here once they are back.
    @Sendable func showPurchase(_ request: Request, context: OrganizationContext) async throws -> CreditPurchaseObject {
        let purchase = try await billing.finishPurchase(
            try context.parameters.require("purchase_id"), by: requester(context))
        return CreditPurchaseObject(purchase, currency: currency)
    }

    struct AutoRechargeBody: JSONRequestBody {
        static let fields: Set<String> = ["enabled", "threshold", "amount", "monthly_cap"]
        let enabled: Bool
        /// Minor units; each absent amount keeps the value that applies now.
        let threshold: Int64?
        let amount: Int64?
        let monthlyCap: Int64?

        enum CodingKeys: String, CodingKey {
            case enabled, threshold, amount
            case monthlyCap = "monthly_cap"
        }
    }

    @Sendable func setAutoRecharge(
        _ request: Request, context: OrganizationContext
    ) async throws
        -> AutoRechargeObject
    {
        let body = try await request.decodeBody(AutoRechargeBody.self, context: context)
        let general = { (field: String) in
            "'\(field)' must be a whole number of \(self.currency.minorUnitName) from 0 to \(Self.maxMinorUnits)."
        }
        let threshold = try minorUnits(body.threshold, field: "threshold", refusal: general)
        let amount = try minorUnits(body.amount, field: "amount", refusal: general)
        let monthlyCap = try minorUnits(body.monthlyCap, field: "monthly_cap", refusal: general)
        let settings = try await billing.setAutoRecharge(
            enabled: body.enabled, thresholdMinorUnits: threshold, amountMinorUnits: amount,
            monthlyCapMinorUnits: monthlyCap, by: requester(context))
        return AutoRechargeObject(settings, custom: true, currency: currency)
    }

    @Sendable func transactions(
        _ request: Request, context: OrganizationContext
    ) async throws
        -> ListObject<BillingTransactionObject>
    {
        let page = try await billing.transactions(
            for: context.membership, after: request.textQuery("after"), limit: try request.pageLimit())
        return ListObject(
            page.items.map { BillingTransactionObject($0, currency: currency) }, id: \.id, hasMore: page.hasMore)
    }

    // MARK: Helpers

    /// An amount in minor units as the client sent it, bounded to 0...``maxMinorUnits`` here,
    /// where it is read; the service checks it against the operator's limits.
    func minorUnits(_ value: Int64?, field: String, refusal: (String) -> String) throws -> Int64? {
        guard let value else { return nil }
        guard (0...Self.maxMinorUnits).contains(value) else { throw DomainError.invalidField(field, refusal(field)) }
        return value
    }

    /// The purchase limits in words and in minor units, as the service words them.
    func purchaseRangeMessage(_ field: String) -> String {
        let settings = billing.settings
        let minimum = settings.minimumPurchaseMicros
        let maximum = settings.maximumPurchaseMicros
        return "'\(field)' must be from \(currency.format(micros: minimum)) to \(currency.format(micros: maximum)), "
            + "given in \(currency.minorUnitName) (\(currency.minorUnits(micros: minimum)) to "
            + "\(currency.minorUnits(micros: maximum)))."
    }

    private func requester(_ context: OrganizationContext) -> BillingService.Requester {
        BillingService.Requester(
            membership: context.membership, user: context.identity.user, clientAddress: context.clientAddress)
    }
}
