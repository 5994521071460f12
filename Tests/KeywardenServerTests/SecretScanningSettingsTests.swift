import KeywardenServer
import Testing

@Suite("Secret-scanning settings")
struct SecretScanningSettingsTests {
    func load(keysURL: String) async throws -> KeywardenConfiguration {
        try await KeywardenConfiguration.load(
            from: ConfigurationSources(flags: ["github_secret_scanning_keys_url": keysURL], environment: [:]))
    }

    @Test func theKeysURLMustBeHTTPSButForThisMachine() async throws {
        // The keys decide which reports revoke keys: fetched in the clear from elsewhere, anyone
        // on the way could sign reports of their own.
        for refused in [
            "http://api.github.com/meta/public_keys/secret_scanning", "http://10.0.0.5/keys",
            "http://localhost.example.com/keys", "http://127.0.0.1@example.com/keys", "ftp://example.com/keys",
            "https://", "api.github.com/meta/public_keys/secret_scanning",
        ] {
            let error = await #expect(throws: ConfigurationError.self) {
                try await load(keysURL: refused)
            }
            #expect(error?.key == "github_secret_scanning_keys_url")
        }
        for taken in [
            "https://github.example.com/meta/public_keys/secret_scanning", "http://127.0.0.1:8080/keys",
            "http://localhost:9000/keys", "http://[::1]:8080/keys",
        ] {
            #expect(try await load(keysURL: taken).keys.githubSecretScanningKeysURL == taken)
        }
    }
}
