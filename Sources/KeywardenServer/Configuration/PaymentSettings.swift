import Foundation
import KeywardenCore

/// The payment provider (`payment_provider`), its keys, and the limits on cards and purchases.
public struct PaymentSettings: Sendable, Equatable {
    /// Which provider takes cards.
    public enum Provider: Sendable, Equatable {
        /// The built-in test checkout (the development default): no real money moves.
        case test
        /// Stripe, with its secret key, the webhook signing secret (`nil`: no webhooks, the
        /// sweeper asks Stripe instead) and its API's base URL.
        case stripe(secretKey: String, webhookSecret: String?, apiBaseURL: String)

        /// The setting's word for it.
        public var kind: String {
            switch self {
            case .test: "test"
            case .stripe: "stripe"
            }
        }
    }

    /// The provider.
    public var provider: Provider = .test
    /// The one currency everything is billed in.
    public var currency: BillingCurrency = .usd
    /// How many organizations one card may pay for.
    public var maxOrganizationsPerCard = 3
    /// The smallest, offered and largest purchase, in minor units (cents).
    public var minimumPurchase: Int64 = 500
    public var defaultPurchase: Int64 = 1_000
    public var maximumPurchase: Int64 = 1_000_000
    /// Auto-recharge for organizations whose owners have not set it, in minor units: on after
    /// the first purchase, buying `autoRechargeAmount` below `autoRechargeThreshold`, at most
    /// `autoRechargeMonthlyCap` a month.
    public var autoRechargeThreshold: Int64 = 500
    public var autoRechargeAmount: Int64 = 1_000
    public var autoRechargeMonthlyCap: Int64 = 10_000

    /// Stripe's API.
    public static let stripeAPIBaseURL = "https://api.stripe.com"

    /// The defaults.
    public init() {}

    /// Reads the payment settings.
    public init(reading settings: SettingsReader) throws {
        switch settings.text(.paymentProvider) {
        case nil, "test":
            provider = .test
        case "stripe":
            let key = try settings.required(.stripeSecretKey, by: "payment_provider stripe")
            guard key.hasPrefix("sk_") || key.hasPrefix("rk_") else {
                throw ConfigurationError(
                    .stripeSecretKey, "expected a Stripe secret key (sk_live_..., sk_test_... or rk_...)")
            }
            let webhook = settings.text(.stripeWebhookSecret)
            if let webhook, !webhook.hasPrefix("whsec_") {
                throw ConfigurationError(.stripeWebhookSecret, "expected a Stripe webhook signing secret (whsec_...)")
            }
            let base = settings.text(.stripeAPIBaseURL) ?? Self.stripeAPIBaseURL
            guard let url = URL(string: base), url.scheme == "https" || url.scheme == "http", url.host != nil else {
                throw ConfigurationError(.stripeAPIBaseURL, "expected an http(s) URL")
            }
            provider = .stripe(
                secretKey: key, webhookSecret: webhook,
                apiBaseURL: base.hasSuffix("/") ? String(base.dropLast()) : base)
        default:
            throw ConfigurationError(.paymentProvider, "expected test or stripe")
        }
        if let code = settings.text(.billingCurrency) {
            guard let currency = BillingCurrency(code: code) else {
                throw ConfigurationError(.billingCurrency, "expected a three-letter ISO 4217 code such as usd")
            }
            self.currency = currency
        }
        if let limit = try settings.integer(.maxOrganizationsPerCard, in: 1...1000) { maxOrganizationsPerCard = limit }
        let amounts: [(Setting, WritableKeyPath<PaymentSettings, Int64>)] = [
            (.creditPurchaseMinimum, \.minimumPurchase), (.creditPurchaseDefault, \.defaultPurchase),
            (.creditPurchaseMaximum, \.maximumPurchase), (.autoRechargeThreshold, \.autoRechargeThreshold),
            (.autoRechargeAmount, \.autoRechargeAmount), (.autoRechargeMonthlyCap, \.autoRechargeMonthlyCap),
        ]
        for (setting, path) in amounts {
            if let value = try settings.integer(setting, in: 0...100_000_000) { self[keyPath: path] = Int64(value) }
        }
        guard minimumPurchase >= 1, minimumPurchase <= defaultPurchase, defaultPurchase <= maximumPurchase else {
            throw ConfigurationError(
                .creditPurchaseDefault,
                "expected credit_purchase_minimum (at least 1) <= credit_purchase_default <= credit_purchase_maximum")
        }
        guard autoRechargeAmount >= minimumPurchase, autoRechargeAmount <= maximumPurchase,
            autoRechargeMonthlyCap >= autoRechargeAmount
        else {
            throw ConfigurationError(
                .autoRechargeAmount,
                "expected a purchase from credit_purchase_minimum to credit_purchase_maximum, at most auto_recharge_monthly_cap"
            )
        }
    }

    /// The settings the billing service reads, with links built from `publicURL`.
    public func serviceSettings(publicURL: String) -> BillingSettings {
        let micros = { (minor: Int64) in currency.micros(minorUnits: minor) ?? 0 }
        return BillingSettings(
            currency: currency, minimumPurchaseMicros: micros(minimumPurchase),
            defaultPurchaseMicros: micros(defaultPurchase), maximumPurchaseMicros: micros(maximumPurchase),
            maxOrganizationsPerCard: maxOrganizationsPerCard,
            autoRechargeDefaults: AutoRecharge(
                enabled: true, thresholdMicros: micros(autoRechargeThreshold),
                amountMicros: micros(autoRechargeAmount), monthlyCapMicros: micros(autoRechargeMonthlyCap)),
            publicURL: publicURL)
    }
}
