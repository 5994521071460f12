import AsyncHTTPClient
import KeywardenCore
import KeywardenGateway
import KeywardenStorage
import Logging

/// What the gateway runs on: its upstream clients, its rate limits and its metering.
public struct GatewayServices: Sendable {
    /// AsyncHTTPClient, when the upstream is a URL: TLS upstreams and streamed uploads.
    public let client: HTTPClient?
    /// The lean client, when the upstream is a plain-HTTP URL (and it is not turned off).
    public let lean: UpstreamHTTP1Client?
    /// Tiers, project overrides and the buckets.
    public let rateLimits: RateLimitPolicy
    /// Calls counted in memory, drained to ``usage`` by the usage flusher.
    public let meter: UsageMeter
    /// Stored per-minute usage.
    public let usage: any UsageRepository
    /// Budgets, the month's spend and the leases of it.
    public let spendRepository: any SpendRepository
    /// Prices and spend checks, when model calls are priced.
    public let pricing: GatewayPricing?

    /// Builds the gateway's parts from the configuration.
    ///
    /// - Parameters:
    ///   - audit: where changes to the rate-limit settings are recorded.
    ///   - clock: the time of those changes.
    init(
        configuration: KeywardenConfiguration, database: DatabaseClient, audit: any AuditLogRepository, clock: Clock,
        logger: Logger
    ) {
        if case .url(let upstream) = configuration.gateway.upstream {
            var settings = HTTPClient.Configuration(
                timeout: .init(
                    connect: .seconds(Int64(configuration.gateway.connectTimeout)),
                    read: .seconds(Int64(configuration.gateway.readTimeout))))
            // The default keeps 8 connections per host, which queues a busy gateway's calls.
            settings.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = configuration.gateway.maxConnections
            settings.decompression = .disabled
            client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: settings)
            lean =
                configuration.gateway.leanClient
                ? UpstreamHTTP1Client(
                    baseURL: upstream, connectTimeout: .seconds(Int64(configuration.gateway.connectTimeout)),
                    readTimeout: .seconds(Int64(configuration.gateway.readTimeout)),
                    maxIdle: configuration.gateway.maxConnections)
                : nil
        } else {
            client = nil
            lean = nil
        }
        let sharesBuckets =
            switch configuration.gateway.rateLimitStore {
            case .memory: false
            case .database: true
            case nil: database.backend == .postgres
            }
        let billing = SQLBillingRepository(database: database)
        let rateLimits = RateLimitPolicy(
            usageTiers: configuration.gateway.usageTiers,
            standing: { organization in
                BillingStanding(
                    paidMicros: try await billing.totalPaid(by: organization),
                    firstPaymentAt: try await billing.firstPayment(of: organization))
            },
            settings: SQLRateLimitSettingsRepository(database: database), audit: audit, clock: clock,
            shared: sharesBuckets ? SharedRateLimiter(store: SQLRateLimitLeaseRepository(database: database)) : nil,
            logger: logger)
        self.rateLimits = rateLimits
        usage = SQLUsageRepository(database: database)
        spendRepository = SQLSpendRepository(database: database)
        // Each process leases under a name of its own, so instances never take each other's slices.
        let holder = "inst_" + SecureRandom.base62(length: 16)
        meter = UsageMeter(leaseHolder: holder)
        if configuration.gateway.modelPrices.isPricing {
            let currency = configuration.payments.currency
            let slice = currency.micros(minorUnits: Int64(configuration.gateway.spendSlice)) ?? 1_000_000
            let spend = SpendGuard(
                repository: spendRepository, holder: holder, sliceMicros: slice,
                tier: { organization, now in await rateLimits.usageTier(of: organization, now: now) }, clock: clock,
                logger: logger)
            meter.whenWritten { records in spend.written(records) }
            pricing = GatewayPricing(prices: configuration.gateway.modelPrices, spend: spend, currency: currency)
        } else {
            pricing = nil
        }
    }

    /// Closes the upstream connections.
    func shutdown() async throws {
        lean?.shutdown()
        try await client?.shutdown()
    }
}
