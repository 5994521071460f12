import Crypto
import Foundation

/// Random strings and bytes from the operating system's CSPRNG.
public enum SecureRandom {
    /// The 62 characters used for identifiers and tokens.
    static let base62 = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// `count` random bytes, eight per call to the operating system.
    public static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var result = [UInt8]()
        result.reserveCapacity(count + 8)
        while result.count < count {
            withUnsafeBytes(of: generator.next()) { result.append(contentsOf: $0) }
        }
        return Array(result.prefix(count))
    }

    /// `length` base62 characters, each chosen uniformly: bytes of 248 and above are dropped so
    /// that `byte % 62` has no bias.
    public static func base62(length: Int) -> String {
        var characters = [UInt8]()
        characters.reserveCapacity(length)
        while characters.count < length {
            for byte in bytes(length - characters.count + 8) where byte < 248 && characters.count < length {
                characters.append(base62[Int(byte % 62)])
            }
        }
        return String(decoding: characters, as: UTF8.self)
    }

    /// `byteCount` random bytes as unpadded base64url text.
    public static func token(byteCount: Int) -> String {
        Data(bytes(byteCount)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// Hashing helpers shared by the places that store secrets only as digests.
public enum Digest {
    /// The lowercase hexadecimal SHA-256 of a string's UTF-8 bytes.
    public static func sha256Hex(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
