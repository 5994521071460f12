import Foundation
import HTTPTypes
import KeywardenCore

/// Stands in for Stripe's API: answers canned JSON by method and path, and refuses, as Stripe
/// would, a request without the test key, without the API version, or a creating POST without
/// an idempotency key or a form body, so no test passes on a request Stripe would not take.
final class StripeStub: Sendable {
    /// A canned answer: the status and the JSON body.
    typealias Answer = (HTTPResponse.Status, String)

    /// The key the provider under test is given, and the only one the stub takes.
    static let secretKey = "sk_test_KeywardenStubKey0000000000000000"
    /// The API version every request must name.
    static let apiVersion = "2024-06-20"
    /// The POST paths that create an object, which Stripe lets be retried with an idempotency key.
    static let creatingPaths: Set<String> = ["/v1/customers", "/v1/checkout/sessions", "/v1/payment_intents"]
    /// The answer for a route the stub does not know.
    static let missing: Answer = (
        .notFound, #"{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such route."}}"#
    )

    private let server: StubServer

    /// Answers `routes["POST /v1/customers"]` and so on; other routes are Stripe's 404.
    convenience init(_ routes: [String: Answer]) {
        self.init(answer: { request in routes["\(request.method.rawValue) \(request.path)"] })
    }

    /// Answers what `answer` gives for a request that passes the checks; `nil` is Stripe's 404.
    init(answer: @escaping @Sendable (RecordedRequest) -> Answer?) {
        server = StubServer(respond: { request -> (HTTPResponse.Status, String) in
            if let refusal = StripeStub.refusal(of: request) { return refusal }
            return answer(request) ?? StripeStub.missing
        })
    }

    /// Every request received, in order, including refused ones.
    var requests: [RecordedRequest] { server.requests }

    /// Runs the stub on a free loopback port for the duration of `body`.
    func run(_ body: @Sendable (_ baseURL: String) async throws -> Void) async throws {
        try await server.run(body)
    }

    /// What Stripe would answer to a request it does not take, or `nil` when it takes it.
    static func refusal(of request: RecordedRequest) -> Answer? {
        func error(_ code: String) -> String {
            #"{"error":{"type":"invalid_request_error","code":"\#(code)","message":"Refused by the stub."}}"#
        }
        guard request.headers[.authorization] == "Bearer \(secretKey)" else {
            return (.unauthorized, error("stub_key"))
        }
        guard request.header("Stripe-Version") == apiVersion else { return (.badRequest, error("stub_version")) }
        guard request.method == .post else { return nil }
        guard request.headers[.contentType] == "application/x-www-form-urlencoded" else {
            return (.badRequest, error("stub_content_type"))
        }
        if creatingPaths.contains(request.path), (request.header("Idempotency-Key") ?? "").isEmpty {
            return (.badRequest, error("stub_idempotency_key"))
        }
        return nil
    }
}

extension RecordedRequest {
    /// The form body's fields by name.
    var form: [String: String] { Dictionary(FormEncoding.decode(body), uniquingKeysWith: { $1 }) }

    /// The query's fields by name, percent-decoded.
    var queryFields: [String: String] { Dictionary(FormEncoding.decode(query), uniquingKeysWith: { $1 }) }

    /// A header by name, as received.
    func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { headers[$0] } }
}
