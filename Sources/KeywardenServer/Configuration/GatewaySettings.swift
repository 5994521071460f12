import KeywardenCore
import KeywardenGateway

/// Where `/v1/*` calls go, how they are carried, and the limits on them.
public struct GatewaySettings: Sendable {
    /// Where calls go: the development upstream or a base URL; `nil` turns the gateway off.
    public var upstream: Upstream?
    /// Replaces the caller's key on forwarded calls, such as `Bearer <upstream key>`.
    public var upstreamAuthorization: String?
    /// Seconds to connect to the upstream.
    public var connectTimeout = 10
    /// Seconds the upstream may stay silent (between streamed chunks too).
    public var readTimeout = 120
    /// Connections kept open to the upstream.
    public var maxConnections = 256
    /// The largest request body a gateway call may carry, in bytes.
    public var maxRequestBytes = 1 << 30
    /// Seconds between writes of the gateway's usage: a crash loses at most this much.
    public var usageFlushInterval = 1
    /// The usage tiers: what earns each, its monthly usage limit and its rate limits.
    public var usageTiers = UsageTiers.standard
    /// Whether the tiers came from the old `rate_limit_tiers` setting (rate limits only,
    /// placed by the operator), which start-up warns about.
    public var usesLegacyTiers = false
    /// The rate limits of the tiers; setting them sets rate-limit-only tiers.
    public var rateLimitTiers: RateLimitTiers {
        get { usageTiers.rateLimitTiers }
        set { usageTiers = UsageTiers(legacy: newValue) }
    }
    /// What model calls cost; none priced (the default) turns pricing and spend checks off.
    public var modelPrices = ModelPrices.none
    /// What each instance leases of an organization's remaining spend at a time, in cents
    /// (the currency's minor unit): across instances, the most a limit can be overspent by per
    /// instance.
    public var spendSlice = 100
    /// Where the gateway's buckets live: `nil` picks the database on PostgreSQL (instances share
    /// limits) and memory on SQLite (one process).
    public var rateLimitStore: RateLimitStore?
    /// Whether calls to a plain-HTTP upstream whose body is in memory use the gateway's lean
    /// HTTP/1.1 client (else AsyncHTTPClient carries every call). Not a setting; tests run both.
    public var leanClient = true

    /// The defaults.
    public init() {}

    /// Reads the gateway settings.
    public init(reading settings: SettingsReader) throws {
        if let raw = settings.text(.upstreamURL) {
            if raw == "echo" {
                upstream = .echo
            } else if raw.hasPrefix("http://") || raw.hasPrefix("https://") {
                upstream = .url(raw)
            } else {
                throw ConfigurationError(.upstreamURL, "expected echo or an http(s):// base URL")
            }
        }
        upstreamAuthorization = settings.text(.upstreamAuthorization)
        let bounded: [(Setting, ClosedRange<Int>, WritableKeyPath<GatewaySettings, Int>)] = [
            (.upstreamConnectTimeout, 1...300, \.connectTimeout),
            (.upstreamReadTimeout, 1...3600, \.readTimeout),
            (.upstreamMaxConnections, 1...10000, \.maxConnections),
            (.gatewayMaxRequestBytes, 1024...(1 << 36), \.maxRequestBytes),
            (.usageFlushInterval, 1...60, \.usageFlushInterval),
        ]
        for (setting, range, path) in bounded {
            if let number = try settings.integer(setting, in: range) { self[keyPath: path] = number }
        }
        rateLimitStore = try settings.choice(
            .rateLimitStore, as: RateLimitStore.self, expected: "expected memory or database")
        if let number = try settings.integer(.spendSlice, in: 1...100_000_000) { spendSlice = number }
        if let text = settings.text(.modelPrices) {
            do {
                modelPrices = try ModelPrices.parse(text)
            } catch {
                throw ConfigurationError(.modelPrices, error.message)
            }
        }
        let legacy = try Self.tiers(reading: settings)
        if let text = settings.text(.usageTiers) {
            guard legacy == nil else {
                throw ConfigurationError(
                    .usageTiers, "set usage_tiers or the older rate_limit_tiers and rate_limit_default_tier, not both")
            }
            let currency = settings.text(.billingCurrency).flatMap(BillingCurrency.init(code:)) ?? .usd
            do {
                usageTiers = try UsageTiers.parse(text, currency: currency)
            } catch {
                throw ConfigurationError(.usageTiers, error.message)
            }
        } else if let legacy {
            usageTiers = UsageTiers(legacy: legacy)
            usesLegacyTiers = true
        }
    }

    /// The tiers, when either tier setting is given.
    private static func tiers(reading settings: SettingsReader) throws -> RateLimitTiers? {
        let text = settings.text(.rateLimitTiers)
        let defaultTier = settings.text(.rateLimitDefaultTier)
        guard text != nil || defaultTier != nil else { return nil }
        let tiers: [RateLimitTier]
        do {
            tiers = try RateLimitTiers.parseTiers(text ?? RateLimitTiers.standardText)
        } catch {
            throw ConfigurationError(.rateLimitTiers, error.message)
        }
        let name = defaultTier ?? tiers[0].name
        guard let set = RateLimitTiers(tiers: tiers, defaultTier: name) else {
            throw ConfigurationError(
                .rateLimitDefaultTier,
                "'\(name)' is not a configured tier (\(tiers.map(\.name).joined(separator: ", ")))")
        }
        return set
    }
}

/// Where the gateway's rate-limit buckets live.
public enum RateLimitStore: String, Sendable, CaseIterable {
    /// In this process: exact and free, but each instance counts on its own.
    case memory
    /// In the database, leased in slices: one limit across every instance.
    case database
}
