import Foundation

/// The times a client may name, in Unix seconds: from 1970 to the last second of year 9999.
///
/// Bounding times where they are read keeps every later step (milliseconds for storage,
/// bucket arithmetic) far inside `Int64`.
public enum UnixTime {
    /// 1970-01-01T00:00:00Z through 9999-12-31T23:59:59Z.
    public static let range = 0...253_402_300_799

    /// Whether a date lies within ``range``.
    public static func contains(_ date: Date) -> Bool {
        let seconds = date.timeIntervalSince1970
        return seconds >= Double(range.lowerBound) && seconds <= Double(range.upperBound)
    }
}

extension Int64 {
    /// `value` rounded toward zero, or the nearest bound when it lies outside `Int64` (NaN gives
    /// `.min`): for times that must be stored or shown whatever they hold, without trapping.
    public init(saturating value: Double) {
        if let exact = Int64(exactly: value.rounded(.towardZero)) {
            self = exact
        } else {
            self = value > 0 ? .max : .min
        }
    }
}
