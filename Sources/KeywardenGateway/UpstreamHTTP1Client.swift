import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Why a call to the upstream failed.
enum UpstreamFailure: Error {
    /// No connection could be made.
    case unreachable
    /// The upstream stayed silent for longer than the read timeout.
    case timedOut
    /// The connection closed before the answer was complete.
    case closed
}

/// A lean HTTP/1.1 client for one plain-HTTP upstream, for calls whose request body is already
/// in memory: the request goes out in one write, an answer of known length up to `bufferLimit`
/// comes back whole in one hand-off, and anything else streams with back-pressure (the
/// connection reads only as fast as the caller consumes). Connections are kept for reuse.
public final class UpstreamHTTP1Client: Sendable {
    let host: String
    let port: Int
    /// The base URL's path, without a trailing slash, put before every forwarded path.
    let basePath: String
    let group: MultiThreadedEventLoopGroup
    let connectTimeout: TimeAmount
    let readTimeout: TimeAmount
    let bufferLimit: Int
    let maxIdle: Int
    /// Pooled connections unused for longer are closed rather than reused: many servers drop
    /// idle keep-alive connections after five seconds.
    let idleLifetime: TimeAmount = .seconds(4)
    private let idle = Mutex<[(connection: UpstreamConnection, since: NIODeadline)]>([])

    /// A client for a plain `http://` base URL; `nil` for any other URL (TLS upstreams go
    /// through AsyncHTTPClient).
    public convenience init?(
        baseURL: String, connectTimeout: TimeAmount, readTimeout: TimeAmount, bufferLimit: Int = 256 << 10,
        maxIdle: Int
    ) {
        guard baseURL.lowercased().hasPrefix("http://"), let url = URL(string: baseURL), let host = url.host,
            !host.isEmpty
        else { return nil }
        let path = url.path.hasSuffix("/") ? String(url.path.dropLast()) : url.path
        self.init(
            host: host, port: url.port ?? 80, basePath: path, connectTimeout: connectTimeout, readTimeout: readTimeout,
            bufferLimit: bufferLimit, maxIdle: maxIdle)
    }

    init(
        host: String, port: Int, basePath: String, group: MultiThreadedEventLoopGroup = .singleton,
        connectTimeout: TimeAmount, readTimeout: TimeAmount, bufferLimit: Int, maxIdle: Int
    ) {
        self.host = host
        self.port = port
        self.basePath = basePath
        self.group = group
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.bufferLimit = bufferLimit
        self.maxIdle = maxIdle
    }

    /// An answer: its head, and either the whole body or a stream of its parts.
    struct Answer: Sendable {
        enum Body: Sendable {
            case whole(ByteBuffer)
            case stream(NIOThrowingAsyncSequenceProducer<ByteBuffer, any Error, Backpressure, StreamDemand>)
        }

        var head: HTTPResponseHead
        var body: Body
    }

    typealias Backpressure = NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark

    /// Sends `head` and `body` and waits for the answer's head (and, when small, its body).
    /// A reused connection that closes before answering an idempotent request is retried once
    /// on a new one.
    func execute(_ head: HTTPRequestHead, body: ByteBuffer?) async throws -> Answer {
        var head = head
        head.headers.replaceOrAdd(name: "host", value: port == 80 ? host : "\(host):\(port)")
        if let body {
            head.headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
        } else if head.method != .GET && head.method != .HEAD {
            head.headers.replaceOrAdd(name: "content-length", value: "0")
        }
        let idempotent = [.GET, .HEAD, .PUT, .DELETE, .OPTIONS].contains(head.method)
        var attempt = 0
        while true {
            attempt += 1
            let (connection, reused) = try await checkOut()
            do {
                return try await connection.send(head, body: body, bufferLimit: bufferLimit, readTimeout: readTimeout)
            } catch UpstreamFailure.closed where reused && idempotent && attempt == 1 {
                continue
            }
        }
    }

