import NIOCore
import NIOHTTP1

/// The exchange state of one upstream connection, apart from its channel: ``UpstreamHandler``
/// tells it what happened (a request began, part of the answer arrived, the answer's reader asked
/// for more or went away, the read timer fired, the connection failed) and carries out the action
/// it answers with. It holds no promise, stream or channel, and reads no clock: every time comes
/// in with the event.
///
/// One exchange at a time: `idle`, then `awaitingHead` from the moment the request is handed to
/// the channel, then `buffering` (a small answer of known length, read whole) or `streaming`
/// (anything else, passed on as it arrives), then `idle` again when the answer ended and the
/// connection may be reused, or `closed` once anything went wrong.
struct UpstreamConnectionStateMachine {
    /// Where the current exchange is.
    enum State: Equatable {
        /// No exchange: the connection is pooled, or waits for its next request.
        case idle
        /// The request went out; the answer's head has not arrived.
        case awaitingHead
        /// A small answer of known length, read whole before anyone gets it.
        case buffering(HTTPResponseHead, ByteBuffer)
        /// The answer's reader has its head and a stream of its body.
        case streaming
        /// The connection failed or was given up: it takes no more requests.
        case closed
    }

    /// What to do with a new request.
    enum BeginAction: Equatable {
        /// The connection cannot take it (it is busy or closed): fail it with
        /// ``UpstreamFailure/closed``.
        case refuse
        /// The exchange began: keep the waiting answer and time the upstream out at `deadline`.
        case start(timeoutAt: NIODeadline)
    }

    /// What to do with a part of the answer that arrived.
    enum ReadAction: Equatable {
        /// Nothing: an interim head, a head or part of a buffered answer, all kept here.
        case keepReading
        /// The head of an answer to stream: give the reader the head and a stream of the body,
        /// its demand marked with `exchange`.
        case startStream(HTTPResponseHead, exchange: Int)
        /// Pass this part of the streamed body to its reader.
        case yield(ByteBuffer)
        /// The answer ended.
        case finish(Finish)
        /// A part that does not fit the exchange: give it up.
        case fail(Failure)
    }

    /// What to do when the read timer fires.
    enum TimerAction: Equatable {
        /// No exchange is under way: let the timer go.
        case stop
        /// The upstream is not overdue (or reading waits for the reader): set the timer again.
        case rearm(at: NIODeadline)
        /// Nothing arrived for the read timeout: give the exchange up.
        case fail(Failure)
    }

    /// How an answer that ended cleanly is wound up, in this order: reading resumes if it was
    /// paused, the connection goes back to the pool or is closed, then the reader gets `delivery`.
    struct Finish: Equatable {
        /// What the reader gets.
        enum Delivery: Equatable {
            /// The whole buffered answer.
            case whole(HTTPResponseHead, ByteBuffer)
            /// The end of the streamed body.
            case endOfStream
        }

        /// Reading was paused for the reader and must be switched back on.
        var resumeReading: Bool
        /// The answer allowed keep-alive: the connection goes back to the pool; otherwise it closes.
        var reuse: Bool
        var delivery: Delivery
    }

    /// An exchange given up: the connection closes, and whoever waits learns `reason`.
    struct Failure: Equatable {
        /// Who waits for the exchange.
        enum Waiting: Equatable {
            /// The request's caller, for the answer's head or its whole body.
            case answer
            /// The reader of a streamed body.
            case stream
            /// Nobody: no exchange was under way.
            case nobody
        }

        var reason: UpstreamFailure
        var waiting: Waiting
    }

    /// How long the upstream may stay silent during an exchange.
    let readTimeout: TimeAmount
    private(set) var state = State.idle
    /// Counts exchanges on this connection.
    private(set) var exchange = 0
    /// Answers of known length up to this size are buffered; larger ones stream.
    private(set) var bufferLimit = 0
    /// Whether the current answer lets the connection be reused.
    private(set) var keepAlive = true
    /// Whether reading is paused because the reader of a streamed answer has enough.
    private(set) var paused = false
    /// The last time anything arrived during an exchange; set when an exchange begins.
    private(set) var lastRead = NIODeadline.uptimeNanoseconds(0)

