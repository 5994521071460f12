import NIOCore
import NIOHTTP1

/// HTTP/1 rules the server pipeline does not keep by itself, applied to each connection just
/// after the request decoder:
///
/// - a connection must send its first request head within `headerTimeout` of opening (later
///   heads are bounded by the server's idle timeout), so a client that trickles header bytes
///   cannot hold a connection for ever;
/// - `Expect: 100-continue` is answered with `100 Continue` when the request's turn comes (at once,
///   unless it was pipelined behind another), and not at all when its declared body is over the
///   limit of where it is going, so the client need not send a body that will be refused;
/// - a request that does not keep the connection alive (HTTP/1.0 without `keep-alive`, or
///   `Connection: close` in any spelling) is answered in its own version with `Connection: close`,
///   and so is a connection whose answer says `Connection: close` (a body that could not be read,
///   or was too large): the server's side is closed once the answer has gone, and the whole
///   connection a moment later, so the client reads the answer before anything is reset.
public final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPServerRequestPart
    public typealias InboundOut = HTTPServerRequestPart
    public typealias OutboundIn = HTTPServerResponsePart
    public typealias OutboundOut = HTTPServerResponsePart

    /// A request whose answer has not gone yet.
    struct Pending {
        var version: HTTPVersion
        var keepAlive: Bool
        /// Whether it waits for `100 Continue` before sending its body.
        var wantsContinue: Bool
    }

    /// How long a closing connection lingers, its output shut, for the client to read the answer.
    static let lingering = TimeAmount.seconds(2)

    let headerTimeout: TimeAmount
    /// The largest body a request to `path` may declare.
    let bodyLimit: @Sendable (_ path: String) -> Int
    private var headDeadline: Scheduled<Void>?
    private var sawFirstHead = false
    /// Requests whose answers have not gone yet, oldest first (clients may pipeline).
    private var pending: [Pending] = []
    private var closeAfterAnswer = false

    /// Creates the guard for one connection.
    public init(headerTimeout: TimeAmount, bodyLimit: @escaping @Sendable (_ path: String) -> Int) {
        self.headerTimeout = headerTimeout
        self.bodyLimit = bodyLimit
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
        if !keepAlive {
            // The server ends a connection after a request whose header says exactly `close`.
            head.headers.replaceOrAdd(name: "connection", value: "close")
        }
        var wantsContinue = false
        if head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
            head.headers.remove(name: "expect")
            let path = String(head.uri.prefix { $0 != "?" })
            let declared = head.headers.first(name: "content-length").flatMap(Int.init)
            let fits = declared.map { $0 <= bodyLimit(path) } ?? true
            wantsContinue = head.version == .http1_1 && fits
        }
        pending.append(Pending(version: head.version, keepAlive: keepAlive, wantsContinue: wantsContinue))
        if pending.count == 1 { sendContinueIfWanted(context) }
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where head.status.code >= 200:
            let request = pending.first ?? Pending(version: .http1_1, keepAlive: true, wantsContinue: false)
            // The answer came without the body being asked for: the client need not wait.
            if pending.indices.contains(0) { pending[0].wantsContinue = false }
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
            // Interim answers are HTTP/1.1 only.
            if pending.first?.version == .http1_0 {
                promise?.succeed()
            } else {
                context.write(data, promise: promise)
            }
        case .body:
            context.write(data, promise: promise)
        case .end:
            if !pending.isEmpty { pending.removeFirst() }
            guard closeAfterAnswer else {
                context.write(data, promise: promise)
                sendContinueIfWanted(context)
                return
            }
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.cascade(to: promise)
            let channel = context.channel
            let eventLoop = context.eventLoop
            written.futureResult.whenComplete { _ in
                // Shut our side first: the client sees the end of the answer. Close the rest a
                // little later, so unread request bytes cannot reset the answer away.
                channel.close(mode: .output, promise: nil)
                eventLoop.scheduleTask(in: Self.lingering) { channel.close(promise: nil) }
            }
            context.writeAndFlush(data, promise: written)
        }
    }

    /// `100 Continue` for the oldest request, when it asked for one and its answer has not begun.
    private func sendContinueIfWanted(_ context: ChannelHandlerContext) {
        guard let first = pending.first, first.wantsContinue else { return }
        pending[0].wantsContinue = false
        let proceed = HTTPResponseHead(version: first.version, status: .continue)
        context.writeAndFlush(wrapOutboundOut(.head(proceed)), promise: nil)
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
    let bodyLimit: @Sendable (_ path: String) -> Int

    /// Creates the installer of one connection's guard.
    ///
    /// - Parameter bodyLimit: the largest body a request to a path may declare.
    public init(headerTimeout: TimeAmount, bodyLimit: @escaping @Sendable (_ path: String) -> Int) {
        self.headerTimeout = headerTimeout
        self.bodyLimit = bodyLimit
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        do {
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandler(
                ConnectionGuard(headerTimeout: headerTimeout, bodyLimit: bodyLimit), position: .after(decoder))
        } catch {
            // Without a decoder there is no HTTP/1 to guard; the connection works as it would.
        }
        pipeline.removeHandler(context: context, promise: nil)
    }
}
