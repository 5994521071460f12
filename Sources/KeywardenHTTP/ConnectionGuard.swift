import NIOCore
import NIOHTTP1

/// HTTP/1 rules the server pipeline does not keep by itself, applied to each connection just
/// after the request decoder:
///
/// - a connection must send its first request head within `headerTimeout` of opening (later
///   heads are bounded by the server's idle timeout), so a client that trickles header bytes
///   cannot hold a connection for ever;
/// - `Expect: 100-continue` is answered with `100 Continue` at once, so clients that wait for it
///   send their body without a pause;
/// - a request that does not keep the connection alive (HTTP/1.0 without `keep-alive`, or
///   `Connection: close` in any spelling) is answered in its own version with `Connection: close`,
///   and the connection is closed once the answer has gone; so is a connection whose answer says
///   `Connection: close` (a request body that could not be read, say).
public final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPServerRequestPart
    public typealias InboundOut = HTTPServerRequestPart
    public typealias OutboundIn = HTTPServerResponsePart
    public typealias OutboundOut = HTTPServerResponsePart

    let headerTimeout: TimeAmount
    private var headDeadline: Scheduled<Void>?
    private var sawFirstHead = false
    /// The version and keep-alive of each request whose answer has not gone yet, oldest first.
    private var pending: [(version: HTTPVersion, keepAlive: Bool)] = []
    private var closeAfterAnswer = false

    /// Creates the guard for one connection.
    public init(headerTimeout: TimeAmount) {
        self.headerTimeout = headerTimeout
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { armHeadDeadline(context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        headDeadline?.cancel()
        headDeadline = nil
    }

    public func channelActive(context: ChannelHandlerContext) {
        armHeadDeadline(context)
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        headDeadline?.cancel()
        headDeadline = nil
        context.fireChannelInactive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        sawFirstHead = true
        headDeadline?.cancel()
        headDeadline = nil
        let keepAlive = head.isKeepAlive
        pending.append((head.version, keepAlive))
        if !keepAlive {
            // The server ends a connection after a request whose header says exactly `close`.
            head.headers.replaceOrAdd(name: "connection", value: "close")
        }
        if head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
            head.headers.remove(name: "expect")
            if head.version.major == 1, head.version.minor >= 1 {
                let proceed = HTTPResponseHead(version: head.version, status: .continue)
                context.writeAndFlush(wrapOutboundOut(.head(proceed)), promise: nil)
            }
        }
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where head.status.code >= 200:
            let request = pending.first ?? (HTTPVersion.http1_1, true)
            head.version = request.version
            let answerCloses = head.headers[canonicalForm: "connection"].contains { $0.lowercased() == "close" }
            // HTTP/1.0 has no chunked encoding: an answer of unknown length ends when the connection does.
            let endsByClosing = request.version == .http1_0 && !head.headers.contains(name: "content-length")
            closeAfterAnswer = !request.keepAlive || answerCloses || endsByClosing
            if closeAfterAnswer {
                head.headers.replaceOrAdd(name: "connection", value: "close")
            } else if request.version == .http1_0 {
                head.headers.replaceOrAdd(name: "connection", value: "keep-alive")
            }
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .head:
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            if !pending.isEmpty { pending.removeFirst() }
            guard closeAfterAnswer else {
                context.write(data, promise: promise)
                return
            }
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.cascade(to: promise)
            let channel = context.channel
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
            context.writeAndFlush(data, promise: written)
        }
    }

    private func armHeadDeadline(_ context: ChannelHandlerContext) {
        guard headDeadline == nil, !sawFirstHead else { return }
        let channel = context.channel
        headDeadline = context.eventLoop.scheduleTask(in: headerTimeout) {
            channel.close(promise: nil)
        }
    }
}

/// Puts a ``ConnectionGuard`` right after the request decoder of a connection, where it sees
/// HTTP/1 heads with their version, then steps out of the pipeline.
///
/// Hummingbird adds extra handlers after its own HTTP/1-to-HTTP-types conversion, which drops
/// the request version; the installer is such an extra handler that moves its guard forward.
public final class ConnectionGuardInstaller: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = NIOAny

    let headerTimeout: TimeAmount

    /// Creates the installer of one connection's guard.
    public init(headerTimeout: TimeAmount) {
        self.headerTimeout = headerTimeout
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        do {
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandler(ConnectionGuard(headerTimeout: headerTimeout), position: .after(decoder))
        } catch {
            // Without a decoder there is no HTTP/1 to guard; the connection works as it would.
        }
        pipeline.removeHandler(context: context, promise: nil)
    }
}
