import AsyncHTTPClient
import Foundation
import KeywardenCore
import NIOCore

/// The keys GitHub signs secret-scanning reports with, read from its published document
/// (`github_secret_scanning_keys_url`) with a short timeout and a bounded answer.
public struct GitHubSecretScanningKeys: SecretScanningKeySource {
    let url: String
    /// `nil` for the shared client, looked up only when a report first needs the keys, so
    /// building the services (the command line does too) starts no HTTP client.
    let client: HTTPClient?
    let timeout: TimeAmount

    /// Creates the source; `url` replaces GitHub's own document (tests point it at a stub).
    public init(
        url: String = SecretScanningReport.githubKeysURL, client: HTTPClient? = nil, timeout: TimeAmount = .seconds(5)
    ) {
        self.url = url
        self.client = client
        self.timeout = timeout
    }

    /// Fetches the document; throws ``ProviderError`` when GitHub cannot be reached or answers
    /// anything but a document with a P-256 key in it.
    public func publicKeys() async throws -> [SecretScanningPublicKey] {
        let http = ProviderHTTP(provider: "github", client: client ?? .shared, timeout: timeout)
        // GitHub's API refuses requests without a User-Agent.
        let reply = try await http.send(
            .GET, url, headers: [("Accept", "application/json"), ("User-Agent", "keywarden")], body: nil,
            contentType: nil)
        guard (200..<300).contains(reply.status) else {
            throw ProviderError(provider: "github", detail: "the secret-scanning keys answered HTTP \(reply.status)")
        }
        return try SecretScanningPublicKey.keys(inDocument: reply.body)
    }
}
