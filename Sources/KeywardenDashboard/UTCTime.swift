import Foundation

/// Times as pages show them: UTC, to the minute, the same for every reader, worked out with
/// integer calendar arithmetic (no calendar, time zone or formatter objects on the way).
enum UTCTime {
    /// `2026-03-01 14:05` (the template says UTC); held within 1970 to 9999.
    static func minutes(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        let whole = seconds.isFinite ? Int(min(max(seconds, 0), 253_402_300_799).rounded(.down)) : 0
        let day = UTCDay(number: whole / UTCDay.secondsPerDay)
        let minuteOfDay = (whole % UTCDay.secondsPerDay) / 60
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(day.text) \(two(minuteOfDay / 60)):\(two(minuteOfDay % 60))"
    }
}
