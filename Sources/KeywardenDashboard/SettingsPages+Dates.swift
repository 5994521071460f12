import Foundation
import KeywardenCore

extension SettingsPages {
    /// Days and times in UTC as the settings pages read and show them: days as `<input type="date">`
    /// sends them (`YYYY-MM-DD`), times as `YYYY-MM-DD HH:MM:SS`. Worked out with the proleptic
    /// Gregorian calendar's day arithmetic, so no time zone or locale of the server plays a part.
    enum UTC {
        /// Seconds in a day.
        static let day: TimeInterval = 86_400

        /// The start (00:00:00 UTC) of the day `text` names; `nil` unless it is `YYYY-MM-DD`, a
        /// real date from 1970 through 9999.
        static func startOfDay(_ text: String) -> Date? {
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
                parts.allSatisfy({ $0.allSatisfy { $0 >= "0" && $0 <= "9" } }),
                let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
                (1970...9999).contains(year), (1...12).contains(month), (1...31).contains(day)
            else { return nil }
            let days = daysSinceEpoch(year: year, month: month, day: day)
            // 31 February and the like come back as another date.
            guard civil(fromDays: days) == (year, month, day) else { return nil }
            return Date(timeIntervalSince1970: TimeInterval(days) * Self.day)
        }

        /// `YYYY-MM-DD HH:MM:SS` of `date` in UTC.
        static func time(_ date: Date) -> String {
            let seconds = Int64(saturating: date.timeIntervalSince1970.rounded(.down))
            let clamped = min(max(seconds, 0), 253_402_300_799)
            let days = Int(clamped / 86_400)
            let rest = Int(clamped % 86_400)
            let (year, month, day) = civil(fromDays: days)
            return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) "
                + "\(pad(rest / 3600, 2)):\(pad(rest / 60 % 60, 2)):\(pad(rest % 60, 2))"
        }

        /// `YYYY-MM-DD` of `date` in UTC.
        static func dayText(_ date: Date) -> String {
            String(time(date).prefix(10))
        }

        /// Days from 1970-01-01 to the date (Howard Hinnant's `days_from_civil`).
        static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
            let shifted = month <= 2 ? year - 1 : year
            let era = (shifted >= 0 ? shifted : shifted - 399) / 400
            let yearOfEra = shifted - era * 400
            let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
            let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
            return era * 146_097 + dayOfEra - 719_468
        }

        /// The date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
        static func civil(fromDays days: Int) -> (Int, Int, Int) {
            let shifted = days + 719_468
            let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
            let dayOfEra = shifted - era * 146_097
            let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
            let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
            let monthIndex = (5 * dayOfYear + 2) / 153
            let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
            let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
            return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
        }

        private static func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
    }
}
