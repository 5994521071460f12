import Crypto
import Foundation

/// The keyed operations behind verification, all derived from the server secret.
public struct VerificationSecrets: Sendable {
    private let digestKey: SymmetricKey
    private let sealKey: SymmetricKey

    /// Derives the keys from the server secret.
    public init(serverSecret: String) {
        let root = SymmetricKey(data: Data(serverSecret.utf8))
        digestKey = SymmetricKey(
            data: HMAC<SHA256>.authenticationCode(for: Data("keywarden/verification/digest".utf8), using: root))
        sealKey = SymmetricKey(
            data: HMAC<SHA256>.authenticationCode(for: Data("keywarden/verification/seal".utf8), using: root))
    }

    /// The HMAC of an E.164 number, which is all an organization keeps of it.
    public func phoneDigest(_ e164: String) -> String {
        hex(HMAC<SHA256>.authenticationCode(for: Data("phone:\(e164)".utf8), using: digestKey))
    }

    /// The HMAC of a code, bound to its verification.
    public func codeDigest(_ code: String, verification: PhoneVerificationID) -> String {
        hex(HMAC<SHA256>.authenticationCode(for: Data("code:\(verification.rawValue):\(code)".utf8), using: digestKey))
    }

    /// Whether `code` is the one whose digest is stored, compared in constant time.
    public func codeMatches(_ code: String, verification: PhoneVerificationID, digest: String) -> Bool {
        ConstantTime.equals(codeDigest(code, verification: verification).utf8, digest.utf8)
    }

    /// The code sealed (AES-GCM) so a resend can repeat it; kept only while pending.
    public func seal(_ code: String, verification: PhoneVerificationID) throws -> String {
        try seal(code, context: verification.rawValue)
    }

    /// Opens a sealed code.
    public func open(_ sealed: String, verification: PhoneVerificationID) throws -> String {
        try open(sealed, context: verification.rawValue)
    }

    /// The E.164 number sealed (AES-GCM), bound to its verification; kept only while pending.
    public func sealNumber(_ e164: String, verification: PhoneVerificationID) throws -> String {
        try seal(e164, context: "number:" + verification.rawValue)
    }

    /// Opens a sealed number.
    public func openNumber(_ sealed: String, verification: PhoneVerificationID) throws -> String {
        try open(sealed, context: "number:" + verification.rawValue)
    }

    private func seal(_ text: String, context: String) throws -> String {
        let box = try AES.GCM.seal(Data(text.utf8), using: sealKey, authenticating: Data(context.utf8))
        guard let combined = box.combined else { throw ProviderError(provider: "crypto", detail: "seal failed") }
        return combined.base64EncodedString()
    }

    private func open(_ sealed: String, context: String) throws -> String {
        guard let data = Data(base64Encoded: sealed) else {
            throw ProviderError(provider: "crypto", detail: "sealed value is not base64")
        }
        let box = try AES.GCM.SealedBox(combined: data)
        let plain = try AES.GCM.open(box, using: sealKey, authenticating: Data(context.utf8))
        return String(decoding: plain, as: UTF8.self)
    }

    /// A code of `length` digits, uniform, from the CSPRNG.
    public static func generateCode(length: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
    }

    private func hex(_ code: HMAC<SHA256>.MAC) -> String {
        code.map { String(format: "%02x", $0) }.joined()
    }
}
