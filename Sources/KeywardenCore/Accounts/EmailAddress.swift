/// An email address in the one form Keywarden stores and compares: trimmed and lowercased.
public struct EmailAddress: Hashable, Sendable, CustomStringConvertible {
    /// The normalised address.
    public let value: String

    /// The longest address accepted, in code points (RFC 5321's path limit).
    public static let maximumLength = 254

    /// Normalises and checks an address typed by a person.
    ///
    /// - Throws: ``DomainError`` `invalid_email` when it is not of the form `local@domain.tld`.
    /// The length limits count code points of the address as sent (surrounding white space
    /// included), as JSON Schema's `maxLength` does, so the API's schema states the rule exactly.
    public init(normalizing input: String) throws {
        let trimmed = input.trimmingWhitespace()
        guard input.unicodeScalars.count <= Self.maximumLength, Self.isPlausible(trimmed) else {
            throw DomainError(
                .invalidRequest, code: .invalidEmail,
                message: "Enter an email address of the form name@example.com.", param: "email")
        }
        self.value = trimmed.lowercased()
    }

    /// Wraps an address read back from storage.
    public init(stored value: String) {
        self.value = value
    }

    public var description: String { value }

    /// `local@domain.tld` read scalar by scalar (not by grapheme, where a combining mark after `@`
    /// would hide it): one `@`, a local part of 1 to 64, a domain of dot-separated non-empty labels
    /// with at least one dot, and no white space or control character anywhere.
    private static func isPlausible(_ address: String) -> Bool {
        let scalars = Array(address.unicodeScalars)
        guard !scalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control })
        else { return false }
        let parts = scalars.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...64).contains(parts[0].count) else { return false }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && labels.allSatisfy { !$0.isEmpty }
    }
}

extension StringProtocol {
    /// The text without leading or trailing whitespace and newlines.
    public func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars[start...end])
        return String(result)
    }
}
