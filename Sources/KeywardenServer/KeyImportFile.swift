import Foundation
import KeywardenCore

/// Reads the CSV that `keywarden keys import` takes: a header with `name`, `key` or `sha256`, and
/// `created_at` (ISO 8601 or Unix seconds); fields may be quoted.
public enum KeyImportFile {
    /// The keys in the text.
    ///
    /// - Parameter clock: what "now" is, which no key's `created_at` may be after.
    public static func parse(_ text: String, clock: Clock = .live) throws -> [APIKeyService.ImportedKey] {
        let rows = csvRows(text)
        guard let header = rows.first?.map({ $0.trimmingWhitespace().lowercased() }) else { return [] }
        guard let nameColumn = header.firstIndex(of: "name"), let dateColumn = header.firstIndex(of: "created_at")
        else { throw ImportError("the header needs name, created_at and key or sha256 columns") }
        let keyColumn = header.firstIndex(of: "key")
        let digestColumn = header.firstIndex(of: "sha256")
        guard keyColumn != nil || digestColumn != nil else {
            throw ImportError("the header needs a key or a sha256 column")
        }
        return try rows.dropFirst().enumerated().compactMap { offset, row in
            guard !(row.count == 1 && row[0].trimmingWhitespace().isEmpty) else { return nil }
            func field(_ column: Int?) -> String? {
                guard let column, column < row.count else { return nil }
                let value = row[column].trimmingWhitespace()
                return value.isEmpty ? nil : value
            }
            guard let rawDate = field(dateColumn), let date = parseDate(rawDate) else {
                throw ImportError("line \(offset + 2): created_at must be ISO 8601 or Unix seconds")
            }
            guard UnixTime.contains(date), date <= clock.now() else {
                throw ImportError("line \(offset + 2): created_at must lie between 1970 and now")
            }
            return APIKeyService.ImportedKey(
                name: field(nameColumn) ?? "", value: field(keyColumn), sha256: field(digestColumn), createdAt: date)
        }
    }

    static func parseDate(_ text: String) -> Date? {
        if let seconds = Int(text) {
            return UnixTime.range.contains(seconds) ? Date(timeIntervalSince1970: TimeInterval(seconds)) : nil
        }
        return ISO8601DateFormatter().date(from: text)
    }

    static func csvRows(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var previousWasQuote = false
        for character in text {
            if quoted {
                if character == "\"" {
                    quoted = false
                    previousWasQuote = true
                } else {
                    field.append(character)
                }
                continue
            }
            switch character {
            case "\"":
                // A doubled quote inside a quoted field is a literal quote.
                if previousWasQuote { field.append("\"") }
                quoted = true
            case ",":
                row.append(field)
                field = ""
            case "\n", "\r\n":
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            default:
                field.append(character)
            }
            previousWasQuote = false
        }
        if !field.isEmpty || !row.isEmpty {
            row.append(field)
            rows.append(row)
        }
        return rows
    }

    /// A file that cannot be read.
    public struct ImportError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}
