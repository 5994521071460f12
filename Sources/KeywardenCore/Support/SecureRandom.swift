import Crypto
import Foundation

/// Random strings and bytes from the operating system's CSPRNG.
public enum SecureRandom {
    /// The 62 characters used for identifiers and tokens.
    static let base62 = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// `count` random bytes.
    public static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// `length` base62 characters, each chosen uniformly.
    public static func base62(length: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<length).map { _ in base62[Int.random(in: 0..<62, using: &generator)] }
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
