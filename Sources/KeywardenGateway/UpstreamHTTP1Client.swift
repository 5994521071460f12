import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

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

    /// The head a call whose body is in memory (or absent) goes out with: the forwarded
    /// `headers` under the base URL's path, with `Host` and the body's own `Content-Length` set,
    /// and without the caller's `Expect`, since the body goes out with the head.
    func requestHead(
        method: HTTPMethod, pathAndQuery: String, headers: HTTPHeaders, body: ByteBuffer?
    ) -> HTTPRequestHead {
        var headers = headers
        headers.remove(name: "content-length")
        headers.remove(name: "expect")
        headers.replaceOrAdd(name: "host", value: port == 80 ? host : "\(host):\(port)")
        if let body {
            headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
        } else if method != .GET && method != .HEAD {
            headers.replaceOrAdd(name: "content-length", value: "0")
        }
        return HTTPRequestHead(version: .http1_1, method: method, uri: basePath + pathAndQuery, headers: headers)
    }

    /// Sends `head` (made by ``requestHead(method:pathAndQuery:headers:body:)``) and `body` and
    /// waits for the answer's head (and, when small, its body). A reused connection that closes
    /// before answering an idempotent request is retried once on a new one.
    func execute(_ head: HTTPRequestHead, body: ByteBuffer?) async throws -> Answer {
        let idempotent = [.GET, .HEAD, .PUT, .DELETE, .OPTIONS].contains(head.method)
        var attempt = 0
        while true {
            attempt += 1
            let (connection, reused) = try await checkOut()
            do {
                return try await connection.send(head, body: body, bufferLimit: bufferLimit)
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
