import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeywardenCore
import KeywardenServer
import KeywardenStorage
import Synchronization
import Testing

/// Signs reports as GitHub does, with a key pair made for the test.
struct GitHubSigner: Sendable {
    let identifier: String
    let privateKey = P256.Signing.PrivateKey()

    init(identifier: String = "test-" + UUID().uuidString.lowercased()) {
        self.identifier = identifier
    }

    /// The public half, as a key source hands it out.
    var publicKey: SecretScanningPublicKey {
        SecretScanningPublicKey(identifier: identifier, key: privateKey.publicKey)
    }

    /// `Github-Public-Key-Signature` for `body`.
    func signature(_ body: String) throws -> String {
        try privateKey.signature(for: Data(body.utf8)).derRepresentation.base64EncodedString()
    }

    /// Both headers GitHub sends with `body`.
    func headers(_ body: String) throws -> HTTPFields {
        try GitHubSigner.headers(identifier: identifier, signature: signature(body))
    }

    static func headers(identifier: String?, signature: String?) -> HTTPFields {
        var headers = HTTPFields()
        if let identifier { headers[HTTPField.Name(SecretScanningReport.keyIdentifierHeader)!] = identifier }
        if let signature { headers[HTTPField.Name(SecretScanningReport.signatureHeader)!] = signature }
        return headers
    }
}

/// Keys handed out as they are, counting how often they were asked for.
final class TestKeySource: SecretScanningKeySource {
    private let state: Mutex<(keys: [SecretScanningPublicKey], fetches: Int, failing: Bool)>
    /// How long each fetch takes.
    let delay: Duration

    init(_ keys: [SecretScanningPublicKey], delay: Duration = .zero) {
        state = Mutex((keys: keys, fetches: 0, failing: false))
        self.delay = delay
    }

    var fetches: Int { state.withLock { $0.fetches } }

    /// Publishes other keys from now on, as GitHub does when it rotates them.
    func publish(_ keys: [SecretScanningPublicKey]) { state.withLock { $0.keys = keys } }

    /// Makes every fetch fail (or succeed again).
    func setFailing(_ failing: Bool) { state.withLock { $0.failing = failing } }

    func publicKeys() async throws -> [SecretScanningPublicKey] {
        if delay > .zero { try await Task.sleep(for: delay) }
        return try state.withLock { current in
            current.fetches += 1
            if current.failing { throw ProviderError(provider: "test", detail: "down") }
            return current.keys
        }
    }
}

/// An audit log that fails to record chosen `api_key.leaked` events (counted from 0 across
/// every report), as a database that went away for a moment would; other events are recorded.
final class FlakyLeakAudit: AuditLogRepository {
    let base: any AuditLogRepository
    let refused: Set<Int>
    private let leaks = Mutex(0)

    struct Outage: Error {}

    init(base: any AuditLogRepository, refusing refused: Set<Int>) {
        self.base = base
        self.refused = refused
    }

    func append(_ event: AuditEvent) async throws {
        if event.type == .apiKeyLeaked {
            let arrival = leaks.withLock { count in
                defer { count += 1 }
                return count
            }
            if refused.contains(arrival) { throw Outage() }
        }
        try await base.append(event)
    }

    func events(
        in organization: OrganizationID, types: [AuditEventType]?, from: Date?, until: Date?, after: AuditEventID?,
        limit: Int
    ) async throws -> Page<AuditEvent> {
        try await base.events(in: organization, types: types, from: from, until: until, after: after, limit: limit)
    }
}

/// The full application with GitHub's keys taken from `keys` (or, with `nil`, fetched from the
/// configured `github_secret_scanning_keys_url`), codes to `outbox` and email to `mailbox`.
func withSecretScanningApp(
    keys: (any SecretScanningKeySource)?, outbox: TestOutbox, mailbox: TestMailbox,
    configure: (inout KeywardenConfiguration) -> Void = { _ in },
    _ body: @Sendable (TestAPI, KeywardenServices) async throws -> Void
) async throws {
    var configuration = KeywardenConfiguration()
    configuration.storage.databaseURL = "sqlite::memory:"
    configuration.storage.dataDirectory = try temporaryDirectory()
    configuration.gateway.upstream = .echo
    configure(&configuration)
    let database = try await openDatabase(configuration: configuration, logger: quietLogger)
    let services = KeywardenServices(
        database: database, configuration: configuration, secret: testSecret, logger: quietLogger,
        hasher: testHasher, delivery: .local(outbox.sender), email: mailbox.sender, secretScanningKeys: keys)
    do {
        let (router, _) = try buildRouter(services: services)
        let app = Application(router: router, logger: quietLogger)
        try await app.test(.router) { client in
            try await body(TestAPI(client: client, services: services), services)
        }
    } catch {
        try? await services.shutdown()
        throw error
    }
    try? await services.shutdown()
}

