import CoreMetrics
import Synchronization

/// Everything Keywarden counts and times for an operator's Prometheus, made through one
/// metrics factory so each server (and each test) reports into its own registry.
///
/// Labels come from small fixed sets (route groups, status codes, refusal reasons, scopes,
/// channels, providers, countries): never a key, an organization or a path, whose number has no
/// bound.
public final class KeywardenMetrics: Sendable {
    /// `nil` when metrics go nowhere.
    let factory: (any MetricsFactory)?

    /// `keywarden_http_requests_total{group,status}`: every answered request.
    public let httpRequests: CounterFamily
    /// `keywarden_http_request_duration_seconds{group}`: from the request head to the answer's head.
    public let httpDuration: TimerFamily
    /// `keywarden_gateway_calls_total{status}`: calls the gateway answered, by status code.
    public let gatewayCalls: CounterFamily
    /// `keywarden_gateway_upstream_errors_total{reason}`: calls the upstream could not answer.
    public let gatewayUpstreamErrors: CounterFamily
    /// `keywarden_fast_path_requests_total{outcome}`: requests the event-loop fast path looked
    /// at past their head, `served` there or `handed_on` to the router.
    public let fastPathRequests: CounterFamily
    /// `keywarden_gateway_upstream_duration_seconds`: from sending upstream to its answer's head.
    public let gatewayUpstreamDuration: TimerFamily
    /// `keywarden_gateway_refusals_total{reason,scope}`: calls refused for a rate limit or spend.
    public let gatewayRefusals: CounterFamily
    /// `keywarden_messages_sent_total{channel,provider,country}`: codes a provider accepted.
    public let messagesSent: CounterFamily
    /// `keywarden_messages_failed_total{channel,provider,country}`: codes a provider refused or lost.
    public let messagesFailed: CounterFamily
    /// `keywarden_verifications_started_total`.
    public let verificationsStarted: CounterFamily
    /// `keywarden_verifications_approved_total`.
    public let verificationsApproved: CounterFamily
    /// `keywarden_verifications_refused_total{reason}`: starts refused by the policy and guards.
    public let verificationsRefused: CounterFamily
    /// `keywarden_key_index_keys`: keys in this instance's in-memory index.
    public let keyIndexKeys: GaugeFamily
    /// `keywarden_key_index_refresh_lag_seconds`: since the index last caught up with storage.
    public let keyIndexRefreshLag: GaugeFamily
    /// `keywarden_database_connections{state}`: pooled connections `in_use`, callers `waiting`
    /// for one, and the pool's `max`.
    public let databaseConnections: GaugeFamily
    /// `keywarden_usage_flush_lag_seconds`: since gateway usage was last written.
    public let usageFlushLag: GaugeFamily
    /// `keywarden_usage_buffered_rows`: usage rows waiting for the next write.
    public let usageBufferedRows: GaugeFamily

    /// Metrics made by `factory`; with `nil`, metrics that keep nothing.
    public init(factory: (any MetricsFactory)?) {
        self.factory = factory
        httpRequests = CounterFamily("keywarden_http_requests_total", labels: ["group", "status"], factory: factory)
        httpDuration = TimerFamily("keywarden_http_request_duration_seconds", labels: ["group"], factory: factory)
        gatewayCalls = CounterFamily("keywarden_gateway_calls_total", labels: ["status"], factory: factory)
        gatewayUpstreamErrors = CounterFamily(
            "keywarden_gateway_upstream_errors_total", labels: ["reason"], factory: factory)
        fastPathRequests = CounterFamily("keywarden_fast_path_requests_total", labels: ["outcome"], factory: factory)
        gatewayUpstreamDuration = TimerFamily(
            "keywarden_gateway_upstream_duration_seconds", labels: [], factory: factory)
        gatewayRefusals = CounterFamily(
            "keywarden_gateway_refusals_total", labels: ["reason", "scope"], factory: factory)
        messagesSent = CounterFamily(
            "keywarden_messages_sent_total", labels: ["channel", "provider", "country"], factory: factory)
        messagesFailed = CounterFamily(
            "keywarden_messages_failed_total", labels: ["channel", "provider", "country"], factory: factory)
        verificationsStarted = CounterFamily("keywarden_verifications_started_total", labels: [], factory: factory)
        verificationsApproved = CounterFamily("keywarden_verifications_approved_total", labels: [], factory: factory)
        verificationsRefused = CounterFamily(
            "keywarden_verifications_refused_total", labels: ["reason"], factory: factory)
        keyIndexKeys = GaugeFamily("keywarden_key_index_keys", labels: [], factory: factory)
        keyIndexRefreshLag = GaugeFamily("keywarden_key_index_refresh_lag_seconds", labels: [], factory: factory)
        databaseConnections = GaugeFamily("keywarden_database_connections", labels: ["state"], factory: factory)
        usageFlushLag = GaugeFamily("keywarden_usage_flush_lag_seconds", labels: [], factory: factory)
        usageBufferedRows = GaugeFamily("keywarden_usage_buffered_rows", labels: [], factory: factory)
    }

