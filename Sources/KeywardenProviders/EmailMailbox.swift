/// An address with an optional display name, as `email_from` is written: `keywarden@example.com` or
/// `Keywarden <keywarden@example.com>` (the name may be quoted: `"Keywarden, Inc." <...>`).
///
/// It is the From of every message, so it must fit on one header line: no control character,
/// and an address of one `@` between a non-empty local part and domain, without spaces or angle
/// brackets. The domain need not hold a dot (`localhost` is fine for development).
public struct EmailMailbox: Equatable, Sendable, CustomStringConvertible {
    /// The name mail clients show, or `nil`.
    public var displayName: String?
    /// The address, `local@domain`.
    public var address: String

    /// The default sender: `Keywarden <keywarden@localhost>`.
    public static let keywarden = EmailMailbox(displayName: "Keywarden", address: "keywarden@localhost")

    /// A mailbox from its parts, which the caller has checked.
    public init(displayName: String?, address: String) {
        self.displayName = displayName
        self.address = address
    }

    /// Reads `Name <address>`, `<address>` or `address`; `nil` when it is none of these.
    public init?(parsing text: String) {
        let trimmed = text.trimmingSpaces
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            return nil
        }
        var name: String?
        var address = trimmed
        if trimmed.hasSuffix(">") {
            guard let open = trimmed.lastIndex(of: "<") else { return nil }
            address = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            name = Self.unquoted(String(trimmed[..<open]).trimmingSpaces)
        }
        guard Self.isPlausible(address) else { return nil }
        self.init(displayName: name?.isEmpty == false ? name : nil, address: address)
    }

    /// The part after the `@`.
    public var domain: String {
        address.lastIndex(of: "@").map { String(address[address.index(after: $0)...]) } ?? ""
    }

    /// As it is written in `email_from`.
    public var description: String {
        displayName.map { "\($0) <\(address)>" } ?? address
    }

    /// One `@` between a non-empty local part and a domain of non-empty labels; no white space,
    /// control character, angle bracket or quote anywhere; at most 254 characters.
    static func isPlausible(_ address: String) -> Bool {
        let scalars = Array(address.unicodeScalars)
        let refused = Set("<>\"(),;[]\\".unicodeScalars)
        guard scalars.count <= 254,
            !scalars.contains(where: {
                $0.properties.isWhitespace || $0.properties.generalCategory == .control || refused.contains($0)
            })
        else { return false }
        let parts = scalars.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...64).contains(parts[0].count), !parts[1].isEmpty else { return false }
        return parts[1].split(separator: ".", omittingEmptySubsequences: false).allSatisfy { !$0.isEmpty }
    }

    /// A display name without its surrounding quotes and with `\"` and `\\` read back.
    private static func unquoted(_ name: String) -> String {
        guard name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") else { return name }
        var result = ""
        var escaped = false
        for character in name.dropFirst().dropLast() {
            if !escaped, character == "\\" {
                escaped = true
                continue
            }
            escaped = false
            result.append(character)
        }
        return result
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        let scalars = Array(unicodeScalars)
        var start = 0
        var end = scalars.count
        while start < end, scalars[start] == " " || scalars[start] == "\t" { start += 1 }
        while end > start, scalars[end - 1] == " " || scalars[end - 1] == "\t" { end -= 1 }
        var result = ""
        result.unicodeScalars.append(contentsOf: scalars[start..<end])
        return result
    }

    /// Whether every scalar is ASCII.
    var isAllASCII: Bool { unicodeScalars.allSatisfy(\.isASCII) }
}
