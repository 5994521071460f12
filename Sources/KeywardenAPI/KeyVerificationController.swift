import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

extension HTTPField.Name {
    /// The key `GET /v1/keys/verify` checks.
    public static let keywardenKey = HTTPField.Name("Keywarden-Key")!
    /// The address the key was presented from, for `GET /v1/keys/verify`.
    public static let keywardenClientIP = HTTPField.Name("Keywarden-Client-IP")!
}

/// `POST /v1/keys/verify`: for the operator's own services that do not use the gateway.
/// Authorized by the operator token from configuration; answered from the in-memory index.
///
/// The service passes its caller's address as `client_ip`: a key limited to IP ranges answers
/// `valid: false`, code `ip_not_allowed`, for an address outside them and when none is given,
/// since this request's own peer is the service, not the key's user.
public struct KeyVerificationController: Sendable {
    let index: APIKeyIndex
    let operatorTokenDigest: [UInt8]?
    /// Keys of suspended organizations answer `valid: false`, code `organization_suspended`.
    let suspended: SuspendedOrganizations?
    let clock: Clock

    /// Creates the controller; without an operator token the endpoint refuses every request.
    public init(
        index: APIKeyIndex, operatorToken: String?, suspended: SuspendedOrganizations? = nil, clock: Clock = .live
    ) {
        self.index = index
        self.suspended = suspended
        self.operatorTokenDigest = operatorToken.map { Array(SHA256.hash(data: Data($0.utf8))) }
        self.clock = clock
    }

    /// Registers the routes: `POST` with the key in a JSON body, and `GET` with it in the
    /// `Keywarden-Key` header (and the caller's address in `Keywarden-Client-IP`).
    public func addRoutes(to router: CatalogingRouter<KeywardenRequestContext>) {
        router.post("/v1/keys/verify", use: verify)
        router.get("/v1/keys/verify", use: verifyHeaders)
    }

    /// Both forms, answered on the connection's event loop when they come in their common
    /// shape: a valid operator token, and `{"key":"..."}` or the headers. Anything else goes to
    /// the routes, which answer it (refusals included) the same way.
    public var localRoute: LocalRoute {
        LocalRoute(path: "/v1/keys/verify", methods: [.post, .get], maxBody: 64 << 10) { request, body, _ in
            guard self.isOperator(request.headerFields) else { return nil }
            let answer: Answer
            switch request.method {
            case .post:
                guard let key = Self.plainKey(in: body.readableBytesView) else { return nil }
                answer = self.answer(key: key, clientIP: nil)
            default:
                guard let key = request.headerFields[.keywardenKey], !key.isEmpty else { return nil }
                let clientIP = request.headerFields[.keywardenClientIP]
                if let clientIP, IPAddress(clientIP) == nil { return nil }
                answer = self.answer(key: key, clientIP: clientIP)
            }
            return LocalRoute.Answer(status: .ok, headers: Self.jsonHeaders, body: ByteBuffer(string: answer.json))
        }
    }

    static let jsonHeaders: HTTPFields = [.contentType: "application/json; charset=utf-8"]

    struct VerifyBody: JSONRequestBody {
        static let fields: Set<String> = ["key", "client_ip"]
        let key: String
        /// The address the key was presented from, as the service saw it.
        let clientIP: String?

        enum CodingKeys: String, CodingKey {
            case key
            case clientIP = "client_ip"
        }
    }

    struct Answer: Sendable {
        let valid: Bool
        var code: String?
        var key: APIKey?

        /// The answer as JSON text; every value is an id, a fixed word or a number, none of which
        /// needs escaping.
        var json: String {
            guard let key else { return #"{"code":"\#(code ?? "")","valid":false}"# }
            let scopes = key.permissions.scopes.map { "\"\($0)\"" }.joined(separator: ",")
            let project = key.projectID.map { "\"\($0.rawValue)\"" } ?? "null"
            let expires = key.expiresAt.map { String($0.unixSeconds) } ?? "null"
            return
                #"{"expires_at":\#(expires),"key_id":"\#(key.id.rawValue)","organization_id":"\#(key.organizationID.rawValue)","permissions":"\#(key.permissions.name)","project_id":\#(project),"scopes":[\#(scopes)],"valid":true}"#
        }
    }

