import Foundation

/// Times as pages show them: UTC, the same for every reader, worked out with ``UTCDay``'s integer
/// calendar arithmetic (no calendar, time zone or formatter objects on the way).
enum UTCTime {
    /// `2026-03-01 14:05` (the template says UTC); held within 1970 to 9999.
    static func minutes(_ date: Date) -> String {
        let (day, secondOfDay) = split(date)
        return "\(day.text) \(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60))"
    }

    /// `2026-03-01 14:05:09`, to the second; held within 1970 to 9999.
    static func seconds(_ date: Date) -> String {
        let (day, secondOfDay) = split(date)
        return "\(day.text) \(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))"
    }

    /// The UTC day of `date` and the whole seconds into it.
    private static func split(_ date: Date) -> (UTCDay, Int) {
        let seconds = date.timeIntervalSince1970
        let whole = seconds.isFinite ? Int(min(max(seconds, 0), 253_402_300_799).rounded(.down)) : 0
        return (UTCDay(number: whole / UTCDay.secondsPerDay), whole % UTCDay.secondsPerDay)
    }

    private static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
