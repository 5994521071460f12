/// Keywarden's key format: `sk-{kind}-` + 32 base62 characters from the CSPRNG (190 bits) +
/// 6 base62 characters of CRC32 over everything before them, so a mistyped or invented key is
/// refused without touching storage.
public struct APIKeyFormat: Sendable {
    /// What a key is for.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// A project key, for the protected API.
        case project = "proj"
        /// A service account's key, for the protected API.
        case serviceAccount = "svcacct"
        /// An admin key, for the organization's management endpoints.
        case admin
    }

    /// The text before the kind, `sk` by default.
    public let stem: String
    private let stemPrefix: [UInt8]
    private let kindPrefixes: [(Kind, [UInt8])]

    /// Random characters in a key.
    public static let randomLength = 32
    /// Checksum characters at the end of a key.
    public static let checksumLength = 6

    /// Creates the format with a stem (letters and digits).
    public init(stem: String = "sk") {
        self.stem = stem
        self.stemPrefix = Array("\(stem)-".utf8)
        self.kindPrefixes = Kind.allCases.map { ($0, Array("\(stem)-\($0.rawValue)-".utf8)) }
    }

    /// A new key of `kind`.
    public func generate(_ kind: Kind) -> String {
        let body = "\(stem)-\(kind.rawValue)-" + SecureRandom.base62(length: Self.randomLength)
        return body + Self.checksum(of: body)
    }

    /// How a presented key reads.
    public enum Reading: Equatable, Sendable {
        /// In Keywarden's format with a correct checksum.
        case valid(Kind)
        /// In Keywarden's format, but the checksum is wrong: mistyped or invented.
        case badChecksum
        /// Not Keywarden's format; it may still be an imported key, looked up by hash.
        case foreign
        /// Not a key at all (wrong prefix, too long, odd characters).
        case malformed
    }

    /// Reads a key without any storage. Works on the bytes alone: this runs on every request
    /// that presents a key.
    public func read(_ key: String) -> Reading {
        var key = key
        return key.withUTF8 { read(bytes: $0) }
    }

    func read(bytes: UnsafeBufferPointer<UInt8>) -> Reading {
        guard bytes.count >= 8, bytes.count <= 256, bytes.starts(with: stemPrefix),
            bytes.allSatisfy({ Self.isKeyCharacter($0) })
        else { return .malformed }
        for (kind, prefix) in kindPrefixes where bytes.starts(with: prefix) {
            let rest = bytes.count - prefix.count
            guard rest == Self.randomLength + Self.checksumLength,
                bytes[prefix.count...].allSatisfy({ Self.isBase62($0) })
            else { return .foreign }
            let bodyLength = bytes.count - Self.checksumLength
            var value = CRC32.checksum(UnsafeBufferPointer(rebasing: bytes[0..<bodyLength]))
            // Compare the base62 digits from the last one back, without building a string.
            for position in (bodyLength..<bytes.count).reversed() {
                guard bytes[position] == SecureRandom.base62[Int(value % 62)] else { return .badChecksum }
                value /= 62
            }
            return .valid(kind)
        }
        return .foreign
    }

    /// `sk-proj-...Xk3a`: the prefix and the last four characters.
    public func redacted(_ key: String) -> String {
        let prefix =
            Kind.allCases.map { "\(stem)-\($0.rawValue)-" }.first { key.hasPrefix($0) } ?? "\(stem)-"
        return prefix + "..." + key.suffix(4)
    }

    /// CRC32 (IEEE) of the text, as 6 base62 characters.
    static func checksum(of text: String) -> String {
        var value = UInt32(CRC32.checksum(Array(text.utf8)))
        var characters = [UInt8](repeating: SecureRandom.base62[0], count: checksumLength)
        for index in (0..<checksumLength).reversed() {
            characters[index] = SecureRandom.base62[Int(value % 62)]
            value /= 62
        }
        return String(decoding: characters, as: UTF8.self)
    }

    @inline(__always)
    static func isBase62(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
    }

    @inline(__always)
    static func isKeyCharacter(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || byte == 45
            || byte == 95
    }
}

/// CRC-32 (IEEE 802.3), as zlib computes it.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { checksum($0) }
    }

    static func checksum(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        table.withUnsafeBufferPointer { table in
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
            return crc ^ 0xFFFF_FFFF
        }
    }
}
