import NIOCore
import NIOHTTP1

/// Reads one answer at a time from the connection, reading from the socket only while someone
/// waits for data. What the exchange is at is kept by an ``UpstreamConnectionStateMachine``; the
/// handler holds what belongs to the channel (the waiting answer, the body's stream, the timer)
/// and carries out the machine's actions.
final class UpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias BodySource = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, UpstreamHTTP1Client.Backpressure, StreamDemand
    >.Source

    var machine: UpstreamConnectionStateMachine
    /// Who waits for the answer's head (and, when small, its body), while the machine awaits the
    /// head or buffers.
    var answer: EventLoopPromise<UpstreamHTTP1Client.Answer>?
    /// Where a streamed body goes, while the machine streams.
    var source: BodySource?
    var timeout: Scheduled<Void>?
    var context: ChannelHandlerContext?
    var connection: UpstreamConnection?

    init(readTimeout: TimeAmount) {
        self.machine = UpstreamConnectionStateMachine(readTimeout: readTimeout)
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
        guard context != nil else {
            answer.fail(UpstreamFailure.closed)
            return
        }
        switch machine.begin(bufferLimit: bufferLimit, now: .now()) {
        case .refuse:
            answer.fail(UpstreamFailure.closed)
        case .start(let deadline):
            self.answer = answer
            self.connection = connection
            armTimeout(at: deadline)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let action = machine.received(unwrapInboundIn(data), now: .now(), allocator: context.channel.allocator)
        switch action {
        case .keepReading:
            break
        case .startStream(let head, let exchange):
            let produced = NIOThrowingAsyncSequenceProducer.makeSequence(
                elementType: ByteBuffer.self, failureType: (any Error).self,
                backPressureStrategy: UpstreamHTTP1Client.Backpressure(lowWatermark: 2, highWatermark: 8),
                finishOnDeinit: true,
                delegate: StreamDemand(handler: NIOLoopBound(self, eventLoop: context.eventLoop), exchange: exchange))
            source = produced.source
            takeAnswer()?.succeed(.init(head: head, body: .stream(produced.sequence)))
        case .yield(let part):
            if source?.yield(part) == .stopProducing, machine.readerHasEnough() {
                context.channel.setOption(.autoRead, value: false).whenFailure { _ in }
            }
        case .finish(let finish):
            finishExchange(finish)
        case .fail(let failure):
            fail(failure, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(machine.fail(.closed), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(machine.fail(.closed), context: context)
    }

    /// The reader wants more of a streamed body.
    func demand(exchange: Int) {
        guard let context, machine.readerWantsMore(exchange: exchange, now: .now()) else { return }
        context.channel.setOption(.autoRead, value: true).whenFailure { _ in }
    }

    /// The reader stopped before the end: the rest of the answer is not wanted.
    func readerGone(exchange: Int) {
        guard let context, let failure = machine.readerGone(exchange: exchange) else { return }
        fail(failure, context: context)
    }

    /// The waiting answer, no longer kept.
    private func takeAnswer() -> EventLoopPromise<UpstreamHTTP1Client.Answer>? {
        defer { answer = nil }
        return answer
    }

    /// The body's stream, no longer kept.
    private func takeSource() -> BodySource? {
        defer { source = nil }
        return source
    }

    private func finishExchange(_ finish: UpstreamConnectionStateMachine.Finish) {
        timeout?.cancel()
        timeout = nil
        if finish.resumeReading {
            context?.channel.setOption(.autoRead, value: true).whenFailure { _ in }
        }
        let connection = connection
        self.connection = nil
        if finish.reuse, let connection {
            connection.pool.checkIn(connection)
        } else {
            context?.close(promise: nil)
        }
        switch finish.delivery {
        case .whole(let head, let buffer):
            takeAnswer()?.succeed(.init(head: head, body: .whole(buffer)))
        case .endOfStream:
            takeSource()?.finish()
        }
    }

    private func fail(_ failure: UpstreamConnectionStateMachine.Failure, context: ChannelHandlerContext) {
        timeout?.cancel()
        timeout = nil
        connection = nil
        switch failure.waiting {
        case .answer:
            takeAnswer()?.fail(failure.reason)
        case .stream:
            takeSource()?.finish(failure.reason)
        case .nobody:
            break
        }
        context.close(promise: nil)
    }

    /// One timer per exchange: when it fires, the machine says whether the exchange fails or the
    /// timer is set again.
    private func armTimeout(at deadline: NIODeadline) {
        guard let context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timeout = context.eventLoop.scheduleTask(deadline: deadline) {
            let handler = loopBound.value
            guard let context = handler.context else { return }
            switch handler.machine.timerFired(now: .now()) {
            case .stop:
                return
            case .rearm(let deadline):
                handler.armTimeout(at: deadline)
            case .fail(let failure):
                handler.fail(failure, context: context)
            }
        }
    }
}
