import KeywardenCore
import NIOCore
import NIOSSL

/// One connection to the SMTP server, for one message: a command goes out only once the reply
/// to the one before has come, and each reply must come within `smtp_timeout`.
final class SMTPConnection: Sendable {
    let channel: any Channel
    private let handler: NIOLoopBound<SMTPReplyHandler>
    private let greeting: EventLoopFuture<SMTPReply>
    /// Seconds each reply may take, for what a failure says.
    let timeout: Int

    /// A connection whose handler waits for `greeting`; made on the channel's event loop.
    init(channel: any Channel, handler: SMTPReplyHandler, greeting: EventLoopFuture<SMTPReply>, timeout: Int) {
        self.channel = channel
        self.handler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
        self.greeting = greeting
        self.timeout = timeout
    }

    /// Waits for the server's greeting, 220.
    func greet() async throws {
        _ = try await reply(to: "greeting", greeting, expecting: [220])
    }

    /// Sends one command line and waits for its reply, which must have one of `codes`.
    ///
    /// - Parameters:
    ///   - step: the command's name in what a failure says; never the line itself, which can
    ///     hold a password.
    ///   - endsPlaintext: nothing may come after the reply, since TLS begins next (STARTTLS).
    @discardableResult
    func command(
        _ line: String, step: String, expecting codes: Set<Int>, endsPlaintext: Bool = false
    ) async throws -> SMTPReply {
        try await reply(to: step, write(Array((line + "\r\n").utf8), endsPlaintext: endsPlaintext), expecting: codes)
    }

    /// Sends the message after DATA (dot-stuffed, with its final `.` line) and waits for the reply.
    func send(message bytes: [UInt8]) async throws {
        _ = try await reply(to: "the message", write(bytes, endsPlaintext: false), expecting: [250])
    }

    /// Begins TLS after the server's 220 to STARTTLS: the handshake goes out before any other
    /// byte, and the certificate is checked against `serverHostname` (or, for an IP address,
    /// against the address connected to).
    func startTLS(_ tls: NIOSSLContext, serverHostname: String?) async throws {
        let handler = handler
        let channel = channel
        do {
            try await channel.eventLoop.submit {
                try handler.value.checkNothingArrived()
                let tlsHandler = try NIOSSLClientHandler(context: tls, serverHostname: serverHostname)
                try channel.pipeline.syncOperations.addHandler(tlsHandler, position: .first)
            }.get()
        } catch {
            throw Self.describe(error, during: "STARTTLS", timeout: timeout)
        }
    }

    /// Closes the connection, whatever state it is in.
    func close() {
        channel.close(promise: nil)
    }

    private func write(_ bytes: [UInt8], endsPlaintext: Bool) -> EventLoopFuture<SMTPReply> {
        let promise = channel.eventLoop.makePromise(of: SMTPReply.self)
        let handler = handler
        let channel = channel
        channel.eventLoop.execute {
            guard handler.value.expect(promise, endsPlaintext: endsPlaintext) else { return }
            channel.writeAndFlush(ByteBuffer(bytes: bytes)).whenFailure { _ in channel.close(promise: nil) }
        }
        return promise.futureResult
    }

    private func reply(
        to step: String, _ future: EventLoopFuture<SMTPReply>, expecting codes: Set<Int>
    ) async throws -> SMTPReply {
        let reply: SMTPReply
        do {
            reply = try await future.get()
        } catch {
            throw Self.describe(error, during: step, timeout: timeout)
        }
        guard codes.contains(reply.code) else {
            let expected = codes.sorted().map { String($0) }.joined(separator: " or ")
            throw ProviderError(provider: "smtp", detail: "\(step) was answered \(reply.summary), expected \(expected)")
        }
        return reply
    }

    /// What went wrong during `step`, in words for the log and the operator.
    static func describe(_ error: any Error, during step: String, timeout: Int) -> ProviderError {
        if let error = error as? ProviderError { return error }
        let detail: String
        if let failure = error as? SMTPFailure {
            switch failure {
            case .timedOut: detail = "no answer to \(step) within \(timeout) seconds"
            case .closed: detail = "the server closed the connection during \(step)"
            case .malformedReply: detail = "the answer to \(step) is not an SMTP reply"
            case .unexpectedReply: detail = "the server sent a reply nobody asked for during \(step)"
            case .dataAfterSTARTTLS:
                detail = "the server sent more after its answer to STARTTLS, which could be an attacker's"
            }
        } else if error is NIOSSLError || error is NIOSSLExtraError {
            detail = "TLS failed during \(step): \(error)"
        } else {
            detail = "\(step) failed: \(error)"
        }
        return ProviderError(provider: "smtp", detail: detail)
    }
}
