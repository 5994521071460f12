import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeywardenCore
import KeywardenServer
import KeywardenStorage
import Logging
import NIOCore
import SQLKit
import Synchronization
import Testing

let quietLogger: Logger = {
    var logger = Logger(label: "keywarden.tests")
    logger.logLevel = .critical
    return logger
}()

/// A cheap bcrypt cost, so tests spend their time on behaviour rather than hashing.
let testHasher = PasswordHasher.bcrypt(cost: 4)

let testSecret = String(repeating: "test-secret-", count: 4)

/// The real services over an in-memory SQLite database; SMS go to `outbox` when given.
func makeServices(
    clock: Clock = .live, outbox: TestOutbox? = nil, mailbox: TestMailbox? = nil, logger: Logger = quietLogger,
    configure: (inout KeywardenConfiguration) -> Void = { _ in }
) async throws -> KeywardenServices {
    var configuration = KeywardenConfiguration()
    configuration.storage.databaseURL = "sqlite::memory:"
    configuration.storage.dataDirectory = try temporaryDirectory()
    configure(&configuration)
    let database = try await openDatabase(configuration: configuration, logger: logger)
    // Without a test outbox, the configured provider sends.
    return KeywardenServices(
        database: database, configuration: configuration, secret: testSecret, logger: logger, clock: clock,
        hasher: testHasher, delivery: outbox.map { .local($0.sender) }, email: mailbox?.sender)
}

/// Runs `body` with services over a fresh in-memory database, closed afterwards whatever happens.
func withServices(
    clock: Clock = .live, outbox: TestOutbox? = nil, mailbox: TestMailbox? = nil, logger: Logger = quietLogger,
    configure: (inout KeywardenConfiguration) -> Void = { _ in },
    _ body: @Sendable (KeywardenServices) async throws -> Void
) async throws {
    let services = try await makeServices(
        clock: clock, outbox: outbox, mailbox: mailbox, logger: logger, configure: configure)
    do {
        try await body(services)
    } catch {
        try? await services.shutdown()
        throw error
    }
    // A test may have closed the database on purpose.
    try? await services.shutdown()
}

/// Runs `body` with a client of the full application.
func withApp(
    clock: Clock = .live, outbox: TestOutbox? = nil, mailbox: TestMailbox? = nil, logger: Logger = quietLogger,
    configure: (inout KeywardenConfiguration) -> Void = { _ in },
    _ body: @Sendable (TestAPI, KeywardenServices) async throws -> Void
) async throws {
    try await withServices(clock: clock, outbox: outbox, mailbox: mailbox, logger: logger, configure: configure) {
        services in
        let (router, _) = try buildRouter(services: services)
        let app = Application(router: router, logger: logger)
        try await app.test(.router) { client in
            try await body(TestAPI(client: client, services: services), services)
        }
    }
}

/// A decoded response.
struct TestResponse: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: Data

    /// The body as a JSON object.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:]
    }

    /// A string at a dotted path such as `error.code`.
    func string(_ path: String) -> String? { value(path) as? String }

    func value(_ path: String) -> Any? {
        var current: Any? = json
        for key in path.split(separator: ".") {
            current = (current as? [String: Any])?[String(key)]
        }
        return current
    }

    /// The `error` object's four fields, which must all be present.
    var errorFields: [String] {
        ((json["error"] as? [String: Any])?.keys.sorted()) ?? []
    }
}

/// Requests against the application, with JSON bodies and session tokens.
struct TestAPI: Sendable {
    let client: any TestClientProtocol
    /// The services behind the application, for helpers that arrange what a test is not about.
    var services: KeywardenServices?

    func request(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: String? = nil,
        rawBody: [UInt8]? = nil, headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(string: json)
        }
        if let rawBody { body = ByteBuffer(bytes: rawBody) }
        if let body, headers[.contentLength] == nil { headers[.contentLength] = String(body.readableBytes) }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
            TestResponse(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
    }

    /// Signs up; with `confirmed`, the address then counts as confirmed (as opening the mailed
    /// link makes it), so tests about other things can verify phones and make keys.
    @discardableResult
    func signUp(
        _ email: String = "ada@example.com", password: String = "correct horse battery", confirmed: Bool = true
    ) async throws
        -> TestResponse
    {
        let response = try await request(
            .post, "/v1/auth/signup", json: #"{"email":"\#(email)","password":"\#(password)"}"#)
        if confirmed, response.status == .created { try await services?.confirmEmail(of: email) }
        return response
    }

    /// Signs up and returns the session token.
    func token(_ email: String = "ada@example.com", confirmed: Bool = true) async throws -> String {
        let response = try await signUp(email, confirmed: confirmed)
        return try #require(response.string("session_token"))
    }
}

/// Captures the text messages the verification engine sends.
final class TestOutbox: Sendable {
    private let messages = Mutex<[SMSMessage]>([])
    /// When set, sending fails as a provider outage would.
    let failing = Mutex(false)

