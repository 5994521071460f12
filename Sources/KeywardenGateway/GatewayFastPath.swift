import Foundation
import HTTPTypes
import HummingbirdCore
import KeywardenCore
import KeywardenHTTP
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOPosix
import Synchronization

/// Serves gateway calls, and the ``LocalRoute``s, on the event loop of the connection that
/// carries them, in a channel handler ahead of the router: the key is checked against the
/// index, the limits and spend from memory, the upstream connection comes from a pool of the
/// same loop, and the answer is relayed part by part, read from the upstream only as fast as
/// the caller takes it. No task is made and no thread is changed on the way.
///
/// A request the fast path cannot finish from memory (see ``Gateway/fastCall(_:peer:index:now:)``
/// and ``Gateway/fastAdmit(_:body:now:)``) goes to the router unchanged, its body replayed when
/// it was read, and is answered there exactly as before. Answers leave in the order their
/// requests came, pipelined ones included.
public final class GatewayFastPath: Sendable {
    let gateway: Gateway?
    let client: UpstreamHTTP1Client?
    let index: APIKeyIndex
    let ids: RequestIDs
    let metrics: KeywardenMetrics
    let accessLog: AccessLog
    let logger: Logger
    let serverName: String
    let localRoutes: [LocalRoute]
    let clock: Clock
    private let pools = Mutex<[ObjectIdentifier: (eventLoop: any EventLoop, pool: NIOLoopBound<FastUpstreamPool>)]>(
        [:])
    /// Requests answered here, and requests handed to the router after being looked at.
    let served = Atomic<Int>(0)
    let handedOn = Atomic<Int>(0)
    /// Set by ``shutdown()``: no pool is made and no connection kept after it.
    let stopped = Atomic<Bool>(false)

    /// Creates the fast path.
    ///
    /// - Parameters:
    ///   - gateway: the gateway, whose calls to a plain-HTTP upstream are carried here; `nil`
    ///     (or one without the lean client) leaves every gateway call to the router.
    ///   - ids: the request ids, shared with the router's middleware.
    ///   - serverName: the `Server` header, as the router's answers carry it.
    public init(
        gateway: Gateway?, index: APIKeyIndex, ids: RequestIDs, metrics: KeywardenMetrics, accessLog: AccessLog,
        localRoutes: [LocalRoute], serverName: String, clock: Clock, logger: Logger
    ) {
        self.gateway = gateway?.lean == nil ? nil : gateway
        self.client = gateway?.lean
        self.index = index
        self.ids = ids
        self.metrics = metrics
        self.accessLog = accessLog
        self.localRoutes = localRoutes
        self.serverName = serverName
        self.clock = clock
        self.logger = logger
    }

    /// How many requests were answered here, and how many were handed to the router.
    public var counts: (served: Int, handedOn: Int) {
        (served.load(ordering: .relaxed), handedOn.load(ordering: .relaxed))
    }

    /// The handler to add to each connection's pipeline (it puts the fast path in its place).
    public func channelHandler() -> any RemovableChannelHandler {
        FastPathInstaller(fastPath: self)
    }

    /// The upstream pool of `eventLoop`, made on first use.
    func pool(for eventLoop: any EventLoop) -> FastUpstreamPool? {
        guard let client, !stopped.load(ordering: .relaxed) else { return nil }
        let id = ObjectIdentifier(eventLoop)
        if let bound = pools.withLock({ $0[id] }) { return bound.pool.value }
        let pool = FastUpstreamPool(eventLoop: eventLoop, client: client) {
            self.stopped.load(ordering: .relaxed)
        }
        let bound = NIOLoopBound(pool, eventLoop: eventLoop)
        pools.withLock { pools in
            if pools[id] == nil { pools[id] = (eventLoop, bound) }
        }
        return pools.withLock { $0[id] }?.pool.value
    }

    /// Closes the pooled upstream connections of every loop.
    public func shutdown() {
        stopped.store(true, ordering: .relaxed)
        let all = pools.withLock { pools in
            defer { pools.removeAll() }
            return Array(pools.values)
        }
        for entry in all {
            let pool = entry.pool
            entry.eventLoop.execute { pool.value.closeAll() }
        }
    }
}