    @Sendable func verify(_ request: Request, context: KeywardenRequestContext) async throws -> Response {
        try checkOperator(request.headers)
        // The common body, {"key":"sk-..."} with no escapes, is read directly; anything else goes
        // through the general decoder and its refusals. This endpoint runs on every call a
        // service checks, so it avoids the general JSON machinery both ways.
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let body =
            try Self.plainKey(in: buffer.readableBytesView).map { VerifyBody(key: $0, clientIP: nil) }
            ?? BodyDecoder.decode(VerifyBody.self, from: Data(buffer.readableBytesView))
        if let clientIP = body.clientIP, IPAddress(clientIP) == nil {
            throw DomainError.invalidField(
                "client_ip", "'client_ip' must be an IPv4 or IPv6 address, such as 203.0.113.7 or 2001:db8::1.")
        }
        return Self.response(answer(key: body.key, clientIP: body.clientIP))
    }

    /// `GET /v1/keys/verify`: the key in `Keywarden-Key`, the caller's address in
    /// `Keywarden-Client-IP`, so a proxy can ask without making a body.
    @Sendable func verifyHeaders(_ request: Request, context: KeywardenRequestContext) async throws -> Response {
        try checkOperator(request.headers)
        guard let key = request.headers[.keywardenKey], !key.isEmpty else {
            throw DomainError(
                .invalidRequest, code: .missingRequiredParameter,
                message: "Send the key to check in the 'Keywarden-Key' header, or POST it as {\"key\": \"sk-...\"}.",
                param: "Keywarden-Key")
        }
        let clientIP = request.headers[.keywardenClientIP]
        if let clientIP, IPAddress(clientIP) == nil {
            throw DomainError.invalidField(
                "Keywarden-Client-IP",
                "'Keywarden-Client-IP' must be an IPv4 or IPv6 address, such as 203.0.113.7 or 2001:db8::1.")
        }
        return Self.response(answer(key: key, clientIP: clientIP))
    }

    func isOperator(_ headers: HTTPFields) -> Bool {
        guard let expected = operatorTokenDigest, var presented = headers.bearerToken else { return false }
        // Hashed where the token's bytes lie, with nothing copied.
        let digest = presented.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        return digest.withUnsafeBytes { ConstantTime.equals($0, expected) }
    }

    func checkOperator(_ headers: HTTPFields) throws {
        guard isOperator(headers) else {
            throw DomainError(
                .unauthenticated, code: .invalidOperatorToken,
                message: "Send 'Authorization: Bearer <operator token>' (KEYWARDEN_OPERATOR_TOKEN) to verify keys.")
        }
    }

    /// What the index says of `key` presented from `clientIP`. The index checks the key's ranges
    /// against `clientIP`, refusing a key with ranges when none is given, and counts only a key
    /// it accepts as used.
    func answer(key: String, clientIP: String?) -> Answer {
        switch index.authenticate(key, from: clientIP, now: clock.now()) {
        case .valid(let key) where suspended?.reason(for: key.organizationID) != nil,
            .addressNotAllowed(let key) where suspended?.reason(for: key.organizationID) != nil:
            Answer(valid: false, code: DomainError.Code.organizationSuspended.rawValue)
        case .addressNotAllowed: Answer(valid: false, code: DomainError.Code.ipNotAllowed.rawValue)
        case .valid(let key): Answer(valid: true, key: key)
        case .invalid(let reason): Answer(valid: false, code: reason)
        }
    }

    static func response(_ answer: Answer) -> Response {
        Response(status: .ok, headers: jsonHeaders, body: .init(byteBuffer: ByteBuffer(string: answer.json)))
    }

    /// The key from `{"key":"..."}` when the value has no escapes and nothing else is present.
    static func plainKey(in bytes: some Collection<UInt8>) -> String? {
        let text = Array(bytes)
        var index = 0
        func skipSpace() {
            while index < text.count, text[index] == 32 || text[index] == 10 || text[index] == 13 || text[index] == 9 {
                index += 1
            }
        }
        func expect(_ literal: String) -> Bool {
            let expected = Array(literal.utf8)
            guard index + expected.count <= text.count, Array(text[index..<(index + expected.count)]) == expected else {
                return false
            }
            index += expected.count
            return true
        }
        skipSpace()
        guard expect("{") else { return nil }
        skipSpace()
        guard expect("\"key\"") else { return nil }
        skipSpace()
        guard expect(":") else { return nil }
        skipSpace()
        guard expect("\"") else { return nil }
        let start = index
        while index < text.count, text[index] != 34 {
            // Escapes and control characters take the general path.
            guard text[index] != 92, text[index] >= 32 else { return nil }
            index += 1
        }
        guard index < text.count else { return nil }
        let value = String(decoding: text[start..<index], as: UTF8.self)
        index += 1
        skipSpace()
        guard expect("}") else { return nil }
        skipSpace()
        return index == text.count ? value : nil
    }

}