    /// Metrics that go nowhere, for a server without `metrics_port`.
    public static let off = KeywardenMetrics(factory: nil)

    /// Whether these metrics go nowhere.
    public var isOff: Bool { factory == nil }
}

/// The label values of one series: up to three, the unused ones empty. A value type, so finding a
/// series allocates nothing.
struct LabelValues: Hashable {
    var first = ""
    var second = ""
    var third = ""

    init(_ values: [String]) {
        if values.count > 0 { first = values[0] }
        if values.count > 1 { second = values[1] }
        if values.count > 2 { third = values[2] }
    }

    init(_ first: String, _ second: String = "", _ third: String = "") {
        self.first = first
        self.second = second
        self.third = third
    }

    func dimensions(_ labels: [String]) -> [(String, String)] {
        Array(zip(labels, [first, second, third]))
    }
}

/// The series of one metric, each made the first time it is used. Metrics that go nowhere
/// (no `metrics_port`) keep nothing and take no lock.
public final class MetricFamily<Metric: Sendable>: Sendable {
    let name: String
    let labels: [String]
    let make: (@Sendable (String, [(String, String)]) -> Metric)?
    private let series = Mutex<[LabelValues: Metric]>([:])

    /// A family whose series `make` creates through `factory`; with no factory, one that keeps nothing.
    init(
        _ name: String, labels: [String], factory: (any MetricsFactory)?,
        make: @escaping @Sendable (String, [(String, String)], any MetricsFactory) -> Metric
    ) {
        precondition(labels.count <= 3, "\(name): at most three labels")
        self.name = name
        self.labels = labels
        if let factory {
            self.make = { name, dimensions in make(name, dimensions, factory) }
        } else {
            self.make = nil
        }
    }

    /// The series of `values`, or `nil` when metrics are off.
    func series(_ values: LabelValues) -> Metric? {
        guard let make else { return nil }
        return series.withLock { series in
            if let metric = series[values] { return metric }
            let metric = make(name, values.dimensions(labels))
            series[values] = metric
            return metric
        }
    }
}

/// Counters by label values.
public typealias CounterFamily = MetricFamily<Counter>
/// Duration histograms by label values.
public typealias TimerFamily = MetricFamily<Timer>
/// Gauges by label values.
public typealias GaugeFamily = MetricFamily<Gauge>

extension MetricFamily where Metric == Counter {
    convenience init(_ name: String, labels: [String], factory: (any MetricsFactory)?) {
        self.init(name, labels: labels, factory: factory) { Counter(label: $0, dimensions: $1, factory: $2) }
    }

    /// Adds `amount` to the series of the label values, given in the family's label order.
    public func increment(_ first: String = "", _ second: String = "", _ third: String = "", by amount: Int64 = 1) {
        series(LabelValues(first, second, third))?.increment(by: amount)
    }
}

extension MetricFamily where Metric == Timer {
    convenience init(_ name: String, labels: [String], factory: (any MetricsFactory)?) {
        self.init(name, labels: labels, factory: factory) { Timer(label: $0, dimensions: $1, factory: $2) }
    }

    /// Records `duration` in the series of the label values.
    public func record(_ duration: Duration, _ first: String = "", _ second: String = "") {
        guard let timer = series(LabelValues(first, second)) else { return }
        let (seconds, attoseconds) = duration.components
        timer.recordNanoseconds(max(0, seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000))
    }
}

extension MetricFamily where Metric == Gauge {
    convenience init(_ name: String, labels: [String], factory: (any MetricsFactory)?) {
        self.init(name, labels: labels, factory: factory) { Gauge(label: $0, dimensions: $1, factory: $2) }
    }

    /// Sets the series of the label values to `value`.
    public func set(_ value: Double, _ first: String = "", _ second: String = "") {
        series(LabelValues(first, second))?.record(value)
    }
}

/// The route group a path belongs to, for the `group` label: a handful of values whatever the
/// path, so a scanner trying random URLs cannot grow the series.
public enum RouteGroup {
    /// `health`, `openapi`, `assets`, `webhooks`, `admin_api`, `api`, `gateway`, `console` or `dashboard`.
    public static func of(_ path: String) -> String {
        if path == "/healthz" || path == "/readyz" { return "health" }
        if path == "/openapi.yaml" { return "openapi" }
        if path.hasPrefix("/assets/") { return "assets" }
        if path.hasPrefix("/v1/") {
            if path.hasPrefix("/v1/webhooks/") || path.hasPrefix("/v1/secret-scanning/") { return "webhooks" }
            if path.hasPrefix("/v1/admin/") || path == "/v1/admin" { return "admin_api" }
            return OwnPaths.contains(path) ? "api" : "gateway"
        }
        if path == "/admin" || path.hasPrefix("/admin/") { return "console" }
        return "dashboard"
    }
}
