import Foundation

/// The few libphonenumber patterns that read raw text rather than digits, run with
/// Foundation's regular expressions. They are consulted only for text the fast paths in
/// ``PhoneNumberParser`` cannot decide: extensions, letters, and `tel:` contexts.
struct UnicodePattern: @unchecked Sendable {
    // SAFETY: NSRegularExpression is immutable after creation and documented as safe to
    // use from several threads at once.
    private let expression: NSRegularExpression?

    init(_ pattern: String, caseInsensitive: Bool) {
        expression = try? NSRegularExpression(
            pattern: pattern, options: caseInsensitive ? [.caseInsensitive] : [])
    }

    /// The first match anywhere in `text`: the scalar offset where it starts and its groups.
    func firstMatch(in text: String) -> (start: Int, groups: [String?])? {
        guard let expression else { return nil }
        let range = NSRange(text.startIndex..<text.endIndex, in: text)
        guard let match = expression.firstMatch(in: text, options: [], range: range),
            let start = Range(match.range, in: text)?.lowerBound
        else { return nil }
        let groups: [String?] = (1..<max(1, match.numberOfRanges)).map { index in
            Range(match.range(at: index), in: text).map { String(text[$0]) }
        }
        return (text.unicodeScalars.distance(from: text.unicodeScalars.startIndex, to: start), groups)
    }
}

enum UnicodePatterns {
    static let validPhoneNumberWhole = UnicodePattern(
        "\\A(?:" + phoneValidNumberPattern + ")\\z", caseInsensitive: true)
    static let extensionAtEnd = UnicodePattern(phoneExtensionPattern, caseInsensitive: true)
    static let rfc3966GlobalNumber = UnicodePattern(
        "\\A(?:" + phoneRFC3966GlobalNumberPattern + ")\\z", caseInsensitive: false)
    static let rfc3966DomainName = UnicodePattern(
        "\\A(?:" + phoneRFC3966DomainNamePattern + ")\\z", caseInsensitive: false)
}
