import Crypto
import Foundation
import HummingbirdOTP

/// The shared secret of an authenticator app (RFC 6238: 30-second steps, six digits, SHA-1).
///
/// 160 random bits written as 32 base32 characters; the HMAC key is that text's bytes, which is
/// how HummingbirdOTP's ``TOTP`` takes a secret, and the setup key a person types is the base32
/// of those bytes (52 characters), which is what the `otpauth` URL carries.
public struct TOTPSecret: Sendable, Equatable {
    /// The 32 characters of the secret.
    public let text: String

    /// The issuer authenticator apps show beside the account.
    public static let issuer = "Keywarden"
    /// Seconds per step.
    public static let stepSeconds = 30
    /// Steps either side of now whose codes are still accepted, for clocks that drift.
    public static let skewSteps: Int64 = 1

    /// A new secret from the CSPRNG.
    public static func generate() -> TOTPSecret {
        TOTPSecret(text: Base32.encode(SecureRandom.bytes(20)))
    }

    /// Wraps a stored secret.
    public init(text: String) {
        self.text = text
    }

    private var otp: TOTP { TOTP(secret: text, length: 6, timeStep: Self.stepSeconds) }

    /// The setup key a person types into an authenticator app, in groups of four.
    public var setupKey: String {
        let key = Array(Base32.encode(Array(text.utf8)))
        return stride(from: 0, to: key.count, by: 4).map { String(key[$0..<min($0 + 4, key.count)]) }
            .joined(separator: " ")
    }

    /// The `otpauth://` URL an authenticator app reads from the QR code.
    public func authenticatorURL(account: String) -> String {
        otp.createAuthenticatorURL(label: "\(Self.issuer):\(account)", issuer: Self.issuer)
    }

    /// The step `date` falls in.
    public static func step(at date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 / Double(stepSeconds)).rounded(.down))
    }

    /// The six-digit code of `step`.
    public func code(atStep step: Int64) -> String {
        let value = otp.compute(date: Date(timeIntervalSince1970: Double(step) * Double(Self.stepSeconds)))
        let digits = String(value)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// The step within the skew window of `date` whose code `code` is, latest first; `nil` when
    /// none matches. Codes are compared in constant time.
    public func matchingStep(_ code: String, at date: Date) -> Int64? {
        let now = Self.step(at: date)
        for step in stride(from: now + Self.skewSteps, through: now - Self.skewSteps, by: -1)
        where ConstantTime.equals(self.code(atStep: step).utf8, code.utf8) {
            return step
        }
        return nil
    }

    /// Whether typed text looks like a six-digit code, spaces allowed: `123 456`.
    public static func normalizedCode(_ typed: String) -> String? {
        let digits = typed.filter { !$0.isWhitespace }
        guard digits.count == 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return digits
    }
}

/// RFC 4648 base32, upper case, without padding.
enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    static func encode(_ bytes: [UInt8]) -> String {
        var result = ""
        var buffer = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                result.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
            buffer &= (1 << bits) - 1
        }
        if bits > 0 { result.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return result
    }
}

/// Seals authenticator secrets for storage with AES-GCM under a key derived from the server
/// secret, bound to the person they belong to: a copy of the database alone yields no codes.
public struct TOTPSecretSealer: Sendable {
    private let key: SymmetricKey

    /// A sealed secret that is not in the stored form.
    public struct Unreadable: Error {}

    /// A sealer keyed by the server secret.
    public init(serverSecret: String) {
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(serverSecret.utf8)),
            info: Data("keywarden totp secret".utf8), outputByteCount: 32)
    }

    /// The sealed form of `secret`, base64.
    public func seal(_ secret: TOTPSecret, for user: UserID) throws -> String {
        let box = try AES.GCM.seal(Data(secret.text.utf8), using: key, authenticating: Data(user.rawValue.utf8))
        guard let combined = box.combined else { throw Unreadable() }
        return combined.base64EncodedString()
    }

    /// The secret sealed in `sealed` for `user`.
    ///
    /// - Throws: when it was sealed under another key or for another person.
    public func open(_ sealed: String, for user: UserID) throws -> TOTPSecret {
        guard let data = Data(base64Encoded: sealed) else { throw Unreadable() }
        let plain = try AES.GCM.open(
            AES.GCM.SealedBox(combined: data), using: key, authenticating: Data(user.rawValue.utf8))
        return TOTPSecret(text: String(decoding: plain, as: UTF8.self))
    }
}

/// Ten single-use codes that stand in for the authenticator app, kept only as HMACs.
public enum RecoveryCodes {
    /// How many a person holds.
    public static let count = 10
    static let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")

    /// Ten new codes, `xxxxx-xxxxx`, each about 49 random bits.
    public static func generate() -> [String] {
        (0..<count).map { _ in
            var characters: [Character] = []
            while characters.count < 10 {
                for byte in SecureRandom.bytes(16) where byte < 248 && characters.count < 10 {
                    characters.append(alphabet[Int(byte) % alphabet.count])
                }
            }
            return String(characters.prefix(5)) + "-" + String(characters.suffix(5))
        }
    }

    /// The code as typed, lower case without spaces or hyphens; `nil` unless it has the shape of one.
    public static func normalized(_ typed: String) -> String? {
        let kept = typed.lowercased().filter { !$0.isWhitespace && $0 != "-" }
        guard kept.count == 10, kept.allSatisfy({ alphabet.contains($0) }) else { return nil }
        return kept
    }
}

/// The HMAC under which recovery codes are stored.
public struct RecoveryCodeDigester: Sendable {
    private let key: SymmetricKey

    /// A digester keyed by the server secret.
    public init(serverSecret: String) {
        key = SymmetricKey(data: SHA256.hash(data: Data(("keywarden recovery code\u{0}" + serverSecret).utf8)))
    }

    /// The stored form of a normalized code.
    public func digest(_ normalized: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(normalized.utf8), using: key).map { String(format: "%02x", $0) }
            .joined()
    }
}
