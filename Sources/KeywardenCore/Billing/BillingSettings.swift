import Crypto
import Foundation

/// The operator's billing settings.
public struct BillingSettings: Sendable, Equatable {
    public var currency: BillingCurrency
    /// The smallest purchase, in micro-units ($5).
    public var minimumPurchaseMicros: Int64
    /// The purchase offered first, in micro-units ($10).
    public var defaultPurchaseMicros: Int64
    /// The largest purchase, in micro-units.
    public var maximumPurchaseMicros: Int64
    /// How many organizations one card may pay for (`max_organizations_per_card`).
    public var maxOrganizationsPerCard: Int
    /// Auto-recharge as it is for an organization whose owners have not set it.
    public var autoRechargeDefaults: AutoRecharge
    /// How long a card page stays open.
    public var setupLifetime: TimeInterval
    /// How long a charge may go unanswered before the sweeper asks the provider.
    public var settleAfter: TimeInterval
    /// The base of the links Keywarden gives the provider, without a trailing slash.
    public var publicURL: String

    /// The defaults: dollars, $5 to $10,000 with $10 offered, three organizations per card,
    /// auto-recharge of $10 below $5 up to $100 a month.
    public init(
        currency: BillingCurrency = .usd, minimumPurchaseMicros: Int64 = 5_000_000,
        defaultPurchaseMicros: Int64 = 10_000_000, maximumPurchaseMicros: Int64 = 10_000_000_000,
        maxOrganizationsPerCard: Int = 3,
        autoRechargeDefaults: AutoRecharge = AutoRecharge(
            enabled: true, thresholdMicros: 5_000_000, amountMicros: 10_000_000, monthlyCapMicros: 100_000_000),
        setupLifetime: TimeInterval = 3600, settleAfter: TimeInterval = 120, publicURL: String = "http://127.0.0.1:8080"
    ) {
        self.currency = currency
        self.minimumPurchaseMicros = minimumPurchaseMicros
        self.defaultPurchaseMicros = defaultPurchaseMicros
        self.maximumPurchaseMicros = maximumPurchaseMicros
        self.maxOrganizationsPerCard = maxOrganizationsPerCard
        self.autoRechargeDefaults = autoRechargeDefaults
        self.setupLifetime = setupLifetime
        self.settleAfter = settleAfter
        self.publicURL = publicURL
    }
}

/// Keeps card fingerprints only as HMACs under a key derived from the server secret.
public struct CardFingerprints: Sendable {
    private let key: SymmetricKey

    /// Derives the key from the server secret.
    public init(serverSecret: String) {
        let root = SymmetricKey(data: Data(serverSecret.utf8))
        key = SymmetricKey(
            data: HMAC<SHA256>.authenticationCode(for: Data("keywarden/billing/card-fingerprint".utf8), using: root))
    }

    /// The digest stored for a provider's card fingerprint.
    public func digest(provider: String, fingerprint: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data("\(provider):\(fingerprint)".utf8), using: key)
            .map { String(format: "%02x", $0) }.joined()
    }
}
