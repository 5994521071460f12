import Crypto
import Foundation

/// One of the keys GitHub signs secret-scanning reports with: an ECDSA P-256 public key and the
/// identifier a report names it by.
public struct SecretScanningPublicKey: Sendable {
    /// The value of `Github-Public-Key-Identifier` in reports signed with this key.
    public let identifier: String
    /// The key itself.
    public let key: P256.Signing.PublicKey

    /// Creates a key from its parts.
    public init(identifier: String, key: P256.Signing.PublicKey) {
        self.identifier = identifier
        self.key = key
    }

    /// Reads a PEM `PUBLIC KEY`; throws when it is not a P-256 key.
    public init(identifier: String, pem: String) throws {
        try self.init(identifier: identifier, key: P256.Signing.PublicKey(pemRepresentation: pem))
    }

    /// Every P-256 key of GitHub's keys document,
    /// `{"public_keys":[{"key_identifier":"…","key":"-----BEGIN PUBLIC KEY-----…","is_current":true}]}`.
    ///
    /// Keys that are no longer current are kept: GitHub may still sign with a key it is retiring.
    /// An entry whose key does not read as P-256 is skipped; a document with no usable key at all
    /// is refused.
    public static func keys(inDocument data: Data) throws -> [SecretScanningPublicKey] {
        let document: KeysDocument
        do {
            document = try JSONDecoder().decode(KeysDocument.self, from: data)
        } catch {
            throw ProviderError(
                provider: "github", detail: "the secret-scanning keys document is not the JSON expected")
        }
        let keys = document.keys.compactMap { try? SecretScanningPublicKey(identifier: $0.identifier, pem: $0.key) }
        guard !keys.isEmpty else {
            throw ProviderError(provider: "github", detail: "the secret-scanning keys document holds no P-256 key")
        }
        return keys
    }
}

/// GitHub's keys document, as far as Keywarden reads it.
private struct KeysDocument: Decodable {
    struct Entry: Decodable {
        let identifier: String
        let key: String

        enum CodingKeys: String, CodingKey {
            case identifier = "key_identifier"
            case key
        }
    }

    let keys: [Entry]

    enum CodingKeys: String, CodingKey {
        case keys = "public_keys"
    }
}

/// Where GitHub's secret-scanning keys come from: GitHub's published document in production,
/// keys a test made itself in tests.
public protocol SecretScanningKeySource: Sendable {
    /// Every key published now.
    func publicKeys() async throws -> [SecretScanningPublicKey]
}
