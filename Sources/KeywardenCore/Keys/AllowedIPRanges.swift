/// The client addresses a key accepts calls from: up to 32 IPv4 or IPv6 ranges, or, when there
/// are none, any address. Read once when the key is stored or loaded, so checking a call costs
/// no parsing of the ranges, and nothing at all for a key without them.
public struct AllowedIPRanges: Equatable, Sendable {
    /// The most ranges one key may have.
    public static let maximumCount = 32
    /// No ranges: calls from any address.
    public static let any = AllowedIPRanges(ranges: [])

    /// The ranges, in canonical form, in the order they were given, without repeats.
    public let ranges: [IPRange]

    init(ranges: [IPRange]) {
        self.ranges = ranges
    }

    /// Whether calls from any address are accepted.
    public var allowsAnyAddress: Bool { ranges.isEmpty }

    /// Reads the API's `allowed_ips`: each entry an IPv4 or IPv6 address or CIDR range, with
    /// white space around it ignored and repeats dropped. An empty list accepts any address.
    ///
    /// - Throws: `invalid_value` naming `field`, for more than 32 entries or one that is not an
    ///   address or range, such as a range whose address has bits set past its prefix
    ///   (`10.0.0.5/8`); the sentence quotes the entry.
    public init(parsing entries: [String], field: String = "allowed_ips") throws {
        guard entries.count <= Self.maximumCount else {
            throw DomainError.invalidField(
                field,
                "A key takes at most \(Self.maximumCount) allowed IP addresses or ranges; \(entries.count) were given.")
        }
        var ranges: [IPRange] = []
        for entry in entries {
            let text = entry.trimmingWhitespace()
            guard !text.isEmpty else {
                throw DomainError.invalidField(
                    field, "An allowed IP entry is empty. Write an address or range such as 203.0.113.0/24.")
            }
            switch IPRange.parse(text) {
            case .success(let range):
                if !ranges.contains(range) { ranges.append(range) }
            case .failure(let refusal):
                throw DomainError.invalidField(field, Self.sentence(for: refusal, entry: text))
            }
        }
        self.ranges = ranges
    }

    /// What was wrong with `entry`, quoted (cut short) so the person finds it in their list.
    static func sentence(for refusal: IPRange.Refusal, entry: String) -> String {
        let quoted = "'" + (entry.count > 64 ? String(entry.prefix(61)) + "..." : entry) + "'"
        return switch refusal {
        case .notAnAddress:
            "\(quoted) is not an IP address or CIDR range. "
                + "Write addresses and ranges such as 198.51.100.7, 203.0.113.0/24 or 2001:db8::/32."
        case .malformedPrefix:
            "\(quoted) has a prefix length that is not a whole number. "
                + "Write it after the slash: /0 to /32 for IPv4, /0 to /128 for IPv6."
        case .prefixTooLong(let maximum):
            "\(quoted) has a prefix longer than /\(maximum), the longest an IPv\(maximum == 32 ? 4 : 6) range has."
        case .ipv4Mapped:
            "\(quoted) is an IPv4-mapped IPv6 range. Write the IPv4 range it stands for, such as 203.0.113.0/24."
        case .hostBitsSet(let range, let address):
            "\(quoted) has bits set past its /\(range.prefixLength) prefix; write \(range) for the whole range "
                + "or \(address)/\(address.family.width) for the one address."
        }
    }

    /// The ranges as the API shows them.
    public var texts: [String] { ranges.map(\.description) }

    /// The stored form: the ranges in canonical form separated by commas; empty for any address.
    public var stored: String { texts.joined(separator: ",") }

    /// Reads the stored form; `nil` for text that is not one.
    public init?(stored: String) {
        var ranges: [IPRange] = []
        for part in stored.split(separator: ",") {
            guard let range = IPRange(String(part)) else { return nil }
            ranges.append(range)
        }
        self.ranges = ranges
    }

    /// Whether a call from `address`, the peer's address as text, may use the key. A key with
    /// ranges refuses a call whose address is unknown or unreadable.
    public func admits(_ address: String?) -> Bool {
        if ranges.isEmpty { return true }
        guard let address, let parsed = IPAddress(address) else { return false }
        return admits(parsed)
    }

    /// Whether a call from `address` may use the key.
    public func admits(_ address: IPAddress) -> Bool {
        ranges.isEmpty || ranges.contains { $0.contains(address) }
    }

    /// Whether every address these ranges accept, `other` accepts too (any address is within
    /// no ranges but the empty list).
    public func isWithin(_ other: AllowedIPRanges) -> Bool {
        if other.ranges.isEmpty { return true }
        if ranges.isEmpty { return false }
        return ranges.allSatisfy { range in other.ranges.contains { $0.contains(range) } }
    }
}

extension DomainError {
    /// A key limited to IP ranges was presented from an address outside them (or from one that
    /// is unknown). The ranges themselves are not told.
    public static func ipNotAllowed(_ address: String?) -> DomainError {
        let message =
            if let address {
                "Calls from \(address) cannot use this API key: the address is not in the key's allowed IP ranges."
            } else {
                "This API key accepts calls only from its allowed IP ranges, and this call's address is unknown."
            }
        return DomainError(.forbidden, code: .ipNotAllowed, message: message)
    }
}