    init(readTimeout: TimeAmount) {
        self.readTimeout = readTimeout
    }

    /// A request is handed to the connection at `now`.
    mutating func begin(bufferLimit: Int, now: NIODeadline) -> BeginAction {
        guard case .idle = state else { return .refuse }
        state = .awaitingHead
        exchange += 1
        self.bufferLimit = bufferLimit
        keepAlive = true
        lastRead = now
        return .start(timeoutAt: lastRead + readTimeout)
    }

    /// A part of the answer arrived at `now`; `allocator` makes the buffer of a buffered answer.
    mutating func received(
        _ part: HTTPClientResponsePart, now: NIODeadline, allocator: ByteBufferAllocator
    ) -> ReadAction {
        lastRead = now
        switch (part, state) {
        case (.head(let head), .awaitingHead) where head.status.code / 100 == 1 && head.status != .switchingProtocols:
            // An interim answer (such as 103 Early Hints): the real one follows.
            return .keepReading
        case (.head(let head), .awaitingHead):
            keepAlive = head.isKeepAlive
            let length = head.headers.first(name: "content-length").flatMap(Int.init)
            if let length, length <= bufferLimit {
                state = .buffering(head, allocator.buffer(capacity: length))
                return .keepReading
            }
            state = .streaming
            return .startStream(head, exchange: exchange)
        case (.body(var bytes), .buffering(let head, var buffer)):
            state = .closed  // let the buffer be uniquely referenced while appending
            buffer.writeBuffer(&bytes)
            state = .buffering(head, buffer)
            return .keepReading
        case (.body(let bytes), .streaming):
            return .yield(bytes)
        case (.end, .buffering(let head, let buffer)):
            return .finish(finishExchange(delivering: .whole(head, buffer)))
        case (.end, .streaming):
            return .finish(finishExchange(delivering: .endOfStream))
        default:
            return .fail(fail(.closed))
        }
    }

    /// The reader of a streamed answer has enough: whether reading stops until it asks for more
    /// (only while that answer streams); waiting for it is not the upstream's silence.
    mutating func readerHasEnough() -> Bool {
        guard case .streaming = state else { return false }
        paused = true
        return true
    }

    /// The reader of exchange `exchange` asks for more at `now`: whether reading resumes (it does
    /// only for the current exchange's stream, and only if it was paused).
    mutating func readerWantsMore(exchange: Int, now: NIODeadline) -> Bool {
        guard exchange == self.exchange, case .streaming = state, paused else { return false }
        paused = false
        lastRead = now
        return true
    }

    /// The reader of exchange `exchange` stopped before the end: the rest of the answer is not
    /// wanted. `nil` when that exchange's stream is no longer under way.
    mutating func readerGone(exchange: Int) -> Failure? {
        guard exchange == self.exchange, case .streaming = state else { return nil }
        return fail(.closed)
    }

    /// The read timer fired at `now`: one timer per exchange, failing it if nothing arrived for
    /// the read timeout (and reading was not paused for the reader), otherwise set again.
    mutating func timerFired(now: NIODeadline) -> TimerAction {
        switch state {
        case .awaitingHead, .buffering, .streaming: break
        case .idle, .closed: return .stop
        }
        let due = lastRead + readTimeout
        if paused || due > now {
            return .rearm(at: paused ? now + readTimeout : due)
        }
        return .fail(fail(.timedOut))
    }

    /// The connection failed, closed or is given up for `reason`: it takes no more requests.
    mutating func fail(_ reason: UpstreamFailure) -> Failure {
        let previous = state
        state = .closed
        switch previous {
        case .awaitingHead, .buffering:
            return Failure(reason: reason, waiting: .answer)
        case .streaming:
            return Failure(reason: reason, waiting: .stream)
        case .idle, .closed:
            return Failure(reason: reason, waiting: .nobody)
        }
    }

    private mutating func finishExchange(delivering delivery: Finish.Delivery) -> Finish {
        let resumeReading = paused
        paused = false
        // An answer that ends the connection leaves it to close: it takes no further request.
        state = keepAlive ? .idle : .closed
        return Finish(resumeReading: resumeReading, reuse: keepAlive, delivery: delivery)
    }
}
