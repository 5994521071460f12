import NIOCore
import NIOHTTP1
import NIOPosix

/// What an upstream connection tells the call it carries, on their shared event loop.
protocol FastUpstreamExchange: AnyObject {
    func upstreamHead(_ head: HTTPResponseHead)
    func upstreamBody(_ buffer: ByteBuffer)
    /// The answer ended; `reusable` when the connection may carry another.
    func upstreamEnd(reusable: Bool)
    /// The last reads of a batch are in: a moment to flush what was written.
    func upstreamReadComplete()
    func upstreamFailed(_ failure: UpstreamFailure)
}

/// The upstream connections of one event loop, for the calls its server connections carry:
/// a connection is made on the same loop, so a call and its upstream exchange never change
/// threads. Used only on that loop.
final class FastUpstreamPool {
    let eventLoop: any EventLoop
    let client: UpstreamHTTP1Client
    /// Whether the server is shutting down: connections are closed rather than kept.
    let isShutDown: () -> Bool
    private var idle: [FastUpstreamConnection] = []
    /// This loop's share of the idle connections the client may keep (the event loops are one
    /// per core), so that all loops together keep no more than the client alone would.
    let maxIdle: Int

    init(eventLoop: any EventLoop, client: UpstreamHTTP1Client, isShutDown: @escaping () -> Bool) {
        self.eventLoop = eventLoop
        self.client = client
        self.isShutDown = isShutDown
        let loops = max(1, System.coreCount)
        self.maxIdle = max(1, (client.maxIdle + loops - 1) / loops)
    }

    /// A pooled connection the upstream has not closed and that has not idled past the
    /// client's idle lifetime, or `nil`.
    func reusable() -> FastUpstreamConnection? {
        let now = NIODeadline.now()
        while let connection = idle.popLast() {
            if connection.channel.isActive, now - connection.since < client.idleLifetime { return connection }
            connection.channel.close(promise: nil)
        }
        return nil
    }

    /// Opens a new connection; `done` runs on this loop.
    func connect(_ done: @escaping (Result<FastUpstreamConnection, UpstreamFailure>) -> Void) {
        let readTimeout = client.readTimeout
        let connectTimeout = client.connectTimeout
        ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(FastUpstreamHandler(readTimeout: readTimeout))
                }
            }
            .connect(host: client.host, port: client.port)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    guard let handler = try? channel.pipeline.syncOperations.handler(type: FastUpstreamHandler.self)
                    else {
                        channel.close(promise: nil)
                        done(.failure(.unreachable))
                        return
                    }
                    done(.success(FastUpstreamConnection(channel: channel, handler: handler)))
                case .failure(let error as ChannelError) where error == .connectTimeout(connectTimeout):
                    done(.failure(.timedOut))
                case .failure:
                    done(.failure(.unreachable))
                }
            }
    }

    /// Takes back a connection whose exchange ended cleanly, reading again so that an upstream
    /// closing it while idle is noticed.
    func checkIn(_ connection: FastUpstreamConnection) {
        if connection.handler.paused { connection.setReading(true) }
        guard !isShutDown(), connection.channel.isActive, idle.count < maxIdle else {
            connection.channel.close(promise: nil)
            return
        }
        connection.since = .now()
        idle.append(connection)
    }

    /// Closes every pooled connection.
    func closeAll() {
        for connection in idle { connection.channel.close(promise: nil) }
        idle.removeAll()
    }
}

/// One upstream connection of a ``FastUpstreamPool``.
final class FastUpstreamConnection {
    let channel: any Channel
    let handler: FastUpstreamHandler
    /// When it was last put back in the pool.
    var since: NIODeadline = .now()

    init(channel: any Channel, handler: FastUpstreamHandler) {
        self.channel = channel
        self.handler = handler
    }

    /// Sends a request; the answer goes to `exchange`.
    func send(_ head: HTTPRequestHead, body: ByteBuffer?, to exchange: any FastUpstreamExchange) {
        // The last exchange may have ended while its caller was not taking its answer.
        if handler.paused { setReading(true) }
        handler.begin(exchange)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }

    /// Reads from the upstream only while the caller's connection takes what it is sent.
    func setReading(_ reading: Bool) {
        handler.paused = !reading
        try? channel.syncOptions?.setOption(.autoRead, value: reading)
        if reading { channel.read() }
    }

    /// Ends the exchange under way: the connection is closed, never reused.
    func abandon() {
        handler.exchange = nil
        channel.close(promise: nil)
    }
}

/// Passes one answer at a time from the upstream to the exchange waiting for it, and fails the
/// exchange when the upstream closes, errs, or is silent for longer than the read timeout
/// (time the caller's connection is not reading does not count).
final class FastUpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    let readTimeout: TimeAmount
    /// The exchange waiting for the answer, held until the answer ends or fails.
    var exchange: (any FastUpstreamExchange)?
    var paused = false
    private var keepAlive = true
    private var lastRead = NIODeadline.now()
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(readTimeout: TimeAmount) {
        self.readTimeout = readTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        timer?.cancel()
    }

    func begin(_ exchange: any FastUpstreamExchange) {
        self.exchange = exchange
        paused = false
        keepAlive = true
        lastRead = .now()
        arm(at: lastRead + readTimeout)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = .now()
        guard let exchange else {
            // Nobody waits: an answer nobody asked for leaves the connection unusable.
            context.close(promise: nil)
            return
        }
        switch unwrapInboundIn(data) {
        case .head(let head):
            // Interim answers (100 Continue, 103 Early Hints) are not the answer.
            if head.status.code / 100 == 1, head.status != .switchingProtocols { return }
            keepAlive = head.isKeepAlive
            exchange.upstreamHead(head)
        case .body(let buffer):
            exchange.upstreamBody(buffer)
        case .end:
            self.exchange = nil
            timer?.cancel()
            timer = nil
            exchange.upstreamEnd(reusable: keepAlive)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.upstreamReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(.closed)
        context.close(promise: nil)
    }

    private func fail(_ failure: UpstreamFailure) {
        timer?.cancel()
        timer = nil
        guard let exchange else { return }
        self.exchange = nil
        exchange.upstreamFailed(failure)
    }

    private func arm(at deadline: NIODeadline) {
        timer?.cancel()
        guard let context else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            guard let self, self.exchange != nil else { return }
            let now = NIODeadline.now()
            if self.paused {
                self.lastRead = now
                self.arm(at: now + self.readTimeout)
            } else if now - self.lastRead >= self.readTimeout {
                self.fail(.timedOut)
                self.context?.close(promise: nil)
            } else {
                self.arm(at: self.lastRead + self.readTimeout)
            }
        }
    }
}
