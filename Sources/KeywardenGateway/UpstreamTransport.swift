import HTTPTypes
import Hummingbird
import KeywardenCore
import NIOCore
import NIOHTTP1

/// Carries a gateway call to the upstream and brings its answer back. The gateway decides what
/// goes (``UpstreamRequest``) and which of the answer's headers go on; a transport only moves
/// the bytes.
///
/// A transport throws ``DomainError/upstreamTimeout`` or ``DomainError/upstreamUnavailable``
/// when the upstream fails, and lets `BoundedBody.TooLarge` through unchanged when a streamed
/// body goes past its limit.
protocol UpstreamTransport: Sendable {
    /// Sends `request` and waits for the answer's head (and, when small, its body).
    func forward(_ request: UpstreamRequest) async throws -> UpstreamAnswer
}

/// A call ready to go upstream: the caller's method and path, the headers the gateway forwards,
/// and the body.
struct UpstreamRequest: Sendable {
    /// The body, as far as the gateway has it.
    enum Body: Sendable {
        /// The call has no body.
        case empty
        /// Read whole already (to estimate its tokens).
        case inMemory(ByteBuffer)
        /// Still to be read from the caller, with its declared length if it has one; ended with
        /// `BoundedBody.TooLarge` past the gateway's limit.
        case streamed(BoundedBody<RequestBody>, length: Int?)

        /// Whether the whole body is at hand (or there is none), so the call can go out in one
        /// write.
        var isInMemory: Bool {
            switch self {
            case .empty, .inMemory: true
            case .streamed: false
            }
        }
    }

    var method: HTTPRequest.Method
    /// The path and query as the caller sent them, put after the upstream's base URL.
    var pathAndQuery: String
    var headers: HTTPHeaders
    var body: Body
}

/// The upstream's answer: its status, all its headers (the gateway drops the hop-by-hop ones),
/// and its body.
struct UpstreamAnswer: Sendable {
    /// The answer's body.
    enum Body: Sendable {
        /// Read whole before being sent on: a small answer of known length.
        case whole(ByteBuffer)
        /// Relayed part by part as it arrives.
        case stream(ResponseBody)
    }

    var status: HTTPResponse.Status
    var headers: HTTPHeaders
    var body: Body
}