    var sender: SMSSender {
        SMSSender(name: "test") { message in
            if self.failing.withLock({ $0 }) { throw ProviderError(provider: "test", detail: "down") }
            self.messages.withLock { $0.append(message) }
            return SMSReceipt(providerMessageID: "SM\(message.verificationID.rawValue)", delivery: .queued)
        }
    }

    var sent: [SMSMessage] { messages.withLock { $0 } }

    /// The code in the latest message to `verification`.
    func code(for verification: String) -> String? {
        guard let body = sent.last(where: { $0.verificationID.rawValue == verification })?.body else { return nil }
        let words = body.split(separator: " ").map { String($0).trimmingCharacters(in: .punctuationCharacters) }
        return words.first { $0.count == 6 && $0.allSatisfy(\.isNumber) }
    }
}

/// Captures the email the services send.
final class TestMailbox: Sendable {
    private let messages = Mutex<[EmailMessage]>([])
    /// When set, sending fails as a provider outage would.
    let failing = Mutex(false)

    var sender: EmailSender {
        EmailSender(name: "test") { message in
            if self.failing.withLock({ $0 }) { throw ProviderError(provider: "test", detail: "down") }
            self.messages.withLock { $0.append(message) }
        }
    }

    var sent: [EmailMessage] { messages.withLock { $0 } }

    /// The messages to `address`, oldest first.
    func sent(to address: String) -> [EmailMessage] {
        sent.filter { $0.to.value == address.lowercased() }
    }

    /// The first link whose path contains `path` in the latest text body to `address` that has
    /// one, as sent: a later message of another kind (sign-up's confirmation link after an invite)
    /// does not hide it.
    func link(to address: String, containing path: String) -> String? {
        for message in sent(to: address).reversed() {
            let link = message.text.split(whereSeparator: \.isWhitespace).map(String.init).first {
                $0.hasPrefix("http") && $0.contains(path)
            }
            if let link { return link }
        }
        return nil
    }
}

/// Keeps every log line, at every level, so a test can search them for secrets.
final class CapturedLogs: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    var logger: Logger {
        var logger = Logger(label: "keywarden.captured") { _ in CapturingLogHandler(store: self) }
        logger.logLevel = .trace
        return logger
    }
}

struct CapturingLogHandler: LogHandler {
    let store: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        store.append("\(event.level) \(event.message) \(merged)")
    }
}

/// A new empty directory under the system's temporary directory.
func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("keywarden-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

extension KeywardenServices {
    /// Marks the address confirmed in storage, as opening the confirmation link does, without
    /// the audit event: for tests about something else.
    func confirmEmail(of email: String) async throws {
        let repository = SQLAccountRepository(database: database)
        guard let user = try await repository.credentials(email: try EmailAddress(normalizing: email))?.user else {
            return
        }
        _ = try await repository.confirmEmail(of: user.id, at: clock.now())
    }

    /// Signs up through the service, then confirms the address: the user as they are afterwards.
    func signUpConfirmed(_ email: String, password: String = "correct horse battery") async throws -> SignUpResult {
        var result = try await accounts.signUp(email: email, password: password, name: nil)
        try await confirmEmail(of: email)
        result.user = try #require(try await accounts.user(result.user.id))
        return result
    }

    /// Makes a user a reader of an organization (there is no membership API yet).
    func addReader(_ userID: String, to organization: String) async throws {
        try await addMember(userID, to: organization, role: "reader")
    }

    /// Adds a user to an organization with a role.
    func addMember(_ userID: String, to organization: String, role: String) async throws {
        try await database.withConnection { db in
            try await db.raw(
                """
                INSERT INTO organization_members (organization_id, user_id, role, added_at)
                VALUES (\(bind: organization), \(bind: userID), \(bind: role), 1)
                """
            ).run()
        }
    }
}

/// A clock that runs at the real pace from five seconds after the start of today (UTC) and stops
/// 50 seconds later, so a test that counts against fixed windows (a minute, 15 minutes, an hour,
/// a day) never sees one roll over however slowly a busy machine runs it.
func windowAlignedClock() -> Clock {
    let started = Date()
    let dayStart = (started.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400
    return Clock(now: {
        Date(timeIntervalSince1970: dayStart + 5 + min(Date().timeIntervalSince(started), 50))
    })
}
