import Foundation
import Hummingbird
import KeywardenCore

extension Request {
    /// An integer query parameter, which must lie in `range`; a refusal naming it otherwise.
    ///
    /// Every number a client sends is bounded here, where it is read, so no arithmetic on it
    /// further in can overflow.
    /// Given empty (`limit=`), a number is refused rather than taken as absent: an empty value
    /// is not a number, and a client sending one has a bug worth hearing about.
    func integerQuery(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let raw = queryValues(name).first else { return nil }
        guard let value = Int(raw), range.contains(value) else {
            throw DomainError.invalidField(
                name, "'\(name)' must be an integer from \(range.lowerBound) to \(range.upperBound).")
        }
        return value
    }

    /// A time query parameter in Unix seconds, from 1970 to the end of year 9999.
    func unixTimeQuery(_ name: String) throws -> Int? {
        guard let raw = queryValues(name).first else { return nil }
        guard let value = Int(raw), UnixTime.range.contains(value) else {
            throw DomainError.invalidField(
                name, "'\(name)' must be a time in Unix seconds, from 0 to \(UnixTime.range.upperBound).")
        }
        return value
    }

    /// The `limit` of a list request: 20 when absent, 1 to ``PageLimit/maximum``.
    func pageLimit() throws -> Int {
        try PageLimit.validate(try integerQuery("limit", in: 1...PageLimit.maximum))
    }

    /// A boolean query parameter (`true` or `false`); a refusal naming it otherwise.
    func booleanQuery(_ name: String) throws -> Bool? {
        guard let raw = textQuery(name) else { return nil }
        switch raw.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw DomainError.invalidField(name, "'\(name)' must be true or false.")
        }
    }

    /// A text query parameter; given empty (`after=`), it counts as absent.
    func textQuery(_ name: String) -> String? {
        guard let value = queryValues(name).first, !value.isEmpty else { return nil }
        return String(value)
    }

    /// Every value of the query parameter `name`, in order, whether its name came as typed or
    /// percent-encoded (`event_types%5B%5D`, as many clients send brackets).
    func queryValues(_ name: String) -> [Substring] {
        uri.queryParameters.compactMap { parameter in
            parameter.key == name[...] || String(parameter.key).removingPercentEncoding == name ? parameter.value : nil
        }
    }
}
