import Foundation

/// GitHub's secret-scanning partner protocol, as Keywarden speaks it: GitHub posts a signed JSON
/// array of matches of Keywarden's key pattern found in public, and is answered with one
/// feedback entry per match.
public enum SecretScanningReport {
    /// Where GitHub publishes the keys it signs reports with (`github_secret_scanning_keys_url`).
    public static let githubKeysURL = "https://api.github.com/meta/public_keys/secret_scanning"
    /// The header naming the key a report is signed with.
    public static let keyIdentifierHeader = "Github-Public-Key-Identifier"
    /// The header carrying the signature: base64 of a DER ECDSA P-256 SHA-256 signature over the body.
    public static let signatureHeader = "Github-Public-Key-Signature"
    /// The largest report read: 1 MiB, room for thousands of matches.
    public static let maxBodyBytes = 1024 * 1024
    /// Where GitHub sends reports.
    public static let path = "/v1/secret-scanning/github"
    /// The most matches one report may carry.
    public static let maxMatches = 1000

    /// The matches of a report's body, which must be a JSON array of objects with string `token`
    /// and `type`; refuses anything else, and more than ``maxMatches`` matches.
    public static func matches(in body: [UInt8]) throws -> [SecretScanningMatch] {
        let matches: [SecretScanningMatch]
        do {
            matches = try JSONDecoder().decode([SecretScanningMatch].self, from: Data(body))
        } catch {
            throw DomainError(
                .invalidRequest, code: .invalidJson,
                message: "The body must be a JSON array of matches, each with a string 'token' and 'type'.")
        }
        guard matches.count <= maxMatches else {
            throw DomainError(
                .payloadTooLarge, code: .requestTooLarge,
                message:
                    "A report holds at most \(maxMatches) matches; this one has \(matches.count). Send them in parts."
            )
        }
        return matches
    }
}

/// One match in a report: text that looks like a Keywarden key, and where it was seen.
public struct SecretScanningMatch: Equatable, Sendable, Decodable {
    /// The matched text; it may or may not be a key.
    public var token: String
    /// The name the pattern was registered under, echoed in the feedback.
    public var type: String
    /// The public address where it was found; may be empty.
    public var url: String?
    /// What on GitHub held it, such as `content`, `commit` or `issue_comment`.
    public var source: String?

    /// Creates a match.
    public init(token: String, type: String, url: String? = nil, source: String? = nil) {
        self.token = token
        self.type = type
        self.url = url
        self.source = source
    }
}

/// Whether a reported match was one of this server's keys.
public enum SecretScanningLabel: String, Equatable, Sendable, Encodable {
    /// A key of this server, live (now revoked), revoked or expired.
    case truePositive = "true_positive"
    /// Not a key of this server.
    case falsePositive = "false_positive"
}

/// What GitHub is told about one match: the token's SHA-256, never the token.
public struct SecretScanningFeedback: Equatable, Sendable, Encodable {
    /// The lowercase hex SHA-256 of the token.
    public var tokenHash: String
    /// The match's `type`, as GitHub sent it.
    public var tokenType: String
    public var label: SecretScanningLabel

    enum CodingKeys: String, CodingKey {
        case tokenHash = "token_hash"
        case tokenType = "token_type"
        case label
    }

    /// The feedback on `match`.
    public init(_ match: SecretScanningMatch, label: SecretScanningLabel) {
        self.tokenHash = APIKeyIndex.digest(match.token)
        self.tokenType = match.type
        self.label = label
    }
}
