import Foundation

/// A calendar day in UTC, from 1970-01-01 through 9999-12-31, counted in days since 1970-01-01.
///
/// The arithmetic is plain integer civil-calendar arithmetic (proleptic Gregorian), so it needs
/// no time zone, locale or formatter and gives the same answer on every platform.
struct UTCDay: Comparable, Hashable, Sendable {
    /// Days since 1970-01-01.
    let number: Int

    /// 1970-01-01.
    static let earliest = UTCDay(number: 0)
    /// 9999-12-31.
    static let latest = UTCDay(number: UTCDay.daysFromCivil(year: 9999, month: 12, day: 31))

    static let secondsPerDay = 86_400

    /// The day `number` days after 1970-01-01, held within ``earliest``…``latest``.
    init(number: Int) {
        self.number = min(max(number, 0), Self.daysFromCivil(year: 9999, month: 12, day: 31))
    }

    /// The UTC day `date` falls on, held within ``earliest``…``latest``.
    init(containing date: Date) {
        let seconds = date.timeIntervalSince1970
        guard seconds.isFinite, seconds > 0 else {
            self.init(number: 0)
            return
        }
        let days = (seconds / Double(Self.secondsPerDay)).rounded(.down)
        self.init(number: days < 3_000_000 ? Int(days) : 3_000_000)
    }

    /// Reads a day written exactly as `yyyy-MM-dd`; `nil` for anything else, for a day that does
    /// not exist (2025-02-30), and for years outside 1970…9999.
    init?(parsing text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            (1970...9999).contains(year), (1...12).contains(month),
            (1...Self.daysInMonth(year: year, month: month)).contains(day)
        else { return nil }
        self.number = Self.daysFromCivil(year: year, month: month, day: day)
    }

    /// Whether `text` has the shape `dddd-dd-dd` (so a refusal can tell a malformed value from
    /// a well-formed one outside the calendar's range).
    static func looksLikeDay(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 10 else { return false }
        return bytes.indices.allSatisfy { index in
            index == 4 || index == 7
                ? bytes[index] == UInt8(ascii: "-")
                : bytes[index] >= UInt8(ascii: "0") && bytes[index] <= UInt8(ascii: "9")
        }
    }

    /// Midnight UTC at the start of the day.
    var start: Date { Date(timeIntervalSince1970: TimeInterval(number * Self.secondsPerDay)) }

    /// The day written as `yyyy-MM-dd`.
    var text: String {
        let (year, month, day) = Self.civil(fromDays: number)
        func padded(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return padded(year, 4) + "-" + padded(month, 2) + "-" + padded(day, 2)
    }

    /// The day `days` later (earlier when negative), held within ``earliest``…``latest``.
    func adding(days: Int) -> UTCDay {
        UTCDay(number: number + days)
    }

    static func < (lhs: UTCDay, rhs: UTCDay) -> Bool {
        lhs.number < rhs.number
    }

    // MARK: Civil calendar

    static func isLeap(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a civil date (years from 1 on).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let shifted = month <= 2 ? year - 1 : year
        let era = shifted / 400
        let yearOfEra = shifted - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The civil date of a day number (from 1970-01-01 on).
    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = shifted / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
