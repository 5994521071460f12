import KeywardenCore

/// Usage-anomaly alerts: whether the detector runs, what counts as unusual, and how often an alert
/// may repeat. The defaults stay quiet on ordinary traffic.
public struct KeyAlertsSettings: Sendable {
    /// Whether the detector runs and owners are mailed.
    public var enabled = true
    /// Calls in an hour must reach this many times the key's usual hour.
    public var callFactor = 10
    /// And at least this many.
    public var minimumCalls = 1_000
    /// Failed calls in an hour must reach this many times the key's usual hour.
    public var errorFactor = 10
    /// And at least this many.
    public var minimumErrors = 100
    /// Days without a call after which a call is unusual.
    public var idleDays = 30
    /// Seconds: at most one alert per key and kind in this time.
    public var window = 86_400

    /// The defaults.
    public init() {}

    /// Reads the alert settings.
    public init(reading settings: SettingsReader) throws {
        if let on = try settings.boolean(.anomalyAlerts) { enabled = on }
        let bounded: [(Setting, ClosedRange<Int>, WritableKeyPath<KeyAlertsSettings, Int>)] = [
            (.anomalyCallFactor, 2...10_000, \.callFactor),
            (.anomalyMinCalls, 1...1_000_000_000, \.minimumCalls),
            (.anomalyErrorFactor, 2...10_000, \.errorFactor),
            (.anomalyMinErrors, 1...1_000_000_000, \.minimumErrors),
            (.anomalyIdleDays, 1...3650, \.idleDays),
            (.anomalyAlertWindow, 3600...30 * 86_400, \.window),
        ]
        for (setting, range, path) in bounded {
            if let number = try settings.integer(setting, in: range) { self[keyPath: path] = number }
        }
    }

    /// What the alert service needs of these settings.
    public var policy: KeyAlertPolicy {
        KeyAlertPolicy(
            rule: UsageAnomalyRule(
                callFactor: callFactor, minimumCalls: minimumCalls, errorFactor: errorFactor,
                minimumErrors: minimumErrors, idleDays: idleDays),
            window: window)
    }
}
