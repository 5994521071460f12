import Foundation
import KeywardenCore
import KeywardenProviders

/// The key-issuance policy, the key format and the operator's verification endpoint.
public struct KeysSettings: Sendable {
    /// Keys created at or after this instant need a verified (or exempt) organization.
    public var enforcementDate = KeyIssuancePolicy.defaultEnforcementDate
    /// Whose verification counts for key creation: the organization's or the creating person's.
    public var verificationScope = KeyIssuancePolicy.Scope.organization
    /// The stem of key prefixes (`sk` gives `sk-proj-...`).
    public var keyStem = "sk"
    /// The token the operator's services send to `POST` and `GET /v1/keys/verify`; unset disables it.
    public var operatorToken: String?
    /// Where the public keys that sign GitHub's secret-scanning reports are fetched: an https://
    /// URL, or http:// to a loopback host.
    public var githubSecretScanningKeysURL = SecretScanningReport.githubKeysURL

    /// The defaults.
    public init() {}

    /// Reads the key settings.
    public init(reading settings: SettingsReader) throws {
        if let raw = settings.text(.enforcementDate) {
            guard let date = ISO8601DateFormatter().date(from: raw) else {
                throw ConfigurationError(
                    .enforcementDate, "expected an ISO 8601 instant such as 2024-11-05T00:00:00Z")
            }
            enforcementDate = date
        }
        if let scope = try settings.choice(
            .verificationScope, as: KeyIssuancePolicy.Scope.self, expected: "expected organization or user")
        {
            verificationScope = scope
        }
        if let stem = settings.text(.keyStem) {
            guard (1...16).contains(stem.count),
                stem.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 122) })
            else {
                throw ConfigurationError(.keyStem, "expected 1 to 16 lowercase letters and digits")
            }
            keyStem = stem
        }
        operatorToken = try settings.secret(.operatorToken, minimum: 32, message: "must be at least 32 characters")
        if let url = settings.text(.githubSecretScanningKeysURL) {
            // The keys decide which reports may revoke keys: they are fetched over TLS, or from
            // this machine (a stub in tests).
            guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(),
                let host = parts.host, !host.isEmpty,
                scheme == "https" || (scheme == "http" && SMTPRelay.isLoopback(host))
            else {
                throw ConfigurationError(
                    .githubSecretScanningKeysURL,
                    "expected an https:// URL (http:// only to this machine: localhost, 127.0.0.1 or ::1)")
            }
            githubSecretScanningKeysURL = url
        }
    }
}
