import CoreMetrics
import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP
import Logging
import NIOCore
import PhoneNumbers
import Prometheus
import Synchronization

/// The Prometheus side of a server: the registry its metrics report into, and the gauges read
/// only when scraped (key index, database pool, usage buffer), which cost nothing between scrapes.
public struct MetricsRegistry: Sendable {
    /// The registry the text format is written from.
    public let registry: PrometheusCollectorRegistry
    /// The metrics reporting into it.
    public let metrics: KeywardenMetrics

    /// A registry of its own with Keywarden's buckets: request times from a millisecond up.
    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .microseconds(2_500_000), .seconds(5), .seconds(10), .seconds(30),
        ]
        metrics = KeywardenMetrics(factory: factory)
    }

    /// The text exposition format (version 0.0.4), the gauges read first.
    public func scrape(_ services: KeywardenServices) -> [UInt8] {
        let now = services.clock.now()
        metrics.keyIndexKeys.set(Double(services.keys.index.count))
        metrics.keyIndexRefreshLag.set(services.heartbeats.secondsSince(.keyIndexRefresh, now: now))
        let use = services.database.connectionUse
        metrics.databaseConnections.set(Double(use.inUse), "in_use")
        metrics.databaseConnections.set(Double(use.waiting), "waiting")
        metrics.databaseConnections.set(Double(services.database.maxConnections), "max")
        metrics.usageFlushLag.set(services.heartbeats.secondsSince(.usageFlush, now: now))
        metrics.usageBufferedRows.set(Double(services.gateway.meter.bufferedRows))
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 << 10)
        registry.emit(into: &buffer)
        return buffer
    }

    /// `GET /metrics` on a router of its own, which the metrics listener serves and nothing else.
    public func router(_ services: KeywardenServices) -> Router<BasicRequestContext> {
        let router = Router()
        let registry = self
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.scrape(services))))
        }
        return router
    }
}

/// When background work last succeeded, for the lag gauges.
public final class Heartbeats: Sendable {
    /// The work whose last success is noted.
    public enum Work: Int, CaseIterable, Sendable {
        case keyIndexRefresh, usageFlush
    }

    private let beats: Mutex<[Date]>

    /// Every work counts as just done at start.
    init(clock: Clock) {
        beats = Mutex(Array(repeating: clock.now(), count: Work.allCases.count))
    }

    /// Notes a success of `work` at `now`.
    func beat(_ work: Work, at now: Date) {
        beats.withLock { $0[work.rawValue] = now }
    }

    /// Seconds since `work` last succeeded.
    func secondsSince(_ work: Work, now: Date) -> Double {
        max(0, now.timeIntervalSince(beats.withLock { $0[work.rawValue] }))
    }
}

extension CodeDelivery {
    /// The same delivery, counting each message sent or failed by channel, provider and country.
    func measured(by metrics: KeywardenMetrics, provider: String) -> CodeDelivery {
        switch self {
        case .local(let sender):
            return .local(
                SMSSender(name: sender.name) { message in
                    let country = MessageCountry.of(message.to)
                    do {
                        let receipt = try await sender.send(message)
                        metrics.messagesSent.increment(message.channel.rawValue, provider, country)
                        return receipt
                    } catch {
                        metrics.messagesFailed.increment(message.channel.rawValue, provider, country)
                        throw error
                    }
                })
        case .remote(let verifier):
            return .remote(
                RemoteVerifier(
                    name: verifier.name,
                    start: { number, channel in
                        let country = MessageCountry.of(number)
                        do {
                            let receipt = try await verifier.start(number, channel)
                            metrics.messagesSent.increment(channel.rawValue, provider, country)
                            return receipt
                        } catch {
                            metrics.messagesFailed.increment(channel.rawValue, provider, country)
                            throw error
                        }
                    }, check: verifier.check))
        }
    }
}

/// The country label of a message: the number's region, or `ZZ` when it has none (the
/// values are the few hundred ISO codes, whatever numbers are tried).
enum MessageCountry {
    static func of(_ number: String) -> String {
        (try? PhoneNumbers.parse(number, defaultRegion: nil))?.region ?? "ZZ"
    }
}

/// Verification statistics that also count into the metrics.
struct MeasuredVerificationStats: VerificationStatsRepository {
    let base: any VerificationStatsRepository
    let metrics: KeywardenMetrics

    func count(_ event: VerificationEvent, country: String, at now: Date) async throws {
        switch event {
        case .started: metrics.verificationsStarted.increment()
        case .approved: metrics.verificationsApproved.increment()
        case .refused(let reason): metrics.verificationsRefused.increment(reason)
        case .sent: break
        }
        try await base.count(event, country: country, at: now)
    }

    func counts(from: Date) async throws -> [String: [String: Int]] {
        try await base.counts(from: from)
    }
}