extension TestAPI {
    /// Posts a report to the secret-scanning endpoint with `headers`.
    func report(_ body: String, headers: HTTPFields) async throws -> TestResponse {
        var headers = headers
        headers[.contentType] = "application/json"
        return try await request(.post, "/v1/secret-scanning/github", rawBody: Array(body.utf8), headers: headers)
    }

    /// Posts a report signed by `signer`.
    func report(_ body: String, signedBy signer: GitHubSigner) async throws -> TestResponse {
        try await report(body, headers: try signer.headers(body))
    }

    /// The organization's `api_key.leaked` events, newest first.
    func leakEvents(_ token: String) async throws -> [[String: String]] {
        let audit = try await request(.get, "/v1/organization/audit_logs?limit=100", token: token)
        let events = try #require(audit.value("data") as? [[String: Any]])
        return events.filter { $0["type"] as? String == "api_key.leaked" }.compactMap {
            $0["api_key.leaked"] as? [String: String]
        }
    }
}

extension TestResponse {
    /// The feedback array of a report's answer.
    var feedback: [[String: String]] {
        (try? JSONSerialization.jsonObject(with: body) as? [[String: String]]) ?? []
    }
}

@Suite("GitHub secret scanning")
struct SecretScanningTests {
    let signer = GitHubSigner()
    static let tokenType = "keywarden_api_key"
    static let url = "https://github.com/octo/demo/blob/0123abcd/.env"

    /// A verified organization's session, a live project key and its id.
    func keyed(_ api: TestAPI, outbox: TestOutbox) async throws -> (token: String, key: String, keyID: String) {
        let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
        let project = try await api.defaultProject(token)
        let created = try await api.createKey(token, project: project, json: #"{"name":"deploy bot"}"#)
        return (token, try #require(created.string("value")), try #require(created.string("id")))
    }

    /// A report body of `tokens`, each found at ``url`` in a file's content.
    static func body(_ tokens: [String]) throws -> String {
        let matches = tokens.map { ["token": $0, "type": tokenType, "url": url, "source": "content"] }
        return String(decoding: try JSONEncoder().encode(matches), as: UTF8.self)
    }

    static func leakMails(_ mailbox: TestMailbox) -> [EmailMessage] {
        mailbox.sent(to: "ada@example.com").filter { $0.subject.contains("found in public") }
    }

    /// The endpoint as another instance over the app's database serves it: with `audit` for its
    /// audit log and `index` for its key index (by default the app's own, so the gateway sees
    /// what it revokes at once), mailing to `mailbox`.
    func otherInstance(
        _ services: KeywardenServices, mailbox: TestMailbox, audit: (any AuditLogRepository)? = nil,
        index: APIKeyIndex? = nil
    ) -> SecretScanningService {
        let database = services.database
        let keys = APIKeyService(
            keys: SQLAPIKeyRepository(database: database), projects: SQLProjectRepository(database: database),
            accounts: SQLAccountRepository(database: database),
            verifications: SQLPhoneVerificationRepository(database: database), audit: audit ?? services.audit,
            index: index ?? services.keys.index, policy: KeyIssuancePolicy(), serverSecret: testSecret, clock: .live)
        return SecretScanningService(
            keys: keys, accounts: SQLAccountRepository(database: database),
            publicKeys: SecretScanningKeyCache(source: TestKeySource([signer.publicKey]), logger: quietLogger),
            email: mailbox.sender, publicURL: "https://keywarden.example.com", logger: quietLogger)
    }

    /// The labels `scanning` answers a report of `tokens` that GitHub signed with.
    func deliver(_ tokens: [String], to scanning: SecretScanningService) async throws -> [SecretScanningLabel] {
        let body = try Self.body(tokens)
        let feedback = try await scanning.receive(
            Array(body.utf8), keyIdentifier: signer.identifier, signature: try signer.signature(body))
        return feedback.map(\.label)
    }

    @Test func aSignedReportRevokesALiveKeyAtOnceAuditsItAndMailsTheOwners() async throws {
        let (outbox, mailbox) = (TestOutbox(), TestMailbox())
        try await withSecretScanningApp(keys: TestKeySource([signer.publicKey]), outbox: outbox, mailbox: mailbox) {
            api, _ in
            let (token, key, keyID) = try await keyed(api, outbox: outbox)
            #expect(try await api.request(.get, "/v1/models", token: key).status == .ok)

            let answer = try await api.report(try Self.body([key]), signedBy: signer)
            #expect(answer.status == .ok)
            #expect(
                answer.feedback == [
                    ["token_hash": APIKeyIndex.digest(key), "token_type": Self.tokenType, "label": "true_positive"]
                ])

            let refused = try await api.request(.get, "/v1/models", token: key)
            #expect(refused.status == .unauthorized)
            #expect(refused.string("error.code") == "invalid_api_key")
            #expect(refused.string("error.message")?.contains("revoked") == true)

            let events = try await api.leakEvents(token)
            #expect(events.count == 1)
            #expect(events.first?["id"] == keyID)
            #expect(events.first?["url"] == Self.url)
            #expect(events.first?["source"] == "content")
            #expect(events.first?["reported_by"] == "github_secret_scanning")

            let mails = Self.leakMails(mailbox)
            #expect(mails.count == 1)
            let text = try #require(mails.first?.text)
            #expect(text.contains("deploy bot"))
            #expect(text.contains("sk-proj-..." + key.suffix(4)))
            #expect(text.contains("Default project"))
            #expect(text.contains(Self.url))
            #expect(text.contains("revoked"))
            #expect(text.contains("/api-keys"))
            #expect(!text.contains(key))
        }
    }

    @Test func unknownAndMalformedTokensAreFalsePositivesAndDoNotStopTheRealOne() async throws {
        let (outbox, mailbox) = (TestOutbox(), TestMailbox())
        try await withSecretScanningApp(keys: TestKeySource([signer.publicKey]), outbox: outbox, mailbox: mailbox) {
            api, _ in
            let (token, key, _) = try await keyed(api, outbox: outbox)
            let unknown = APIKeyFormat().generate(.project)
            let badChecksum = "sk-proj-" + String(repeating: "A", count: 38)
            let tokens = [unknown, badChecksum, "not a key at all", key]
            let answer = try await api.report(try Self.body(tokens), signedBy: signer)
            #expect(answer.status == .ok)
            #expect(
                answer.feedback.map { $0["label"] } == [
                    "false_positive", "false_positive", "false_positive", "true_positive",
                ])
            #expect(answer.feedback.map { $0["token_hash"] } == tokens.map(APIKeyIndex.digest))
            #expect(answer.feedback.allSatisfy { $0["token_type"] == Self.tokenType })
            #expect(try await api.request(.get, "/v1/models", token: key).status == .unauthorized)
            #expect(try await api.leakEvents(token).count == 1)
            #expect(Self.leakMails(mailbox).count == 1)
        }
    }

