import Crypto
import Foundation

/// Checks that GitHub signed a secret-scanning report: `Github-Public-Key-Signature` is the
/// base64 of an ASN.1 DER ECDSA P-256 SHA-256 signature over the exact body, made with the key
/// `Github-Public-Key-Identifier` names among those GitHub publishes.
public struct SecretScanningSignature: Sendable {
    let keys: SecretScanningKeyCache

    /// Checks signatures against the keys in `keys`.
    public init(keys: SecretScanningKeyCache) {
        self.keys = keys
    }

    /// Returns when GitHub signed `body`; otherwise throws `invalid_signature`: 401 when the
    /// headers are missing, the key is unknown or the signature does not match, 400 when a
    /// header cannot be read. The headers are read before any key is fetched.
    public func verify(_ body: [UInt8], keyIdentifier: String?, signature: String?) async throws {
        guard let identifier = keyIdentifier?.trimmingWhitespace(), !identifier.isEmpty,
            let encoded = signature?.trimmingWhitespace(), !encoded.isEmpty
        else { throw Refusal.missingHeaders }
        guard identifier.utf8.count <= 256 else { throw Refusal.malformedIdentifier }
        guard let der = Data(base64Encoded: encoded) else { throw Refusal.malformedSignature }
        let parsed: P256.Signing.ECDSASignature
        do {
            parsed = try P256.Signing.ECDSASignature(derRepresentation: der)
        } catch {
            throw Refusal.malformedSignature
        }
        guard let key = try await keys.key(identifier) else { throw Refusal.unknownKey }
        guard key.key.isValidSignature(parsed, for: body) else { throw Refusal.wrongSignature }
    }

    /// The refusals, each `invalid_signature` with the header it is about.
    enum Refusal {
        static let missingHeaders = DomainError(
            .unauthenticated, code: .invalidSignature,
            message:
                "Only reports GitHub signed are taken: send the \(SecretScanningReport.keyIdentifierHeader) and \(SecretScanningReport.signatureHeader) headers.",
            param: SecretScanningReport.signatureHeader)
        static let malformedIdentifier = DomainError(
            .invalidRequest, code: .invalidSignature,
            message: "\(SecretScanningReport.keyIdentifierHeader) is too long to be a key identifier.",
            param: SecretScanningReport.keyIdentifierHeader)
        static let malformedSignature = DomainError(
            .invalidRequest, code: .invalidSignature,
            message:
                "\(SecretScanningReport.signatureHeader) must be the base64 of a DER-encoded ECDSA P-256 signature.",
            param: SecretScanningReport.signatureHeader)
        static let unknownKey = DomainError(
            .unauthenticated, code: .invalidSignature,
            message:
                "\(SecretScanningReport.keyIdentifierHeader) names none of the keys GitHub publishes for secret scanning.",
            param: SecretScanningReport.keyIdentifierHeader)
        static let wrongSignature = DomainError(
            .unauthenticated, code: .invalidSignature,
            message: "The signature does not match the body: only reports GitHub signed are taken.",
            param: SecretScanningReport.signatureHeader)
    }
}
