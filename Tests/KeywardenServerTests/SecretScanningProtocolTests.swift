import Crypto
import Foundation
import KeywardenCore
import Testing

/// The secret-scanning protocol without HTTP or storage: reading reports, checking GitHub's
/// signatures, and keeping GitHub's keys.
@Suite("Secret-scanning protocol")
struct SecretScanningProtocolTests {
    let github = GitHubSigner()

    func cache(_ source: TestKeySource, clock: Clock = .live) -> SecretScanningKeyCache {
        SecretScanningKeyCache(source: source, clock: clock, logger: quietLogger)
    }

    // MARK: Signatures

    @Test func aBodyGitHubSignedIsAccepted() async throws {
        let signature = SecretScanningSignature(keys: cache(TestKeySource([github.publicKey])))
        let body = #"[{"token":"sk-proj-x","type":"keywarden_api_key","url":"","source":"content"}]"#
        try await signature.verify(
            Array(body.utf8), keyIdentifier: github.identifier, signature: github.signature(body))
    }

    @Test func everyReportGitHubDidNotSignIsRefusedWithItsStatus() async throws {
        let signature = SecretScanningSignature(keys: cache(TestKeySource([github.publicKey])))
        let body = #"[{"token":"sk-proj-x","type":"t"}]"#
        let bytes = Array(body.utf8)
        let signed = try github.signature(body)
        let forged = try GitHubSigner(identifier: github.identifier).signature(body)
        let cases: [(identifier: String?, signature: String?, body: [UInt8], kind: DomainError.Kind)] = [
            (github.identifier, forged, bytes, .unauthenticated),
            ("someone-else", signed, bytes, .unauthenticated),
            (github.identifier, signed, Array((body + " ").utf8), .unauthenticated),
            (nil, signed, bytes, .unauthenticated),
            (github.identifier, nil, bytes, .unauthenticated),
            ("  ", "  ", bytes, .unauthenticated),
            (github.identifier, "not base64!", bytes, .invalidRequest),
            (github.identifier, Data([1, 2, 3]).base64EncodedString(), bytes, .invalidRequest),
            (String(repeating: "a", count: 300), signed, bytes, .invalidRequest),
        ]
        for refused in cases {
            let error = await #expect(throws: DomainError.self) {
                try await signature.verify(
                    refused.body, keyIdentifier: refused.identifier, signature: refused.signature)
            }
            #expect(error?.code == .invalidSignature)
            #expect(error?.kind == refused.kind)
        }
    }

    @Test func malformedSignaturesAreRefusedWithoutFetchingKeys() async throws {
        let source = TestKeySource([github.publicKey])
        let signature = SecretScanningSignature(keys: cache(source))
        await #expect(throws: DomainError.self) {
            try await signature.verify([], keyIdentifier: github.identifier, signature: "###")
        }
        await #expect(throws: DomainError.self) {
            try await signature.verify([], keyIdentifier: nil, signature: nil)
        }
        #expect(source.fetches == 0)
    }

    // MARK: The key cache

    @Test func unknownIdentifiersRefetchAtMostOnceAMinute() async throws {
        let clock = ManualClock()
        let source = TestKeySource([github.publicKey])
        let keys = cache(source, clock: clock.clock)
        #expect(try await keys.key(github.identifier)?.identifier == github.identifier)
        #expect(source.fetches == 1)
        #expect(try await keys.key(github.identifier) != nil)
        #expect(source.fetches == 1)

        // Forged identifiers, however many, within the minute: no fetch.
        for attempt in 0..<20 {
            #expect(try await keys.key("forged-\(attempt)") == nil)
        }
        clock.advance(by: 59)
        #expect(try await keys.key("forged") == nil)
        #expect(source.fetches == 1)

        // A minute on, an unknown identifier fetches once more, and then not again for a minute.
        clock.advance(by: 1)
        #expect(try await keys.key("forged") == nil)
        #expect(source.fetches == 2)
        #expect(try await keys.key("forged-again") == nil)
        #expect(source.fetches == 2)
    }

    @Test func rotatedKeysAreFoundOnTheNextAllowedFetch() async throws {
        let clock = ManualClock()
        let source = TestKeySource([github.publicKey])
        let keys = cache(source, clock: clock.clock)
        _ = try await keys.key(github.identifier)
        let next = GitHubSigner()
        source.publish([github.publicKey, next.publicKey])
        clock.advance(by: 61)
        #expect(try await keys.key(next.identifier)?.identifier == next.identifier)
        #expect(source.fetches == 2)
    }

    @Test func keysAreFetchedAgainAfterAnHour() async throws {
        let clock = ManualClock()
        let source = TestKeySource([github.publicKey])
        let keys = cache(source, clock: clock.clock)
        _ = try await keys.key(github.identifier)
        clock.advance(by: 3599)
        _ = try await keys.key(github.identifier)
        #expect(source.fetches == 1)
        clock.advance(by: 1)
        _ = try await keys.key(github.identifier)
        #expect(source.fetches == 2)
    }

    @Test func callersDuringAFetchShareIt() async throws {
        let source = TestKeySource([github.publicKey], delay: .milliseconds(50))
        let keys = cache(source)
        async let first = keys.key(github.identifier)
        async let second = keys.key(github.identifier)
        let found = try await [first, second]
        #expect(found.allSatisfy { $0?.identifier == github.identifier })
        #expect(source.fetches == 1)
    }

    @Test func withoutAnyKeysAFailedFetchIsUnavailableAndNotRetriedWithinTheMinute() async throws {
        let clock = ManualClock()
        let source = TestKeySource([github.publicKey])
        source.setFailing(true)
        let keys = cache(source, clock: clock.clock)
        for _ in 0..<3 {
            let error = await #expect(throws: DomainError.self) { try await keys.key(github.identifier) }
            #expect(error?.kind == .unavailable)
        }
        #expect(source.fetches == 1)
        source.setFailing(false)
        clock.advance(by: 60)
        #expect(try await keys.key(github.identifier) != nil)
        #expect(source.fetches == 2)
    }

    @Test func keysFetchedEarlierStillCheckReportsWhileGitHubCannotBeReached() async throws {
        let clock = ManualClock()
        let source = TestKeySource([github.publicKey])
        let keys = cache(source, clock: clock.clock)
        _ = try await keys.key(github.identifier)
        source.setFailing(true)
        clock.advance(by: 7200)
        #expect(try await keys.key(github.identifier) != nil)
        #expect(source.fetches == 2)
    }

    // MARK: Reports, feedback and GitHub's keys document

    @Test func reportsAreArraysOfMatchesAndNoMoreThanTheCap() throws {
        let body =
            #"[{"token":"a","type":"t","url":"https://github.com/x","source":"commit"},{"token":"b","type":"t"}]"#
        let matches = try SecretScanningReport.matches(in: Array(body.utf8))
        #expect(
            matches == [
                SecretScanningMatch(token: "a", type: "t", url: "https://github.com/x", source: "commit"),
                SecretScanningMatch(token: "b", type: "t"),
            ])
        for body in ["{}", "[{\"token\":\"a\"}]", "[", ""] {
            let error = #expect(throws: DomainError.self) { try SecretScanningReport.matches(in: Array(body.utf8)) }
            #expect(error?.code == .invalidJson)
        }
        let many = "[" + Array(repeating: #"{"token":"a","type":"t"}"#, count: 1001).joined(separator: ",") + "]"
        let error = #expect(throws: DomainError.self) { try SecretScanningReport.matches(in: Array(many.utf8)) }
        #expect(error?.code == .requestTooLarge)
    }

    @Test func feedbackNamesTheTokensHashNeverTheToken() throws {
        let token = "sk-proj-" + String(repeating: "a", count: 38)
        let feedback = SecretScanningFeedback(
            SecretScanningMatch(token: token, type: "keywarden_api_key"), label: .truePositive)
        let json = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode([feedback])) as? [[String: String]])
        let expectedHash = SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(json == [["token_hash": expectedHash, "token_type": "keywarden_api_key", "label": "true_positive"]])
    }

    @Test func githubsDocumentIsReadSkippingKeysThatAreNotP256() throws {
        let notP256 = "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----"
        let entries: [[String: Any]] = [
            ["key_identifier": "old", "key": notP256, "is_current": false],
            [
                "key_identifier": github.identifier, "key": github.privateKey.publicKey.pemRepresentation,
                "is_current": true,
            ],
        ]
        let document = try JSONSerialization.data(withJSONObject: ["public_keys": entries] as [String: Any])
        let keys = try SecretScanningPublicKey.keys(inDocument: document)
        #expect(keys.map(\.identifier) == [github.identifier])
        #expect(keys.first?.key.rawRepresentation == github.privateKey.publicKey.rawRepresentation)
        #expect(throws: ProviderError.self) { try SecretScanningPublicKey.keys(inDocument: Data("{}".utf8)) }
        #expect(throws: ProviderError.self) {
            try SecretScanningPublicKey.keys(inDocument: Data(#"{"public_keys":[]}"#.utf8))
        }
    }
}
