import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// An amount: exact micro-units, the currency, and how a person reads it.
struct MoneyObject: Encodable, Sendable {
    let micros: Int64
    let currency: String
    let formatted: String

    init(_ micros: Int64, in currency: BillingCurrency) {
        self.micros = micros
        self.currency = currency.code
        formatted = currency.format(micros: micros)
    }
}

/// A saved card: never the provider's id for it, never its fingerprint.
struct PaymentMethodObject: Encodable, Sendable {
    let object = "payment_method"
    let id: String
    let brand: String
    let last4: String
    let expMonth: Int
    let expYear: Int
    let createdAt: Int64

    init(_ method: PaymentMethod) {
        id = method.id.rawValue
        brand = method.brand
        last4 = method.last4
        expMonth = method.expMonth
        expYear = method.expYear
        createdAt = method.createdAt.unixSeconds
    }

    enum CodingKeys: String, CodingKey {
        case object, id, brand, last4
        case expMonth = "exp_month"
        case expYear = "exp_year"
        case createdAt = "created_at"
    }
}

/// A visit to the provider's page to save a card.
struct BillingSetupObject: ResponseEncodable {
    let object = "billing.setup"
    let id: String
    let url: String
    let status: String
    let createdAt: Int64
    let expiresAt: Int64
    @ExplicitNull var paymentMethodID: String?
    @ExplicitNull var failureCode: String?
    @ExplicitNull var failureMessage: String?

    init(_ setup: BillingSetup) {
        id = setup.id.rawValue
        url = setup.url
        status = setup.status.rawValue
        createdAt = setup.createdAt.unixSeconds
        expiresAt = setup.expiresAt.unixSeconds
        paymentMethodID = setup.paymentMethodID?.rawValue
        failureCode = setup.failureCode
        failureMessage = setup.failureMessage
    }

    enum CodingKeys: String, CodingKey {
        case object, id, url, status
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case paymentMethodID = "payment_method_id"
        case failureCode = "failure_code"
        case failureMessage = "failure_message"
    }
}

/// A purchase of credits.
struct CreditPurchaseObject: ResponseEncodable {
    let object = "credit_purchase"
    let id: String
    let amount: MoneyObject
    let status: String
    @ExplicitNull var actionURL: String?
    let paymentMethodID: String
    let trigger: String
    @ExplicitNull var failureMessage: String?
    let createdAt: Int64

    init(_ purchase: CreditPurchase, currency: BillingCurrency) {
        id = purchase.id.rawValue
        amount = MoneyObject(purchase.amountMicros, in: currency)
        status = purchase.status.rawValue
        // The confirmation link is only worth following while the bank waits for it.
        actionURL = purchase.status == .requiresAction ? purchase.actionURL : nil
        paymentMethodID = purchase.paymentMethodID.rawValue
        trigger = purchase.trigger.rawValue
        failureMessage = purchase.failureMessage
        createdAt = purchase.createdAt.unixSeconds
    }

    enum CodingKeys: String, CodingKey {
        case object, id, amount, status, trigger
        case actionURL = "action_url"
        case paymentMethodID = "payment_method_id"
        case failureMessage = "failure_message"
        case createdAt = "created_at"
    }
}

/// Auto-recharge as it applies, and whether the owners set it themselves.
struct AutoRechargeObject: ResponseEncodable {
    let object = "billing.auto_recharge"
    let enabled: Bool
    let threshold: MoneyObject
    let amount: MoneyObject
    let monthlyCap: MoneyObject
    let custom: Bool

    init(_ settings: AutoRecharge, custom: Bool, currency: BillingCurrency) {
        enabled = settings.enabled
        threshold = MoneyObject(settings.thresholdMicros, in: currency)
        amount = MoneyObject(settings.amountMicros, in: currency)
        monthlyCap = MoneyObject(settings.monthlyCapMicros, in: currency)
        self.custom = custom
    }

    enum CodingKeys: String, CodingKey {
        case object, enabled, threshold, amount, custom
        case monthlyCap = "monthly_cap"
    }
}

/// What the owners see of an organization's billing.
struct BillingObject: ResponseEncodable {
    let object = "organization.billing"
    let balance: MoneyObject
    let currency: String
    let testMode: Bool
    let paymentMethods: [PaymentMethodObject]
    let autoRecharge: AutoRechargeObject
    let totalPaid: MoneyObject
    @ExplicitNull var firstPaymentAt: Int64?
    let tier: String
    let purchaseLimits: PurchaseLimits

    /// The smallest, the offered and the largest purchase.
    struct PurchaseLimits: Encodable, Sendable {
        let minimum: MoneyObject
        let offered: MoneyObject
        let maximum: MoneyObject

        enum CodingKeys: String, CodingKey {
            case minimum, maximum
            case offered = "default"
        }
    }

    init(_ overview: BillingOverview, tier: String) {
        let currency = overview.currency
        balance = MoneyObject(overview.balanceMicros, in: currency)
        self.currency = currency.code
        testMode = overview.testMode
        paymentMethods = overview.paymentMethods.map(PaymentMethodObject.init)
        autoRecharge = AutoRechargeObject(
            overview.autoRecharge, custom: overview.autoRechargeIsCustom, currency: currency)
        totalPaid = MoneyObject(overview.totalPaidMicros, in: currency)
        firstPaymentAt = overview.firstPaymentAt?.unixSeconds
        self.tier = tier
        purchaseLimits = PurchaseLimits(
            minimum: MoneyObject(overview.minimumPurchaseMicros, in: currency),
            offered: MoneyObject(overview.defaultPurchaseMicros, in: currency),
            maximum: MoneyObject(overview.maximumPurchaseMicros, in: currency))
    }

    enum CodingKeys: String, CodingKey {
        case object, balance, currency, tier
        case testMode = "test_mode"
        case paymentMethods = "payment_methods"
        case autoRecharge = "auto_recharge"
        case totalPaid = "total_paid"
        case firstPaymentAt = "first_payment_at"
        case purchaseLimits = "purchase_limits"
    }
}

/// One entry of the credit ledger.
struct BillingTransactionObject: Encodable, Sendable {
    let object = "billing.transaction"
    let id: String
    let type: String
    let amount: MoneyObject
    let description: String
    let createdAt: Int64

    init(_ entry: LedgerEntry, currency: BillingCurrency) {
        id = entry.id.rawValue
        type = entry.kind.rawValue
        amount = MoneyObject(entry.amountMicros, in: currency)
        description = entry.description
        createdAt = entry.createdAt.unixSeconds
    }

    enum CodingKeys: String, CodingKey {
        case object, id, type, amount, description
        case createdAt = "created_at"
    }
}