    @Test func aKeyRevokedAlreadyIsATruePositiveWithoutASecondMail() async throws {
        let (outbox, mailbox) = (TestOutbox(), TestMailbox())
        try await withSecretScanningApp(keys: TestKeySource([signer.publicKey]), outbox: outbox, mailbox: mailbox) {
            api, _ in
            let (token, key, _) = try await keyed(api, outbox: outbox)
            let body = try Self.body([key])
            #expect(try await api.report(body, signedBy: signer).feedback.first?["label"] == "true_positive")
            let again = try await api.report(body, signedBy: signer)
            #expect(again.status == .ok)
            #expect(again.feedback.first?["label"] == "true_positive")
            #expect(Self.leakMails(mailbox).count == 1)
            #expect(try await api.leakEvents(token).count == 1)

            // A key its owner revoked before GitHub saw it: nothing is done either.
            let project = try await api.defaultProject(token)
            let other = try await api.createKey(token, project: project, json: #"{"name":"old"}"#)
            let otherKey = try #require(other.string("value"))
            let otherID = try #require(other.string("id"))
            _ = try await api.request(
                .delete, "/v1/organization/projects/\(project)/api_keys/\(otherID)", token: token)
            let revoked = try await api.report(try Self.body([otherKey]), signedBy: signer)
            #expect(revoked.feedback.first?["label"] == "true_positive")
            #expect(Self.leakMails(mailbox).count == 1)
            #expect(try await api.leakEvents(token).count == 1)
        }
    }

    @Test func aMatchStorageFailsOnIsLeftForTheNextDeliveryAndTheKeysRevokedBeforeItAreMailed() async throws {
        let (outbox, mailbox) = (TestOutbox(), TestMailbox())
        try await withSecretScanningApp(keys: TestKeySource([signer.publicKey]), outbox: outbox, mailbox: mailbox) {
            api, services in
            let (token, first, firstID) = try await keyed(api, outbox: outbox)
            let project = try await api.defaultProject(token)
            let created = try await api.createKey(token, project: project, json: #"{"name":"nightly"}"#)
            let second = try #require(created.string("value"))
            let secondID = try #require(created.string("id"))
            // The second key's event cannot be recorded the first time.
            let scanning = otherInstance(
                services, mailbox: mailbox, audit: FlakyLeakAudit(base: services.audit, refusing: [1]))

            let error = await #expect(throws: DomainError.self) { try await deliver([first, second], to: scanning) }
            #expect(error?.kind == .unavailable)
            // The first key is revoked, audited and mailed all the same; the second is as it was.
            #expect(try await api.request(.get, "/v1/models", token: first).status == .unauthorized)
            #expect(try await api.request(.get, "/v1/models", token: second).status == .ok)
            #expect(try await api.leakEvents(token).compactMap { $0["id"] } == [firstID])
            #expect(Self.leakMails(mailbox).count == 1)
            #expect(Self.leakMails(mailbox).first?.text.contains("deploy bot") == true)

            // GitHub delivers the report again: the first key is done, the second is revoked now.
            #expect(try await deliver([first, second], to: scanning) == [.truePositive, .truePositive])
            #expect(try await api.request(.get, "/v1/models", token: second).status == .unauthorized)
            #expect(try await api.leakEvents(token).compactMap { $0["id"] }.sorted() == [firstID, secondID].sorted())
            let mails = Self.leakMails(mailbox)
            #expect(mails.count == 2)
            #expect(mails.last?.text.contains("nightly") == true)
            #expect(mails.last?.text.contains("deploy bot") == false)
        }
    }

    @Test func aKeyThisInstanceHasNotHeardOfYetIsFoundInStorageAndRevoked() async throws {
        let (outbox, mailbox) = (TestOutbox(), TestMailbox())
        try await withSecretScanningApp(keys: TestKeySource([signer.publicKey]), outbox: outbox, mailbox: mailbox) {
            api, services in
            let (token, key, keyID) = try await keyed(api, outbox: outbox)
            // Another instance, whose index has not polled since the key was made.
            let index = APIKeyIndex(format: APIKeyFormat())
            #expect(index.authenticate(key, now: Date()) == .invalid("not_found"))
            let scanning = otherInstance(services, mailbox: mailbox, index: index)

            #expect(try await deliver([key], to: scanning) == [.truePositive])
            let stored = try await SQLAPIKeyRepository(database: services.database).key(APIKeyID(unchecked: keyID))
            #expect(stored?.revokedAt != nil)
            #expect(index.authenticate(key, now: Date()) == .invalid("revoked"))
            #expect(try await api.leakEvents(token).compactMap { $0["id"] } == [keyID])
            #expect(Self.leakMails(mailbox).count == 1)
        }
    }

    @Test func reportsGitHubDidNotSignAreRefusedAndRevokeNothing() async throws {
        let (outbox, mailbox) = (TestOutbox(), TestMailbox())
        try await withSecretScanningApp(keys: TestKeySource([signer.publicKey]), outbox: outbox, mailbox: mailbox) {
            api, _ in
            let (token, key, _) = try await keyed(api, outbox: outbox)
            let body = try Self.body([key])
            let forger = GitHubSigner(identifier: signer.identifier)
            var refusals: [(TestResponse, HTTPResponse.Status)] = []
            // Signed by another key under GitHub's identifier.
            refusals.append((try await api.report(body, signedBy: forger), .unauthorized))
            // Signed by GitHub's key, under an identifier GitHub does not publish.
            let madeUp = GitHubSigner.headers(identifier: "made-up", signature: try signer.signature(body))
            refusals.append((try await api.report(body, headers: madeUp), .unauthorized))
            // GitHub's signature over another body.
            let tampered = try Self.body([key, "sk-proj-extra"])
            refusals.append((try await api.report(tampered, headers: try signer.headers(body)), .unauthorized))
            // No headers, or only one.
            refusals.append((try await api.report(body, headers: [:]), .unauthorized))
            let noSignature = GitHubSigner.headers(identifier: signer.identifier, signature: nil)
            refusals.append((try await api.report(body, headers: noSignature), .unauthorized))
            let noIdentifier = GitHubSigner.headers(identifier: nil, signature: try signer.signature(body))
            refusals.append((try await api.report(body, headers: noIdentifier), .unauthorized))
            // A signature header that does not read as one.
            let notBase64 = GitHubSigner.headers(identifier: signer.identifier, signature: "%%% not base64")
            refusals.append((try await api.report(body, headers: notBase64), .badRequest))
            let notDER = GitHubSigner.headers(
                identifier: signer.identifier, signature: Data("not DER".utf8).base64EncodedString())
            refusals.append((try await api.report(body, headers: notDER), .badRequest))
            for (response, status) in refusals {
                #expect(response.status == status)
                #expect(response.string("error.code") == "invalid_signature")
                #expect(response.errorFields == ["code", "message", "param", "type"])
            }
            #expect(try await api.request(.get, "/v1/models", token: key).status == .ok)
            #expect(try await api.leakEvents(token).isEmpty)
            #expect(Self.leakMails(mailbox).isEmpty)
        }
    }

    @Test func aSignedBodyThatIsNotAnArrayOfMatchesIsRefused() async throws {
        let (outbox, mailbox) = (TestOutbox(), TestMailbox())
        try await withSecretScanningApp(keys: TestKeySource([signer.publicKey]), outbox: outbox, mailbox: mailbox) {
            api, _ in
            for body in [#"{"token":"sk-proj-x","type":"t"}"#, "[{\"token\":1,\"type\":\"t\"}]", "not json"] {
                let response = try await api.report(body, signedBy: signer)
                #expect(response.status == .badRequest)
                #expect(response.string("error.code") == "invalid_json")
            }
            let many = try Self.body(Array(repeating: "x", count: SecretScanningReport.maxMatches + 1))
            let tooMany = try await api.report(many, signedBy: signer)
            #expect(tooMany.status == .contentTooLarge)
            #expect(tooMany.string("error.code") == "request_too_large")
        }
    }

    @Test func theEndpointIsKeywardensOwnAndTakesNoCredential() async throws {
        let (outbox, mailbox) = (TestOutbox(), TestMailbox())
        try await withSecretScanningApp(keys: TestKeySource([signer.publicKey]), outbox: outbox, mailbox: mailbox) {
            api, _ in
            // With the gateway on, an empty signed report is answered by Keywarden itself, not
            // taken by the gateway and refused for want of an API key.
            let answer = try await api.report("[]", signedBy: signer)
            #expect(answer.status == .ok)
            #expect(String(decoding: answer.body, as: UTF8.self) == "[]")
        }
    }

    @Test func githubsKeysAreFetchedFromTheConfiguredURLOnceAndKept() async throws {
        let entry: [String: Any] = [
            "key_identifier": signer.identifier, "key": signer.privateKey.publicKey.pemRepresentation,
            "is_current": true,
        ]
        let keysDocument: [String: Any] = ["public_keys": [entry]]
        let document = String(decoding: try JSONSerialization.data(withJSONObject: keysDocument), as: UTF8.self)
        let github = StubServer { _ in (.ok, document) }
        try await github.run { baseURL in
            let (outbox, mailbox) = (TestOutbox(), TestMailbox())
            try await withSecretScanningApp(
                keys: nil, outbox: outbox, mailbox: mailbox,
                configure: { $0.keys.githubSecretScanningKeysURL = baseURL + "/meta/public_keys/secret_scanning" }
            ) { api, _ in
                let (_, key, _) = try await keyed(api, outbox: outbox)
                let answer = try await api.report(try Self.body([key]), signedBy: signer)
                #expect(answer.status == .ok)
                #expect(answer.feedback.first?["label"] == "true_positive")
                #expect(try await api.request(.get, "/v1/models", token: key).status == .unauthorized)
                #expect(github.requests.count == 1)
                #expect(github.requests.first?.path == "/meta/public_keys/secret_scanning")
                #expect(github.requests.first?.headers[.userAgent] != nil)

                // A forged identifier right after does not send Keywarden back to GitHub.
                let forged = try await api.report(
                    "[]", headers: GitHubSigner.headers(identifier: "forged", signature: try signer.signature("[]")))
                #expect(forged.status == .unauthorized)
                #expect(github.requests.count == 1)
            }
        }
    }

    @Test func keysThatCannotBeFetchedAnswer503SoGitHubDeliversAgain() async throws {
        let (outbox, mailbox) = (TestOutbox(), TestMailbox())
        let source = TestKeySource([signer.publicKey])
        source.setFailing(true)
        try await withSecretScanningApp(keys: source, outbox: outbox, mailbox: mailbox) { api, _ in
            let (_, key, _) = try await keyed(api, outbox: outbox)
            let answer = try await api.report(try Self.body([key]), signedBy: signer)
            #expect(answer.status == .serviceUnavailable)
            #expect(try await api.request(.get, "/v1/models", token: key).status == .ok)
        }
    }
}
