/// An email address in the one form Keywarden stores and compares: trimmed and lowercased.
public struct EmailAddress: Hashable, Sendable, CustomStringConvertible {
    /// The normalised address.
    public let value: String

    /// The longest address accepted (RFC 5321's path limit).
    public static let maximumLength = 254

    /// Normalises and checks an address typed by a person.
    ///
    /// - Throws: ``DomainError`` `invalid_email` when it is not of the form `local@domain.tld`.
    public init(normalizing input: String) throws {
        let trimmed = input.trimmingWhitespace().lowercased()
        guard Self.isPlausible(trimmed) else {
            throw DomainError(
                .invalidRequest, code: "invalid_email",
                message: "Enter an email address of the form name@example.com.", param: "email")
        }
        self.value = trimmed
    }

    /// Wraps an address read back from storage.
    public init(stored value: String) {
        self.value = value
    }

    public var description: String { value }

    private static func isPlausible(_ address: String) -> Bool {
        guard address.utf8.count <= maximumLength else { return false }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, let local = parts.first, let domain = parts.last,
            !local.isEmpty, local.utf8.count <= 64,
            domain.contains("."), !domain.hasPrefix("."), !domain.hasSuffix("."), !domain.contains("..")
        else { return false }
        return !address.unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x20 || $0 == "\u{7F}" }
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
