import Crypto
import Foundation
import Synchronization

/// Every key by the SHA-256 of its value, in memory, so authenticating a key costs no storage
/// round trip. It is loaded at start and kept current by the key service on this instance.
public final class APIKeyIndex: Sendable {
    /// What checking a presented key found.
    public enum Result: Equatable, Sendable {
        case valid(APIKey)
        /// `malformed`, `not_found`, `revoked` or `expired`.
        case invalid(String)
    }

    let format: APIKeyFormat
    private let keys = Mutex<[String: APIKey]>([:])
    private let uses = Mutex<[APIKeyID: Date]>([:])

    /// Creates an empty index.
    public init(format: APIKeyFormat) {
        self.format = format
    }

    /// Replaces the contents with `keys`.
    public func load(_ all: [APIKey]) {
        let byDigest = Dictionary(all.map { ($0.digest, $0) }, uniquingKeysWith: { $1 })
        keys.withLock { $0 = byDigest }
    }

    /// Adds or updates a key.
    public func put(_ key: APIKey) {
        keys.withLock { $0[key.digest] = key }
    }

    /// How many keys the index holds.
    public var count: Int { keys.withLock { $0.count } }

    /// Checks a presented key: format and checksum first, then the digest, then revocation and
    /// expiry. A valid use is noted for the coalesced `last_used_at` write.
    public func authenticate(_ presented: String, now: Date) -> Result {
        switch format.read(presented) {
        case .malformed, .badChecksum: return .invalid("malformed")
        case .valid, .foreign: break
        }
        guard let key = keys.withLock({ $0[Self.digest(presented)] }) else { return .invalid("not_found") }
        if key.revokedAt != nil { return .invalid("revoked") }
        if let expiresAt = key.expiresAt, expiresAt <= now { return .invalid("expired") }
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
