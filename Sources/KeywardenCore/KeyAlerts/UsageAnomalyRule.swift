import Foundation

/// When a key's use is unusual enough to tell its owners: far more calls or failed calls in the
/// last hour than its usual hour, or a call after a long time without one.
///
/// Everything is whole numbers: "far more" is `observed × hours ≥ factor × total`, never a
/// floating-point mean, so the same counts always give the same answer.
public struct UsageAnomalyRule: Equatable, Sendable {
    /// Calls in the hour must reach this many times the usual hourly calls.
    public var callFactor: Int
    /// And at least this many calls.
    public var minimumCalls: Int
    /// Failed calls in the hour must reach this many times the usual hourly failed calls.
    public var errorFactor: Int
    /// And at least this many failed calls.
    public var minimumErrors: Int
    /// Days without a call after which a call is an alert.
    public var idleDays: Int

    /// The hours of history the usual hour is the mean of: the 7 days before the hour looked at.
    public static let baselineHours = 168
    /// A key with fewer hours of history than this (a new key) is not compared with it: its
    /// first busy hours are how a key starts, not a change.
    public static let minimumHistoryHours = 24

    /// The defaults, which ordinary traffic does not reach: 10 times the usual hour and at least
    /// 1,000 calls, 10 times and at least 100 failed calls, 30 days unused.
    public init(
        callFactor: Int = 10, minimumCalls: Int = 1_000, errorFactor: Int = 10, minimumErrors: Int = 100,
        idleDays: Int = 30
    ) {
        self.callFactor = callFactor
        self.minimumCalls = minimumCalls
        self.errorFactor = errorFactor
        self.minimumErrors = minimumErrors
        self.idleDays = idleDays
    }

    /// What is unusual about `activity`, in the order call spike, error spike, idle key used.
    public func anomalies(in activity: KeyActivity) -> [KeyAnomaly] {
        var found: [KeyAnomaly] = []
        if Self.isSpike(
            activity.calls, total: activity.baselineCalls, hours: activity.baselineHours, factor: callFactor,
            minimum: minimumCalls)
        {
            found.append(
                KeyAnomaly(
                    kind: .callSpike, observed: activity.calls,
                    baseline: activity.baselineCalls / activity.baselineHours))
        }
        if Self.isSpike(
            activity.errors, total: activity.baselineErrors, hours: activity.baselineHours, factor: errorFactor,
            minimum: minimumErrors)
        {
            found.append(
                KeyAnomaly(
                    kind: .errorSpike, observed: activity.errors,
                    baseline: activity.baselineErrors / activity.baselineHours))
        }
        if let since = idleSince(activity) {
            found.append(KeyAnomaly(kind: .idleKeyUsed, observed: activity.calls, baseline: 0, idleSince: since))
        }
        return found
    }

    /// Whether `observed` in one hour is far above `total` over `hours`: at least `minimum` (and
    /// at least one), with enough history, and `observed × hours ≥ factor × total`. A history
    /// without any use (`total` 0) makes any count from `minimum` up a spike.
    public static func isSpike(_ observed: Int, total: Int, hours: Int, factor: Int, minimum: Int) -> Bool {
        guard observed >= max(minimum, 1), hours >= minimumHistoryHours, total >= 0 else { return false }
        // Full-width products, compared high word first: exact for any counts, never trapping.
        let seen = observed.multipliedFullWidth(by: hours)
        let usual = max(factor, 0).multipliedFullWidth(by: total)
        return (seen.high, seen.low) >= (usual.high, usual.low)
    }

    /// The key's previous call, when the first call of the hour came at least ``idleDays`` days
    /// after it; `nil` otherwise, and for a key with no earlier call at all (its first use is
    /// not a return from idleness).
    public func idleSince(_ activity: KeyActivity) -> Date? {
        guard activity.calls > 0, let first = activity.firstCallAt, let previous = activity.previousCallAt else {
            return nil
        }
        let quiet =
            Int64(saturating: first.timeIntervalSince1970.rounded(.down))
            .subtractingSaturated(Int64(saturating: previous.timeIntervalSince1970.rounded(.down)))
        let (idle, overflow) = Int64(max(idleDays, 1)).multipliedReportingOverflow(by: 86_400)
        return !overflow && quiet >= idle ? previous : nil
    }
}

/// One key's use as the rule looks at it: the hour looked at, and the history before it.
public struct KeyActivity: Equatable, Sendable {
    /// Calls in the hour.
    public var calls: Int
    /// Failed calls in the hour: metered calls answered 400 or more, the gateway's rate-limit and
    /// spend refusals included.
    public var errors: Int
    /// Calls over the baseline hours.
    public var baselineCalls: Int
    /// Failed calls over the baseline hours.
    public var baselineErrors: Int
    /// The whole hours of the baseline the key existed for, at most
    /// ``UsageAnomalyRule/baselineHours``.
    public var baselineHours: Int
    /// The start of the first minute of the hour with a call.
    public var firstCallAt: Date?
    /// The start of the key's last minute with a call before the hour, if it ever made one.
    public var previousCallAt: Date?

    /// Creates a value.
    public init(
        calls: Int, errors: Int = 0, baselineCalls: Int = 0, baselineErrors: Int = 0,
        baselineHours: Int = UsageAnomalyRule.baselineHours, firstCallAt: Date? = nil, previousCallAt: Date? = nil
    ) {
        self.calls = calls
        self.errors = errors
        self.baselineCalls = baselineCalls
        self.baselineErrors = baselineErrors
        self.baselineHours = baselineHours
        self.firstCallAt = firstCallAt
        self.previousCallAt = previousCallAt
    }
}

/// One unusual thing the rule found.
public struct KeyAnomaly: Equatable, Sendable {
    public var kind: KeyAlert.Kind
    /// Calls (failed calls for an error spike) in the hour.
    public var observed: Int
    /// The usual count per hour, rounded down; 0 for an idle key used.
    public var baseline: Int
    /// For an idle key used: its previous call.
    public var idleSince: Date?

    /// Creates a value.
    public init(kind: KeyAlert.Kind, observed: Int, baseline: Int, idleSince: Date? = nil) {
        self.kind = kind
        self.observed = observed
        self.baseline = baseline
        self.idleSince = idleSince
    }
}

/// The rule and how often an alert may repeat.
public struct KeyAlertPolicy: Equatable, Sendable {
    public var rule: UsageAnomalyRule
    /// Seconds: at most one alert per key and kind per window. Windows start at whole multiples
    /// of it since 1970 (a day's window starts at midnight UTC), and no alert follows another of
    /// the same key and kind within one window's length either.
    public var window: Int

    /// Creates a policy.
    public init(rule: UsageAnomalyRule = UsageAnomalyRule(), window: Int = 86_400) {
        self.rule = rule
        self.window = window
    }

    /// The start of the window `date` falls in.
    public func windowStart(containing date: Date) -> Date {
        let seconds = Int64(saturating: date.timeIntervalSince1970.rounded(.down))
        let width = Int64(max(window, 1))
        let offset = (seconds % width + width) % width
        return Date(timeIntervalSince1970: TimeInterval(seconds - offset))
    }
}
