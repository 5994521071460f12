import NIOCore

/// Hands each reply of the server to the one command waiting for it, within `smtp_timeout`.
///
/// Keywarden sends one command at a time, so a reply that comes when no command waits is the
/// server (or someone between) speaking out of turn, and ends the connection; so do bytes that
/// come after the reply to STARTTLS, which an attacker could have put there before TLS begins.
/// Once the connection has failed, every later command fails with the first reason.
final class SMTPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var parser = SMTPReplyParser()
    private var waiting: EventLoopPromise<SMTPReply>?
    /// The waiting reply is the last one in plain text: nothing may follow it before TLS.
    private var endsPlaintext = false
    private var failure: (any Error)?
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    private let timeout: TimeAmount

    /// A handler that first waits for the server's greeting.
    init(timeout: TimeAmount, greeting: EventLoopPromise<SMTPReply>) {
        self.timeout = timeout
        self.waiting = greeting
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { armTimer() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(SMTPFailure.closed)
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        armTimer()
        context.fireChannelActive()
    }

    /// Waits for the reply to a command about to be written; `false` when the connection has
    /// failed already (the promise is then failed).
    func expect(_ promise: EventLoopPromise<SMTPReply>, endsPlaintext: Bool) -> Bool {
        if let failure {
            promise.fail(failure)
            return false
        }
        guard context != nil, waiting == nil else {
            promise.fail(SMTPFailure.closed)
            return false
        }
        waiting = promise
        self.endsPlaintext = endsPlaintext
        armTimer()
        return true
    }

    /// Refuses to begin TLS when anything came after the reply to STARTTLS.
    func checkNothingArrived() throws {
        if let failure { throw failure }
        if parser.hasBufferedBytes { throw SMTPFailure.dataAfterSTARTTLS }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        parser.append(buffer.readBytes(length: buffer.readableBytes) ?? [])
        do {
            while let reply = try parser.next() {
                guard let promise = waiting else { throw SMTPFailure.unexpectedReply }
                if endsPlaintext, parser.hasBufferedBytes { throw SMTPFailure.dataAfterSTARTTLS }
                waiting = nil
                endsPlaintext = false
                timer?.cancel()
                timer = nil
                promise.succeed(reply)
            }
        } catch {
            fail(error, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(SMTPFailure.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error, context: context)
    }

    /// Records the first reason the connection failed, fails the waiting command with it, and
    /// closes the connection.
    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        finish(error)
        context.close(promise: nil)
    }

    private func finish(_ error: any Error) {
        if failure == nil { failure = error }
        timer?.cancel()
        timer = nil
        let promise = waiting
        waiting = nil
        promise?.fail(failure ?? error)
    }

    private func armTimer() {
        guard let context, waiting != nil else { return }
        timer?.cancel()
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            let handler = loopBound.value
            guard let context = handler.context, handler.waiting != nil else { return }
            handler.fail(SMTPFailure.timedOut, context: context)
        }
    }
}
