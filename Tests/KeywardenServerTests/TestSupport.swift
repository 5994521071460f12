import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeywardenCore
import KeywardenServer
import KeywardenStorage
import Logging
import NIOCore
import Testing

let quietLogger: Logger = {
    var logger = Logger(label: "keywarden.tests")
    logger.logLevel = .critical
    return logger
}()

/// A cheap bcrypt cost, so tests spend their time on behaviour rather than hashing.
let testHasher = PasswordHasher.bcrypt(cost: 4)

/// The real router over an in-memory SQLite database.
func makeServices(
    clock: Clock = .live, configure: (inout KeywardenConfiguration) -> Void = { _ in }
) async throws -> KeywardenServices {
    var configuration = KeywardenConfiguration()
    configuration.databaseURL = "sqlite::memory:"
    configure(&configuration)
    let database = try await openDatabase(configuration: configuration, logger: quietLogger)
    return KeywardenServices(database: database, configuration: configuration, clock: clock, hasher: testHasher)
}

/// Runs `body` with services over a fresh in-memory database, closed afterwards whatever happens.
func withServices(
    clock: Clock = .live, configure: (inout KeywardenConfiguration) -> Void = { _ in },
    _ body: @Sendable (KeywardenServices) async throws -> Void
) async throws {
    let services = try await makeServices(clock: clock, configure: configure)
    do {
        try await body(services)
    } catch {
        try? await services.database.shutdown()
        throw error
    }
    // A test may have closed the database on purpose.
    try? await services.database.shutdown()
}

/// Runs `body` with a client of the full application.
func withApp(
    configure: (inout KeywardenConfiguration) -> Void = { _ in },
    _ body: @Sendable (TestAPI, KeywardenServices) async throws -> Void
) async throws {
    try await withServices(configure: configure) { services in
        let (router, _) = buildRouter(services: services)
        let app = Application(router: router, logger: quietLogger)
        try await app.test(.router) { client in
            try await body(TestAPI(client: client), services)
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
        return try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
            TestResponse(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
    }

    /// Signs up and returns the session token.
    @discardableResult
    func signUp(
        _ email: String = "ada@example.com", password: String = "correct horse battery"
    ) async throws
        -> TestResponse
    {
        try await request(.post, "/v1/auth/signup", json: #"{"email":"\#(email)","password":"\#(password)"}"#)
    }

    func token(_ email: String = "ada@example.com") async throws -> String {
        let response = try await signUp(email)
        return try #require(response.string("session_token"))
    }
}
