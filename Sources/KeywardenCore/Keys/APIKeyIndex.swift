import Crypto
import Foundation
import Synchronization

/// Every key by the SHA-256 of its value, in memory, so authenticating a key costs no storage
/// round trip. It is loaded at start and kept current by the key service on this instance.
public final class APIKeyIndex: Sendable {
    /// What checking a presented key found.
    public enum Result: Equatable, Sendable {
        case valid(APIKey)
        /// `malformed`, `not_found`, `revoked`, `expired` or `disabled`.
        case invalid(String)
        /// A key that is otherwise valid, presented from an address outside its allowed IP
        /// ranges or from an unknown one: refused (403 `ip_not_allowed`), and not a use.
        case addressNotAllowed(APIKey)
    }

    let format: APIKeyFormat
    private let keys = Mutex<[KeyDigest: APIKey]>([:])
    private let uses = Mutex<[APIKeyID: Date]>([:])

    /// A SHA-256 as four words: hashed and compared far faster than its hex text.
    struct KeyDigest: Hashable, Sendable {
        var words: (UInt64, UInt64, UInt64, UInt64)

        static func == (left: KeyDigest, right: KeyDigest) -> Bool {
            left.words == right.words
        }

        func hash(into hasher: inout Hasher) {
            // The digest is already uniformly random; one word is plenty for the table.
            hasher.combine(words.0)
        }

        /// The digest of a presented key.
        init(of value: String) {
            var value = value
            let hash = value.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
            var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            withUnsafeMutableBytes(of: &words) { target in
                hash.withUnsafeBytes { target.copyMemory(from: $0) }
            }
            self.words = words
        }

        /// The digest stored as lowercase hex.
        init?(hex: String) {
            let bytes = Array(hex.utf8)
            guard bytes.count == 64 else { return nil }
            var raw = [UInt8](repeating: 0, count: 32)
            for index in 0..<32 {
                guard let high = Self.nibble(bytes[2 * index]), let low = Self.nibble(bytes[2 * index + 1]) else {
                    return nil
                }
                raw[index] = high << 4 | low
            }
            var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            withUnsafeMutableBytes(of: &words) { target in raw.withUnsafeBytes { target.copyMemory(from: $0) } }
            self.words = words
        }

        static func nibble(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 48...57: byte - 48
            case 97...102: byte - 87
            case 65...70: byte - 55
            default: nil
            }
        }
    }

    /// Creates an empty index.
    public init(format: APIKeyFormat) {
        self.format = format
    }

    /// Replaces the contents with `keys`.
    public func load(_ all: [APIKey]) {
        let byDigest = Dictionary(
            all.compactMap { key in KeyDigest(hex: key.digest).map { ($0, key) } }, uniquingKeysWith: { $1 })
        keys.withLock { $0 = byDigest }
    }

    /// Adds or updates a key.
    public func put(_ key: APIKey) {
        guard let digest = KeyDigest(hex: key.digest) else { return }
        keys.withLock { $0[digest] = key }
    }

    /// The key whose value is `presented`, revoked and expired ones too, without noting a use:
    /// for a report that the key was seen somewhere, which is not a use of it.
    func key(matching presented: String) -> APIKey? {
        let digest = KeyDigest(of: presented)
        return keys.withLock { $0[digest] }
    }

    /// How many keys the index holds.
    public var count: Int { keys.withLock { $0.count } }

    /// Checks a presented key: format and checksum first, then the digest, then revocation,
    /// expiry and whether it is disabled (the states for good before the one that can end), then
    /// whether its allowed IP ranges admit `address`, the caller's address as text (`nil` when
    /// unknown, which a key with ranges refuses). Only a key accepted on all of these counts as
    /// used, noted for the coalesced `last_used_at` write.
    public func authenticate(_ presented: String, from address: String? = nil, now: Date) -> Result {
        switch format.read(presented) {
        case .malformed, .badChecksum: return .invalid("malformed")
        case .valid, .foreign: break
        }
        let digest = KeyDigest(of: presented)
        guard let key = keys.withLock({ $0[digest] }) else { return .invalid("not_found") }
        if key.revokedAt != nil { return .invalid("revoked") }
        if let expiresAt = key.expiresAt, expiresAt <= now { return .invalid("expired") }
        if key.disabledAt != nil { return .invalid("disabled") }
        // Costs one comparison for a key without ranges, which most keys are.
        guard key.allowedIPs.admits(address) else { return .addressNotAllowed(key) }
        uses.withLock { $0[key.id] = now }
        return .valid(key)
    }

    /// Takes the uses noted since the last call.
    public func drainUses() -> [APIKeyID: Date] {
        uses.withLock { pending in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
    }

    /// The lowercase hex SHA-256 of a key.
    public static func digest(_ value: String) -> String {
        let hash = SHA256.hash(data: Data(value.utf8))
        let hexDigits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(64)
        for byte in hash {
            text.append(hexDigits[Int(byte >> 4)])
            text.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
