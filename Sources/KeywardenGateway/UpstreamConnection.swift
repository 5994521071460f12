import NIOCore
import NIOHTTP1

/// One connection to the upstream; one exchange at a time.
final class UpstreamConnection: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<UpstreamHandler>
    let pool: UpstreamHTTP1Client

    init(channel: any Channel, handler: UpstreamHandler, pool: UpstreamHTTP1Client) {
        self.channel = channel
        self.handler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
        self.pool = pool
    }

    /// Whether the connection can carry another exchange: the upstream has not closed it.
    var isReusable: Bool { channel.isActive }

    /// Closes the connection; an exchange on it fails with ``UpstreamFailure/closed``.
    func close() {
        channel.close(promise: nil)
    }

    /// Writes the request on the connection's event loop and waits for the answer's head (and,
    /// when small, its body).
    func send(
        _ head: HTTPRequestHead, body: ByteBuffer?, bufferLimit: Int
    ) async throws
        -> UpstreamHTTP1Client.Answer
    {
        let promise = channel.eventLoop.makePromise(of: UpstreamHTTP1Client.Answer.self)
        let handler = handler
        channel.eventLoop.execute { [self] in
            handler.value.begin(answer: promise, bufferLimit: bufferLimit, connection: self)
            let channel = self.channel
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil) }
            channel.writeAndFlush(HTTPClientRequestPart.end(nil)).whenComplete { result in
                if case .failure = result { channel.close(promise: nil) }
            }
        }
        return try await promise.futureResult.get()
    }
}
