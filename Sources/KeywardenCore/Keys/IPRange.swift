/// An IPv4 or IPv6 address, read from its text byte by byte (no platform networking types): a
/// caller's address, or the first address of a range a key accepts calls from.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// The protocol an address belongs to.
    public enum Family: Hashable, Sendable {
        case ipv4
        case ipv6

        /// How many bits an address of the family has.
        public var width: Int { self == .ipv4 ? 32 : 128 }
    }

    public let family: Family
    /// The address's bits; an IPv4 address in the lowest 32.
    public let bits: UInt128

    init(family: Family, bits: UInt128) {
        self.family = family
        self.bits = bits
    }

    /// Reads `203.0.113.7` or `2001:db8::1`. An IPv4-mapped IPv6 address (`::ffff:203.0.113.7`,
    /// as a dual-stack listener reports an IPv4 peer) reads as the IPv4 address it carries, so
    /// IPv4 ranges match it. `nil` for anything else: zones, brackets, ports, leading zeros.
    public init?(_ text: String) {
        var text = text
        guard let address = text.withUTF8({ Self.parse($0, from: 0, to: $0.count) }) else { return nil }
        self = address.unmapped
    }

    /// Whether this is an IPv4-mapped IPv6 address (`::ffff:0:0/96`).
    var isIPv4Mapped: Bool { family == .ipv6 && bits >> 32 == 0xFFFF }

    /// The IPv4 address an IPv4-mapped one carries; any other address as it is.
    var unmapped: IPAddress {
        isIPv4Mapped ? IPAddress(family: .ipv4, bits: bits & 0xFFFF_FFFF) : self
    }

    /// `203.0.113.7`, or IPv6 in its canonical form (RFC 5952): lowercase, no leading zeros, the
    /// first longest run of two or more zero groups written `::`.
    public var description: String {
        switch family {
        case .ipv4:
            let value = UInt32(truncatingIfNeeded: bits)
            return "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
        case .ipv6:
            let groups = (0..<8).map { UInt16(truncatingIfNeeded: bits >> (112 - 16 * $0)) }
            var zerosStart = 0
            var zerosLength = 0
            var index = 0
            while index < 8 {
                guard groups[index] == 0 else {
                    index += 1
                    continue
                }
                var end = index
                while end < 8, groups[end] == 0 { end += 1 }
                if end - index > zerosLength {
                    zerosStart = index
                    zerosLength = end - index
                }
                index = end
            }
            func hex(_ range: Range<Int>) -> String {
                groups[range].map { String($0, radix: 16) }.joined(separator: ":")
            }
            guard zerosLength >= 2 else { return hex(0..<8) }
            return hex(0..<zerosStart) + "::" + hex((zerosStart + zerosLength)..<8)
        }
    }

    // MARK: Reading

    static let colon = UInt8(ascii: ":")
    static let dot = UInt8(ascii: ".")

    /// The address in `text[start..<end]`, IPv4-mapped ones left as IPv6.
    static func parse(_ text: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> IPAddress? {
        guard start < end else { return nil }
        for index in start..<end where text[index] == colon {
            return ipv6(text, from: start, to: end).map { IPAddress(family: .ipv6, bits: $0) }
        }
        return ipv4(text, from: start, to: end).map { IPAddress(family: .ipv4, bits: UInt128($0)) }
    }

    /// Four decimal parts of 0 to 255, with no leading zeros (which some readers take for octal).
    static func ipv4(_ text: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> UInt32? {
        var value: UInt32 = 0
        var parts = 0
        var index = start
        while true {
            guard let part = decimal(text, from: &index, to: end, maximum: 255) else { return nil }
            value = value << 8 | UInt32(part)
            parts += 1
            if index == end { break }
            guard text[index] == dot, parts < 4 else { return nil }
            index += 1
        }
        return parts == 4 ? value : nil
    }

    /// Eight groups of one to four hex digits, with at most one `::` standing for one or more
    /// zero groups, and optionally a dotted IPv4 address as the last two.
    static func ipv6(_ text: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> UInt128? {
        var head: UInt128 = 0
        var headCount = 0
        var tail: UInt128 = 0
        var tailCount = 0
        var compressed = false
        var index = start
        if end - start >= 2, text[start] == colon, text[start + 1] == colon {
            compressed = true
            index += 2
        } else if text[start] == colon {
            return nil
        }
        while index < end {
            let groupStart = index
            var group: UInt128 = 0
            var digits = 0
            while index < end, digits <= 4, let nibble = hexValue(text[index]) {
                group = group << 4 | UInt128(nibble)
                digits += 1
                index += 1
            }
            var groupCount = 1
            if index < end, text[index] == dot {
                // A dotted IPv4 address ends the text and stands for the last two groups.
                guard let embedded = ipv4(text, from: groupStart, to: end) else { return nil }
                group = UInt128(embedded)
                groupCount = 2
                index = end
            } else {
                guard (1...4).contains(digits) else { return nil }
            }
            if compressed {
                tail = tail << (16 * groupCount) | group
                tailCount += groupCount
            } else {
                head = head << (16 * groupCount) | group
                headCount += groupCount
            }
            guard headCount + tailCount <= 8 else { return nil }
            if index == end { break }
            guard text[index] == colon else { return nil }
            index += 1
            if index < end, text[index] == colon {
                guard !compressed else { return nil }
                compressed = true
                index += 1
            } else if index == end {
                return nil
            }
        }
        if compressed {
            guard headCount + tailCount <= 7 else { return nil }
            return head << (16 * (8 - headCount)) | tail
        }
        return headCount == 8 ? head : nil
    }

    /// A decimal number of at most three digits and no leading zero, at most `maximum`, read
    /// from `index` on; `index` ends after it.
    static func decimal(
        _ text: UnsafeBufferPointer<UInt8>, from index: inout Int, to end: Int, maximum: Int
    ) -> Int? {
        let start = index
        var value = 0
        while index < end, index - start < 4, text[index] >= 48, text[index] <= 57 {
            value = value * 10 + Int(text[index] - 48)
            index += 1
        }
        let digits = index - start
        guard (1...3).contains(digits), digits == 1 || text[start] != 48, value <= maximum else { return nil }
        return value
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: byte - 48
        case 97...102: byte - 87
        case 65...70: byte - 55
        default: nil
        }
    }
}

/// A range of addresses in CIDR form, such as `203.0.113.0/24` or `2001:db8::/32`; a single
/// address is the range of its full length.
public struct IPRange: Hashable, Sendable, CustomStringConvertible {
    /// Why a text is not a range.
    public enum Refusal: Error, Equatable, Sendable {
        /// Not an IPv4 or IPv6 address before the `/`.
        case notAnAddress
        /// The prefix length after the `/` is not a number of at most three digits.
        case malformedPrefix
        /// The prefix length is longer than the family's addresses (`maximum` bits).
        case prefixTooLong(maximum: Int)
        /// An IPv4-mapped IPv6 range: it is written as the IPv4 range it stands for.
        case ipv4Mapped
        /// The address has bits set past the prefix (`10.0.0.5/8`), so the text could mean
        /// `range`, the whole range the prefix covers, or `address` alone: refused, not guessed.
        case hostBitsSet(range: IPRange, address: IPAddress)
    }

    /// The range's first address (its host bits cleared).
    public let network: IPAddress
    /// How many leading bits the addresses of the range share: up to 32 for IPv4, 128 for IPv6.
    public let prefixLength: Int
    /// The bits an address shares with `network` to be in the range.
    let mask: UInt128

    /// Reads a range or a single address. A range's address has no bits set past its prefix:
    /// `203.0.113.9/24` is refused (``Refusal/hostBitsSet(range:address:)``), since it may mean
    /// `203.0.113.0/24` or `203.0.113.9` alone.
    public static func parse(_ text: String) -> Result<IPRange, Refusal> {
        var text = text
        return text.withUTF8 { Self.read($0) }
    }

    /// Reads a range or a single address; `nil` for text ``parse(_:)`` refuses.
    public init?(_ text: String) {
        guard case .success(let range) = Self.parse(text) else { return nil }
        self = range
    }

    init(network: IPAddress, prefixLength: Int) {
        let mask = Self.mask(prefixLength, width: network.family.width)
        self.network = IPAddress(family: network.family, bits: network.bits & mask)
        self.prefixLength = prefixLength
        self.mask = mask
    }

    static func read(_ text: UnsafeBufferPointer<UInt8>) -> Result<IPRange, Refusal> {
        let slash = text.firstIndex(of: UInt8(ascii: "/")) ?? text.count
        guard let address = IPAddress.parse(text, from: 0, to: slash) else { return .failure(.notAnAddress) }
        let width = address.family.width
        var prefixLength = width
        if slash < text.count {
            var index = slash + 1
            guard let length = IPAddress.decimal(text, from: &index, to: text.count, maximum: 999),
                index == text.count
            else { return .failure(.malformedPrefix) }
            guard length <= width else { return .failure(.prefixTooLong(maximum: width)) }
            prefixLength = length
        }
        // A range wider than the mapped block (such as ::/0) is about IPv6 peers and stays.
        if address.isIPv4Mapped, prefixLength >= 96 { return .failure(.ipv4Mapped) }
        let range = IPRange(network: address, prefixLength: prefixLength)
        guard range.network == address else {
            return .failure(.hostBitsSet(range: range, address: address.unmapped))
        }
        return .success(range)
    }

    /// The bits of the first `prefixLength` of `width`.
    static func mask(_ prefixLength: Int, width: Int) -> UInt128 {
        let all: UInt128 = width == 32 ? UInt128(UInt32.max) : .max
        return prefixLength == 0 ? 0 : all & (all << (width - prefixLength))
    }

    /// Whether `address` is in the range; an IPv4 address is never in an IPv6 range.
    public func contains(_ address: IPAddress) -> Bool {
        address.family == network.family && address.bits & mask == network.bits
    }

    /// Whether every address of `other` is in this range.
    public func contains(_ other: IPRange) -> Bool {
        other.network.family == network.family && other.prefixLength >= prefixLength
            && other.network.bits & mask == network.bits
    }

    /// The canonical text: `203.0.113.0/24`, `2001:db8::/32`, or a single address alone.
    public var description: String {
        prefixLength == network.family.width ? network.description : "\(network)/\(prefixLength)"
    }
}
