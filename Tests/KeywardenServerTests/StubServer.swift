import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeywardenCore
import KeywardenProviders
import NIOCore
import Synchronization

/// A request a stub server received.
struct RecordedRequest: Sendable {
    let method: HTTPRequest.Method
    let path: String
    let query: String
    let headers: HTTPFields
    let body: String
}

/// Records requests and answers them from a closure, standing in for Twilio or a webhook.
final class StubServer: Sendable {
    private let recorded = Mutex<[RecordedRequest]>([])
    let respond: @Sendable (RecordedRequest) -> Response

    /// Answers with JSON.
    init(respond: @escaping @Sendable (RecordedRequest) -> (HTTPResponse.Status, String)) {
        self.respond = { request in
            let (status, json) = respond(request)
            return Response(
                status: status, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: json)))
        }
    }

    /// Answers with whatever response the closure builds (streams, other content types).
    init(answer: @escaping @Sendable (RecordedRequest) -> Response) {
        self.respond = answer
    }

    var requests: [RecordedRequest] { recorded.withLock { $0 } }

    /// Runs the stub on a free loopback port for the duration of `body`.
    func run(_ body: @Sendable (_ baseURL: String) async throws -> Void) async throws {
        let router = Router()
        for method in [HTTPRequest.Method.get, .post, .put, .delete] {
            router.on("**", method: method) { request, _ -> Response in
                let buffer = try await request.body.collect(upTo: 16 << 20)
                let recorded = RecordedRequest(
                    method: request.method, path: request.uri.path, query: request.uri.query ?? "",
                    headers: request.headers, body: String(buffer: buffer))
                self.recorded.withLock { $0.append(recorded) }
                return self.respond(recorded)
            }
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(client.port ?? 0)")
        }
    }
}

extension StubServer {
    /// Twilio Verify: every verification starts; `424242` is the right code.
    static func twilioVerify() -> StubServer {
        StubServer { request in
            if request.path.hasSuffix("/VerificationCheck") {
                let code = Dictionary(FormEncoding.decode(request.body), uniquingKeysWith: { $1 })["Code"]
                return (.ok, code == "424242" ? #"{"status":"approved"}"# : #"{"status":"pending"}"#)
            }
            return (.created, #"{"sid":"VE0001","status":"pending"}"#)
        }
    }
}
