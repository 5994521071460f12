import Foundation

/// At most `limit` events per `window`, counted in fixed windows aligned to the Unix epoch.
public struct FixedWindowLimit: Equatable, Sendable {
    /// Events allowed per window.
    public var limit: Int
    /// The window length in seconds.
    public var window: Int

    /// Creates a limit.
    public init(limit: Int, window: Int) {
        precondition(limit > 0 && window > 0, "a limit needs a positive count and window")
        self.limit = limit
        self.window = window
    }

    /// The start of the window that holds `date`.
    public func windowStart(for date: Date) -> Date {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        return Date(timeIntervalSince1970: TimeInterval(seconds - seconds % window))
    }

    /// Whole seconds from `date` until its window ends, at least 1.
    public func secondsUntilReset(from date: Date) -> Int {
        let end = windowStart(for: date).addingTimeInterval(TimeInterval(window))
        return max(1, Int(end.timeIntervalSince(date).rounded(.up)))
    }
}