/// Puts a ``FastPathHandler`` after Hummingbird's connection-state handler, which is added after
/// the extra handlers: there the state handler sees every request and answer, so its idle
/// timeout and graceful shutdown count the fast path's exchanges too.
final class FastPathInstaller: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    let fastPath: GatewayFastPath

    init(fastPath: GatewayFastPath) {
        self.fastPath = fastPath
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let pipeline = context.pipeline.syncOperations
        let handler = FastPathHandler(fastPath: fastPath)
        do {
            if let state = try? pipeline.handler(type: HTTPConnectionStateHandler.self) {
                try pipeline.addHandler(handler, position: .after(state))
            } else {
                try pipeline.addHandler(handler, position: .after(self))
            }
        } catch {
            // Without the fast path every request goes to the router, as it always could.
        }
        context.fireChannelRead(data)
        pipeline.removeHandler(context: context, promise: nil)
    }
}

/// One connection's fast path.
final class FastPathHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// What the fast path will do with a request whose head it took.
    enum Claim {
        case gateway(Gateway.FastCall)
        case local(LocalRoute)
    }

    /// A request taken, its body being read.
    struct Taken {
        let head: HTTPRequest
        let claim: Claim
        var body: ByteBuffer?
        let limit: Int
        let started: ContinuousClock.Instant
    }

    enum State {
        case idle
        /// The request under way is the router's: its parts go on.
        case passing
        /// The request under way is ours, its body still arriving.
        case reading(Taken)
        /// Ours, its answer under way.
        case answering
    }

    let fastPath: GatewayFastPath
    var state = State.idle
    /// Answers the router still owes (requests handed to it whose answer has not ended).
    var owed = 0
    /// What came in while an answer of ours was under way: taken up, in order, once it ends.
    enum Inbound {
        case part(HTTPRequestPart)
        /// The caller closed its side (`ChannelEvent.inputClosed`) or another event.
        case event(Any)
        case error(any Error)
    }

    var queued = CircularBuffer<Inbound>()
    var readHeld = false
    /// Set while queued requests are taken up, so an answer finished within that does not
    /// start taking them up again one level deeper.
    var draining = false
    var context: ChannelHandlerContext?
    var peer: String?
    var call: GatewayCall?

    init(fastPath: GatewayFastPath) {
        self.fastPath = fastPath
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        peer = context.channel.remoteAddress?.ipAddress
    }

    /// The connection has closed (Hummingbird's state handler ahead does not pass
    /// `channelInactive` on): a call under way learns that its caller left.
    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        call?.callerGone()
        call = nil
        queued.removeAll()
    }

    /// Whether what comes in now must wait behind an answer of ours.
    private var mustWait: Bool {
        if case .answering = state { return true }
        return !queued.isEmpty
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if mustWait {
            queued.append(.part(part))
            return
        }
        take(part, context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if mustWait {
            queued.append(.event(event))
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if mustWait {
            queued.append(.error(error))
            return
        }
        context.fireErrorCaught(error)
    }

    func read(context: ChannelHandlerContext) {
        // While an answer of ours is under way with requests waiting behind it, read no more.
        if case .answering = state, !queued.isEmpty {
            readHeld = true
            return
        }
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Only the router's answers pass here: the fast path writes from its own context.
        if case .end = unwrapOutboundIn(data), owed > 0 {
            owed -= 1
        }
        context.write(data, promise: promise)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        call?.writabilityChanged(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    /// Passes on what waited behind an answer of ours, as it would have gone had it not waited.
    private func release(_ inbound: Inbound, context: ChannelHandlerContext) {
        switch inbound {
        case .part(let part): take(part, context: context)
        case .event(let event): context.fireUserInboundEventTriggered(event)
        case .error(let error): context.fireErrorCaught(error)
        }
    }

    /// Looks at a part that is not waiting behind an answer.
    private func take(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch (state, part) {
        case (.idle, .head(let head)):
            guard owed == 0, let claim = claim(head) else {
                owed += 1
                state = .passing
                context.fireChannelRead(wrapInboundOut(part))
                return
            }
            let limit: Int =
                switch claim {
                case .gateway(let call): call.declaredLength ?? 0
                case .local(let route): route.maxBody
                }
            let taken = Taken(head: head, claim: claim, body: nil, limit: limit, started: .now)
            state = .reading(taken)
        case (.passing, .end):
            state = .idle
            context.fireChannelRead(wrapInboundOut(part))
        case (.reading(var taken), .body(let buffer)):
            guard (taken.body?.readableBytes ?? 0) + buffer.readableBytes <= taken.limit else {
                handOn(taken, then: part, context: context)
                return
            }
            // The state lets go of the body first, so adding to it copies nothing.
            state = .idle
            taken.body.gather(buffer)
            state = .reading(taken)
        case (.reading(let taken), .end):
            answer(taken, context: context)
        default:
            context.fireChannelRead(wrapInboundOut(part))
        }
    }

    /// What the fast path does with a request, judged from its head; `nil` leaves it to the router.
    private func claim(_ head: HTTPRequest) -> Claim? {
        guard let target = head.path, target.hasPrefix("/v1/") else { return nil }
        let path = target.prefix { $0 != "?" }
        for route in fastPath.localRoutes where route.path == path && route.methods.contains(head.method) {
            if let raw = head.headerFields[.contentLength] {
                guard let length = Int(raw), length >= 0, length <= route.maxBody else { return nil }
            } else if head.headerFields[.transferEncoding] != nil {
                return nil
            }
            return .local(route)
        }
        guard let gateway = fastPath.gateway,
            let call = gateway.fastCall(head, peer: peer, index: fastPath.index, now: fastPath.clock.now())
        else { return nil }
        return .gateway(call)
    }

    /// Gives a request the fast path took to the router, with what was read of it.
    private func handOn(_ taken: Taken, then part: HTTPRequestPart? = nil, context: ChannelHandlerContext) {
        fastPath.handedOn.add(1, ordering: .relaxed)
        fastPath.metrics.fastPathRequests.increment("handed_on")
        owed += 1
        context.fireChannelRead(wrapInboundOut(.head(taken.head)))
        if let body = taken.body { context.fireChannelRead(wrapInboundOut(.body(body))) }
        if let part {
            state = .passing
            context.fireChannelRead(wrapInboundOut(part))
        } else {
            state = .idle
            context.fireChannelRead(wrapInboundOut(.end(nil)))
        }
    }

    private func answer(_ taken: Taken, context: ChannelHandlerContext) {
        switch taken.claim {
        case .local(let route):
            guard let answer = route.answer(taken.head, taken.body ?? ByteBuffer(), peer) else {
                handOn(taken, context: context)
                return
            }
            let id = serve()
            var headers = answer.headers
            headers[.cacheControl] = "no-store"
            writeWhole(answer.status, headers: headers, body: answer.body, requestID: id, context: context)
            finished(
                method: taken.head.method, path: route.path, status: answer.status.code, requestID: id,
                elapsed: ContinuousClock.now - taken.started)
        case .gateway(let fastCall):
            guard let gateway = fastPath.gateway, let pool = fastPath.pool(for: context.eventLoop),
                let admission = gateway.fastAdmit(fastCall, body: taken.body, now: fastPath.clock.now())
            else {
                handOn(taken, context: context)
                return
            }
            let id = serve()
            let head = gateway.fastUpstreamHead(
                fastCall, fields: taken.head.headerFields, body: admission.body, requestID: id, peer: peer,
                client: pool.client)
            let call = GatewayCall(
                handler: self, gateway: gateway, pool: pool, call: fastCall, admission: admission,
                upstreamHead: head, requestID: id, started: taken.started)
            self.call = call
            call.start()
        }
    }

    /// Counts a request as served here and marks its answer under way; the request's id.
    private func serve() -> String {
        fastPath.served.add(1, ordering: .relaxed)
        fastPath.metrics.fastPathRequests.increment("served")
        state = .answering
        return fastPath.ids.next()
    }

    /// Writes a whole answer with its request id, `nosniff` and its length.
    func writeWhole(
        _ status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer, requestID: String,
        context: ChannelHandlerContext
    ) {
        var headers = headers
        headers[.requestID] = requestID
        headers[.xContentTypeOptions] = "nosniff"
        headers[.contentLength] = String(body.readableBytes)
        writeHead(HTTPResponse(status: status, headerFields: headers), context: context)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// Writes an answer's head with what every answer of the server carries.
    func writeHead(_ response: HTTPResponse, context: ChannelHandlerContext) {
        var response = response
        response.headerFields[.date] = DateHeader.now()
        response.headerFields[.server] = fastPath.serverName
        context.write(wrapOutboundOut(.head(response)), promise: nil)
    }

    /// Counts and logs an answer that has gone, and takes up the requests that waited for it.
    ///
    /// - Parameter elapsed: from the request's head to the answer's head.
    func finished(method: HTTPRequest.Method, path: String, status: Int, requestID: String, elapsed: Duration) {
        RequestIDMiddleware.account(
            method: method.rawValue, path: path, status: status, elapsed: elapsed, requestID: requestID,
            logger: fastPath.logger, metrics: fastPath.metrics, accessLog: fastPath.accessLog)
        call = nil
        state = .idle
        guard let context, !draining else { return }
        draining = true
        let drained = !queued.isEmpty
        while !queued.isEmpty {
            if case .answering = state { break }
            release(queued.removeFirst(), context: context)
        }
        draining = false
        // Outside a read from the socket: the router takes what was passed on at the end of a
        // read, so one is marked here.
        if drained { context.fireChannelReadComplete() }
        if case .answering = state { return }
        if readHeld {
            readHeld = false
            context.read()
        }
    }

    func writeUpstreamPart(_ part: HTTPResponsePart, flush: Bool = false) {
        guard let context else { return }
        if flush {
            context.writeAndFlush(wrapOutboundOut(part), promise: nil)
        } else {
            context.write(wrapOutboundOut(part), promise: nil)
        }
    }
}

/// One gateway call on the fast path, from its upstream request to its metering.
///
/// An answer of declared length up to the lean client's buffer limit is read whole before it
/// goes to the caller, as the router's path reads it: an upstream that fails within it gets the
/// caller a clean 502 or 504. Larger answers, and answers of unknown length, are relayed part by
/// part. A caller that leaves before the answer began does not stop the call: it is carried to
/// its end and metered, as the router's path does; one that leaves during a relayed answer ends
/// the exchange, metered with what had been relayed.
final class GatewayCall: FastUpstreamExchange {
    /// The caller's connection; `nil` once it is gone.
    weak var handler: FastPathHandler?
    let gateway: Gateway
    let pool: FastUpstreamPool
    let call: Gateway.FastCall
    let admission: Gateway.FastAdmission
    let upstreamHead: HTTPRequestHead
    let requestID: String
    let started: ContinuousClock.Instant
    var connection: FastUpstreamConnection?
    var reused = false
    var attempts = 0
    var sent = ContinuousClock.now
    /// Set once the upstream's answer head arrived.
    var answer: (tap: UsageTap, failed: Bool, status: Int)?
    /// The answer's head while its body is read whole, before either goes to the caller.
    var heldHead: HTTPResponse?
    var heldBody: ByteBuffer?
    /// Whether the answer's head has gone to the caller.
    var headSent = false
    /// From the request's head to the answer's.
    var elapsed: Duration?
    var done = false

    init(
        handler: FastPathHandler, gateway: Gateway, pool: FastUpstreamPool, call: Gateway.FastCall,
        admission: Gateway.FastAdmission, upstreamHead: HTTPRequestHead, requestID: String,
        started: ContinuousClock.Instant
    ) {
        self.handler = handler
        self.gateway = gateway
        self.pool = pool
        self.call = call
        self.admission = admission
        self.upstreamHead = upstreamHead
        self.requestID = requestID
        self.started = started
    }

    var idempotent: Bool { [.get, .put, .delete].contains(call.method) }

    /// The caller's connection, while it is there to write to.
    private var caller: (handler: FastPathHandler, context: ChannelHandlerContext)? {
        guard let handler, let context = handler.context else { return nil }
        return (handler, context)
    }

    func start() {
        attempts += 1
        sent = .now
        if let connection = pool.reusable() {
            reused = true
            send(on: connection)
            return
        }
        reused = false
        // Held strongly: a caller that leaves while the connection is made does not end the call.
        pool.connect { result in
            switch result {
            case .success(let connection):
                guard !self.done else {
                    self.pool.checkIn(connection)
                    return
                }
                self.send(on: connection)
            case .failure(let failure):
                self.fail(failure)
            }
        }
    }

    private func send(on connection: FastUpstreamConnection) {
        self.connection = connection
        connection.send(upstreamHead, body: admission.body, to: self)
    }

    func upstreamHead(_ head: HTTPResponseHead) {
        guard !done else { return }
        gateway.metrics.gatewayUpstreamDuration.record(ContinuousClock.now - sent)
        var fields = Gateway.responseFields(head.headers)
        admission.status.write(to: &fields)
        fields[.requestID] = requestID
        fields[.xContentTypeOptions] = "nosniff"
        let status = Int(head.status.code)
        let (failed, active, readsUsage) = gateway.reading(
            admission.facts, status: status, contentType: fields[.contentType] ?? "")
        answer = (UsageTap(active: active, readsUsage: readsUsage), failed, status)
        elapsed = ContinuousClock.now - started
        let response = HTTPResponse(
            status: .init(code: status, reasonPhrase: head.status.reasonPhrase), headerFields: fields)
        if let declared = head.headers.first(name: "content-length").flatMap(Int.init),
            declared <= pool.client.bufferLimit
        {
            heldHead = response
            return
        }
        sendHead(response)
    }

    private func sendHead(_ response: HTTPResponse) {
        headSent = true
        guard let (handler, context) = caller else { return }
        handler.writeHead(response, context: context)
        if !context.channel.isWritable { connection?.setReading(false) }
    }

    func upstreamBody(_ buffer: ByteBuffer) {
        guard !done, let answer else { return }
        answer.tap.observe(buffer)
        if heldHead != nil {
            heldBody.gather(buffer)
            return
        }
        guard let (handler, context) = caller else { return }
        handler.writeUpstreamPart(.body(buffer))
        if !context.channel.isWritable { connection?.setReading(false) }
    }

    func upstreamReadComplete() {
        guard !done, headSent else { return }
        caller?.context.flush()
    }

    func upstreamEnd(reusable: Bool) {
        guard !done, let answer else { return }
        done = true
        if let connection {
            if reusable { pool.checkIn(connection) } else { connection.channel.close(promise: nil) }
            self.connection = nil
        }
        if let heldHead {
            sendHead(heldHead)
            if let heldBody { caller?.handler.writeUpstreamPart(.body(heldBody)) }
        }
        caller?.handler.writeUpstreamPart(.end(nil), flush: true)
        settle(answer)
        complete(status: answer.status)
    }

    func upstreamFailed(_ failure: UpstreamFailure) {
        guard !done else { return }
        connection = nil
        if answer == nil, failure == .closed, reused, idempotent, attempts == 1 {
            // A pooled connection the upstream had just closed: once more on a new one.
            start()
            return
        }
        fail(failure)
    }

    /// The upstream failed: an answer not yet begun for the caller becomes the gateway's 502 or
    /// 504; one under way is cut off, as the router's path cuts it.
    private func fail(_ failure: UpstreamFailure) {
        guard !done else { return }
        done = true
        if let answer, headSent {
            settle(answer)
            caller?.context.close(promise: nil)
            complete(status: answer.status)
            return
        }
        let error: DomainError = failure == .timedOut ? .upstreamTimeout : .upstreamUnavailable
        gateway.metrics.gatewayUpstreamErrors.increment(failure == .timedOut ? "timeout" : "unavailable")
        giveBack()
        if let (handler, context) = caller {
            let envelope = error.envelope()
            handler.writeWhole(
                error.status, headers: envelope.headers, body: envelope.body, requestID: requestID, context: context)
        }
        complete(status: error.status.code)
    }

    /// The caller's connection closed before the answer ended.
    func callerGone() {
        guard !done else { return }
        handler = nil
        // Before the answer began, the call runs on to its end and is metered then.
        guard headSent, let answer else { return }
        done = true
        connection?.abandon()
        connection = nil
        settle(answer)
        gateway.metrics.gatewayCalls.increment(RequestIDMiddleware.statusLabel(answer.status))
    }

    func writabilityChanged(_ writable: Bool) {
        guard !done else { return }
        connection?.setReading(writable)
    }

    /// Nothing reached the model: the estimate goes back and the call is metered as failed.
    private func giveBack() {
        gateway.limits.adjustTokens(admission.scopeIDs, by: -admission.estimate, now: gateway.clock.now())
        gateway.record(admission.facts, failed: true)
    }

    private func settle(_ answer: (tap: UsageTap, failed: Bool, status: Int)) {
        gateway.settle(
            admission.facts, scopeIDs: admission.scopeIDs, estimate: admission.estimate, failed: answer.failed,
            tap: answer.tap)
    }

    private func complete(status: Int) {
        gateway.metrics.gatewayCalls.increment(RequestIDMiddleware.statusLabel(status))
        handler?.finished(
            method: call.method, path: call.path, status: status, requestID: requestID,
            elapsed: elapsed ?? ContinuousClock.now - started)
    }
}

extension ByteBuffer? {
    /// Adds `buffer` after what is gathered so far (taking it as it is when nothing is yet).
    mutating func gather(_ buffer: ByteBuffer) {
        guard var gathered = self else {
            self = buffer
            return
        }
        self = nil
        var added = buffer
        gathered.writeBuffer(&added)
        self = gathered
    }
}

/// The `Date` header's value, made once a second per thread.
enum DateHeader {
    /// One thread's last value.
    final class Cache: @unchecked Sendable {
        var second = -1
        var text = ""
    }

    private static let caches = ThreadSpecificVariable<Cache>()
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The IMF-fixdate of now, such as `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func now() -> String {
        let seconds = Int(Date().timeIntervalSince1970)
        let cache: Cache
        if let kept = caches.currentValue {
            cache = kept
        } else {
            cache = Cache()
            caches.currentValue = cache
        }
        if cache.second != seconds {
            cache.second = seconds
            cache.text = format(seconds)
        }
        return cache.text
    }

    static func format(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
