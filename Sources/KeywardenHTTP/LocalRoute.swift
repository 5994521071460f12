import HTTPTypes
import NIOCore

/// An endpoint answered from memory on the connection's event loop, before the router: the
/// common form of a request is answered here, anything else (`nil` from ``answer``) goes on to
/// the router's route for the same path, which answers it, refusals included.
public struct LocalRoute: Sendable {
    /// The answer: status, headers and the whole body.
    public struct Answer: Sendable {
        public var status: HTTPResponse.Status
        public var headers: HTTPFields
        public var body: ByteBuffer

        public init(status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    /// The exact path (no query) the route serves.
    public let path: String
    public let methods: [HTTPRequest.Method]
    /// The largest declared body taken; a larger one goes to the router.
    public let maxBody: Int
    /// The answer to a request, its whole body and the peer's address; `nil` hands the request
    /// to the router.
    public let answer: @Sendable (_ request: HTTPRequest, _ body: ByteBuffer, _ peer: String?) -> Answer?

    public init(
        path: String, methods: [HTTPRequest.Method], maxBody: Int,
        answer: @escaping @Sendable (_ request: HTTPRequest, _ body: ByteBuffer, _ peer: String?) -> Answer?
    ) {
        self.path = path
        self.methods = methods
        self.maxBody = maxBody
        self.answer = answer
    }
}