    private func checkOut() async throws -> (UpstreamConnection, reused: Bool) {
        let now = NIODeadline.now()
        while let (connection, since) = idle.withLock({ $0.popLast() }) {
            if connection.isReusable, now - since < idleLifetime { return (connection, true) }
            connection.close()
        }
        return (try await connect(), false)
    }

    private func connect() async throws -> UpstreamConnection {
        let readTimeout = readTimeout
        do {
            return try await ClientBootstrap(group: group)
                .connectTimeout(connectTimeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        let handler = UpstreamHandler(readTimeout: readTimeout)
                        try channel.pipeline.syncOperations.addHandler(handler)
                        return UpstreamConnection(channel: channel, handler: handler, pool: self)
                    }
                }
        } catch let error as ChannelError where error == .connectTimeout(connectTimeout) {
            throw UpstreamFailure.timedOut
        } catch {
            throw UpstreamFailure.unreachable
        }
    }

    /// Takes back a connection whose exchange finished cleanly.
    func checkIn(_ connection: UpstreamConnection) {
        let kept = idle.withLock { idle in
            guard idle.count < maxIdle else { return false }
            idle.append((connection, .now()))
            return true
        }
        if !kept { connection.close() }
    }

    /// Closes every pooled connection.
    public func shutdown() {
        let connections = idle.withLock { idle -> [UpstreamConnection] in
            let all = idle.map(\.connection)
            idle.removeAll()
            return all
        }
        for connection in connections { connection.close() }
    }
}

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

    var isReusable: Bool { channel.isActive }

    func close() {
        channel.close(promise: nil)
    }

    func send(
        _ head: HTTPRequestHead, body: ByteBuffer?, bufferLimit: Int, readTimeout: TimeAmount
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

/// Demand from the answer's reader, passed to the connection's handler.
struct StreamDemand: NIOAsyncSequenceProducerDelegate {
    let handler: NIOLoopBound<UpstreamHandler>
    /// Which exchange on the connection the stream belongs to: a late signal from an earlier
    /// answer's reader must not touch the next exchange.
    let exchange: Int

    func produceMore() {
        let handler = handler
        let exchange = exchange
        handler.eventLoop.execute { handler.value.demand(exchange: exchange) }
    }

    func didTerminate() {
        let handler = handler
        let exchange = exchange
        handler.eventLoop.execute { handler.value.readerGone(exchange: exchange) }
    }
}

/// Reads one answer at a time from the connection, reading from the socket only while someone
/// waits for data.
final class UpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    enum State {
        case idle
        case awaitingHead(EventLoopPromise<UpstreamHTTP1Client.Answer>)
        case buffering(HTTPResponseHead, ByteBuffer, EventLoopPromise<UpstreamHTTP1Client.Answer>)
        case streaming(
            NIOThrowingAsyncSequenceProducer<ByteBuffer, any Error, UpstreamHTTP1Client.Backpressure, StreamDemand>
                .Source)
        case closed
    }

    let readTimeout: TimeAmount
    var state = State.idle
    /// Counts exchanges on this connection.
    var exchange = 0
    var bufferLimit = 0
    var keepAlive = true
    /// Whether reading is paused because the reader of a streamed answer has enough.
    var paused = false
    /// The last time anything arrived during an exchange.
    var lastRead = NIODeadline.now()
    var timeout: Scheduled<Void>?
    var context: ChannelHandlerContext?
    var connection: UpstreamConnection?

    init(readTimeout: TimeAmount) {
        self.readTimeout = readTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func begin(
        answer: EventLoopPromise<UpstreamHTTP1Client.Answer>, bufferLimit: Int, connection: UpstreamConnection
    ) {
        guard case .idle = state, context != nil else {
            answer.fail(UpstreamFailure.closed)
            return
        }
        self.state = .awaitingHead(answer)
        self.exchange += 1
        self.bufferLimit = bufferLimit
        self.connection = connection
        self.keepAlive = true
        lastRead = .now()
        armTimeout(at: lastRead + readTimeout)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = .now()
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .awaitingHead) where head.status.code / 100 == 1 && head.status != .switchingProtocols:
            // An interim answer (such as 103 Early Hints): the real one follows.
            break
        case (.head(let head), .awaitingHead(let promise)):
            keepAlive = head.isKeepAlive
            let length = head.headers.first(name: "content-length").flatMap(Int.init)
            if let length, length <= bufferLimit {
                state = .buffering(head, context.channel.allocator.buffer(capacity: length), promise)
            } else {
                let produced = NIOThrowingAsyncSequenceProducer.makeSequence(
                    elementType: ByteBuffer.self, failureType: (any Error).self,
                    backPressureStrategy: UpstreamHTTP1Client.Backpressure(lowWatermark: 2, highWatermark: 8),
                    finishOnDeinit: true,
                    delegate: StreamDemand(
                        handler: NIOLoopBound(self, eventLoop: context.eventLoop), exchange: exchange))
                state = .streaming(produced.source)
                promise.succeed(.init(head: head, body: .stream(produced.sequence)))
            }
        case (.body(var part), .buffering(let head, var buffer, let promise)):
            state = .closed  // let the buffer be uniquely referenced while appending
            buffer.writeBuffer(&part)
            state = .buffering(head, buffer, promise)
        case (.body(let part), .streaming(let source)):
            if source.yield(part) == .stopProducing {
                // Stop reading until the reader asks for more; waiting for it is not the
                // upstream's silence.
                paused = true
                context.channel.setOption(.autoRead, value: false).whenFailure { _ in }
            }
        case (.end, .buffering(let head, let buffer, let promise)):
            finishExchange()
            promise.succeed(.init(head: head, body: .whole(buffer)))
        case (.end, .streaming(let source)):
            finishExchange()
            source.finish()
        default:
            fail(UpstreamFailure.closed, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(UpstreamFailure.closed, context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(UpstreamFailure.closed, context: context)
    }

    /// The reader wants more of a streamed body.
    func demand(exchange: Int) {
        guard exchange == self.exchange, case .streaming = state, paused, let context else { return }
        paused = false
        lastRead = .now()
        context.channel.setOption(.autoRead, value: true).whenFailure { _ in }
    }

    /// The reader stopped before the end: the rest of the answer is not wanted.
    func readerGone(exchange: Int) {
        guard exchange == self.exchange, case .streaming = state, let context else { return }
        fail(UpstreamFailure.closed, context: context)
    }

    private func finishExchange() {
        timeout?.cancel()
        timeout = nil
        if paused {
            paused = false
            context?.channel.setOption(.autoRead, value: true).whenFailure { _ in }
        }
        state = .idle
        let connection = connection
        self.connection = nil
        if keepAlive, let connection {
            connection.pool.checkIn(connection)
        } else {
            context?.close(promise: nil)
        }
    }

    private func fail(_ failure: UpstreamFailure, context: ChannelHandlerContext) {
        timeout?.cancel()
        timeout = nil
        let previous = state
        state = .closed
        connection = nil
        switch previous {
        case .awaitingHead(let promise), .buffering(_, _, let promise):
            promise.fail(failure)
        case .streaming(let source):
            source.finish(failure)
        case .idle, .closed:
            break
        }
        context.close(promise: nil)
    }

    /// One timer per exchange: when it fires, the exchange fails if nothing arrived for the read
    /// timeout (and reading was not paused for the reader); otherwise it is set again.
    private func armTimeout(at deadline: NIODeadline) {
        guard let context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timeout = context.eventLoop.scheduleTask(deadline: deadline) {
            let handler = loopBound.value
            guard let context = handler.context else { return }
            switch handler.state {
            case .awaitingHead, .buffering, .streaming: break
            case .idle, .closed: return
            }
            let due = handler.lastRead + handler.readTimeout
            if handler.paused || due > .now() {
                handler.armTimeout(at: handler.paused ? .now() + handler.readTimeout : due)
            } else {
                handler.fail(.timedOut, context: context)
            }
        }
    }
}
