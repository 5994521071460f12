import NIOCore
import NIOHTTP1
import Testing

@testable import KeywardenGateway

/// The exchange rules of one lean-client connection to the upstream, without a channel. Mutating
/// calls are made before `#expect`, never inside it.
@Suite("Upstream connection state machine")
struct UpstreamConnectionStateMachineTests {
    typealias Machine = UpstreamConnectionStateMachine

    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    let readTimeout = TimeAmount.seconds(5)
    let allocator = ByteBufferAllocator()

    /// A machine whose first request went out at `start`.
    func begun(bufferLimit: Int = 16) -> Machine {
        var machine = Machine(readTimeout: readTimeout)
        _ = machine.begin(bufferLimit: bufferLimit, now: start)
        return machine
    }

    /// A machine streaming the answer to its first request, whose head arrived at `start`.
    func streamingMachine() -> Machine {
        var machine = begun()
        _ = machine.received(.head(responseHead()), now: start, allocator: allocator)
        return machine
    }

    func responseHead(
        _ status: HTTPResponseStatus = .ok, _ headers: [(String, String)] = [], version: HTTPVersion = .http1_1
    ) -> HTTPResponseHead {
        HTTPResponseHead(version: version, status: status, headers: HTTPHeaders(headers))
    }

    /// Feeds `part` to `machine` at `start` and returns the machine's action.
    func feed(_ machine: inout Machine, _ part: HTTPClientResponsePart) -> Machine.ReadAction {
        machine.received(part, now: start, allocator: allocator)
    }

    /// Feeds a whole answer and returns the action its end brings.
    func answer(_ machine: inout Machine, _ head: HTTPResponseHead, body: String) -> Machine.ReadAction {
        _ = feed(&machine, .head(head))
        _ = feed(&machine, .body(ByteBuffer(string: body)))
        return feed(&machine, .end(nil))
    }

    /// The end of a buffered answer: `body` delivered whole with `head`.
    func deliveredWhole(_ head: HTTPResponseHead, _ body: String, reuse: Bool) -> Machine.ReadAction {
        .finish(.init(resumeReading: false, reuse: reuse, delivery: .whole(head, ByteBuffer(string: body))))
    }

    @Test func aRequestOnAnIdleConnectionStartsTheReadTimer() {
        var machine = Machine(readTimeout: readTimeout)
        let action = machine.begin(bufferLimit: 16, now: start)
        #expect(action == .start(timeoutAt: start + readTimeout))
        #expect(machine.state == .awaitingHead)
        #expect(machine.exchange == 1)
    }

    @Test func aConnectionWithAnExchangeUnderWayRefusesAnotherRequest() {
        var machine = begun()
        let action = machine.begin(bufferLimit: 16, now: start)
        #expect(action == .refuse)
        #expect(machine.state == .awaitingHead)
        #expect(machine.exchange == 1)
    }

    @Test func aClosedConnectionRefusesRequests() {
        var machine = begun()
        _ = machine.fail(.closed)
        let action = machine.begin(bufferLimit: 16, now: start)
        #expect(action == .refuse)
        #expect(machine.state == .closed)
    }

    @Test func aSmallAnswerOfKnownLengthIsDeliveredWholeAndTheConnectionReused() {
        var machine = begun()
        let head = responseHead(.ok, [("content-length", "5")])
        let afterHead = feed(&machine, .head(head))
        let afterFirstPart = feed(&machine, .body(ByteBuffer(string: "hel")))
        let afterSecondPart = feed(&machine, .body(ByteBuffer(string: "lo")))
        let end = feed(&machine, .end(nil))
        #expect(afterHead == .keepReading)
        #expect(afterFirstPart == .keepReading)
        #expect(afterSecondPart == .keepReading)
        #expect(end == deliveredWhole(head, "hello", reuse: true))
        #expect(machine.state == .idle)
    }

    @Test func anAnswerOfExactlyTheBufferLimitIsBuffered() {
        var machine = begun(bufferLimit: 4)
        let head = responseHead(.ok, [("content-length", "4")])
        let action = feed(&machine, .head(head))
        #expect(action == .keepReading)
        #expect(machine.state == .buffering(head, ByteBuffer()))
    }

    @Test func anAnswerLargerThanTheBufferLimitStreams() {
        var machine = begun(bufferLimit: 4)
        let head = responseHead(.ok, [("content-length", "5")])
        let part = ByteBuffer(string: "hello")
        let afterHead = feed(&machine, .head(head))
        let afterPart = feed(&machine, .body(part))
        let end = feed(&machine, .end(nil))
        #expect(afterHead == .startStream(head, exchange: 1))
        #expect(afterPart == .yield(part))
        #expect(end == .finish(.init(resumeReading: false, reuse: true, delivery: .endOfStream)))
        #expect(machine.state == .idle)
    }

    @Test func anAnswerWithoutADeclaredLengthStreams() {
        var machine = begun()
        let head = responseHead(.ok, [("transfer-encoding", "chunked")])
        let action = feed(&machine, .head(head))
        #expect(action == .startStream(head, exchange: 1))
        #expect(machine.state == .streaming)
    }

    @Test func aResponseWithConnectionCloseIsNotReused() {
        var machine = begun()
        let head = responseHead(.ok, [("content-length", "2"), ("connection", "close")])
        let end = answer(&machine, head, body: "ok")
        #expect(end == deliveredWhole(head, "ok", reuse: false))
        #expect(machine.state == .closed)
    }

    @Test func aStreamedAnswerWithConnectionCloseLeavesTheConnectionClosed() {
        var machine = begun()
        let head = responseHead(.ok, [("transfer-encoding", "chunked"), ("connection", "close")])
        _ = feed(&machine, .head(head))
        let end = feed(&machine, .end(nil))
        #expect(end == .finish(.init(resumeReading: false, reuse: false, delivery: .endOfStream)))
        #expect(machine.state == .closed)
    }

    @Test func aReaderHasEnoughOnlyWhileAnAnswerStreams() {
        var buffering = begun()
        _ = feed(&buffering, .head(responseHead(.ok, [("content-length", "2")])))
        let pausedWhileBuffering = buffering.readerHasEnough()
        var streaming = streamingMachine()
        let pausedWhileStreaming = streaming.readerHasEnough()
        #expect(!pausedWhileBuffering)
        #expect(pausedWhileStreaming)
    }

    @Test func anHTTP10AnswerWithoutKeepAliveIsNotReused() {
        var machine = begun()
        let head = responseHead(.ok, [("content-length", "2")], version: .http1_0)
        let end = answer(&machine, head, body: "ok")
        #expect(end == deliveredWhole(head, "ok", reuse: false))
    }

    @Test func anInterimAnswerIsPassedOverForTheRealOne() {
        var machine = begun()
        let hints = responseHead(.custom(code: 103, reasonPhrase: "Early Hints"), [("link", "</app.css>; rel=preload")])
        let real = responseHead(.ok)
        let afterHints = feed(&machine, .head(hints))
        let stateAfterHints = machine.state
        let afterReal = feed(&machine, .head(real))
        #expect(afterHints == .keepReading)
        #expect(stateAfterHints == .awaitingHead)
        #expect(afterReal == .startStream(real, exchange: 1))
    }

    @Test func switchingProtocolsIsTakenAsTheAnswerNotAnInterimOne() {
        var machine = begun()
        let switching = responseHead(.switchingProtocols, [("upgrade", "websocket")])
        let action = feed(&machine, .head(switching))
        #expect(action == .startStream(switching, exchange: 1))
    }

    @Test func aPartArrivingOutsideAnExchangeClosesTheConnection() {
        var machine = Machine(readTimeout: readTimeout)
        let action = feed(&machine, .body(ByteBuffer(string: "late")))
        #expect(action == .fail(.init(reason: .closed, waiting: .nobody)))
        #expect(machine.state == .closed)
    }

    @Test func aSecondHeadDuringAStreamFailsTheStream() {
        var machine = streamingMachine()
        let action = feed(&machine, .head(responseHead()))
        #expect(action == .fail(.init(reason: .closed, waiting: .stream)))
        #expect(machine.state == .closed)
    }

    @Test func aFailureBeforeTheAnswerIsCompleteFailsWhoeverWaitsForIt() {
        var awaitingHead = begun()
        let beforeHead = awaitingHead.fail(.closed)
        #expect(beforeHead == .init(reason: .closed, waiting: .answer))

        var buffering = begun()
        _ = feed(&buffering, .head(responseHead(.ok, [("content-length", "5")])))
        let whileBuffering = buffering.fail(.closed)
        #expect(whileBuffering == .init(reason: .closed, waiting: .answer))

        var streaming = streamingMachine()
        let whileStreaming = streaming.fail(.closed)
        #expect(whileStreaming == .init(reason: .closed, waiting: .stream))

        var idle = Machine(readTimeout: readTimeout)
        let betweenExchanges = idle.fail(.closed)
        #expect(betweenExchanges == .init(reason: .closed, waiting: .nobody))
        #expect(idle.state == .closed)
    }

    @Test func aStreamPausedForItsReaderEndsWithReadingSwitchedBackOn() {
        var machine = streamingMachine()
        _ = machine.readerHasEnough()
        let end = feed(&machine, .end(nil))
        #expect(end == .finish(.init(resumeReading: true, reuse: true, delivery: .endOfStream)))
        #expect(!machine.paused)
    }

    @Test func readingResumesOnDemandOnlyWhenItWasPaused() {
        var machine = streamingMachine()
        let unpaused = machine.readerWantsMore(exchange: 1, now: start)
        _ = machine.readerHasEnough()
        let paused = machine.readerWantsMore(exchange: 1, now: start + .seconds(30))
        let resumedAlready = machine.readerWantsMore(exchange: 1, now: start + .seconds(40))
        #expect(!unpaused)
        #expect(paused)
        #expect(!resumedAlready)
        #expect(machine.lastRead == start + .seconds(30))
    }

    @Test func signalsFromAnEarlierExchangesReaderLeaveTheNextExchangeAlone() {
        var machine = streamingMachine()
        _ = feed(&machine, .end(nil))
        _ = machine.begin(bufferLimit: 16, now: start)
        let head = responseHead()
        let afterHead = feed(&machine, .head(head))
        _ = machine.readerHasEnough()
        let resumed = machine.readerWantsMore(exchange: 1, now: start)
        let failure = machine.readerGone(exchange: 1)
        #expect(afterHead == .startStream(head, exchange: 2))
        #expect(!resumed)
        #expect(failure == nil)
        #expect(machine.paused)
        #expect(machine.state == .streaming)
    }

    @Test func aReaderLeavingBeforeTheEndClosesTheConnection() {
        var machine = streamingMachine()
        let failure = machine.readerGone(exchange: 1)
        #expect(failure == Machine.Failure(reason: .closed, waiting: .stream))
        #expect(machine.state == .closed)
    }

    @Test func aReaderLeavingAfterTheEndKeepsTheConnection() {
        var machine = streamingMachine()
        _ = feed(&machine, .end(nil))
        let failure = machine.readerGone(exchange: 1)
        #expect(failure == nil)
        #expect(machine.state == .idle)
    }

    @Test func anUpstreamSilentForTheReadTimeoutTimesOut() {
        var machine = begun()
        let action = machine.timerFired(now: start + readTimeout)
        #expect(action == .fail(.init(reason: .timedOut, waiting: .answer)))
        #expect(machine.state == .closed)
    }

    @Test func theTimerIsSetAgainFromTheLastArrival() {
        var machine = begun()
        _ = machine.received(.head(responseHead()), now: start + .seconds(2), allocator: allocator)
        let action = machine.timerFired(now: start + readTimeout)
        #expect(action == .rearm(at: start + .seconds(2) + readTimeout))
        #expect(machine.state == .streaming)
    }

    @Test func aReaderThatHasEnoughIsNotTheUpstreamsSilence() {
        var machine = streamingMachine()
        _ = machine.readerHasEnough()
        let action = machine.timerFired(now: start + .seconds(60))
        #expect(action == .rearm(at: start + .seconds(60) + readTimeout))
        #expect(machine.state == .streaming)
    }

    @Test func theTimerStopsOnceTheExchangeIsOver() {
        var finished = begun()
        _ = answer(&finished, responseHead(.ok, [("content-length", "2")]), body: "ok")
        let afterAnswer = finished.timerFired(now: start + .seconds(60))
        #expect(afterAnswer == .stop)
        #expect(finished.state == .idle)

        var closed = begun()
        _ = closed.fail(.closed)
        let afterFailure = closed.timerFired(now: start + .seconds(60))
        #expect(afterFailure == .stop)
    }

    @Test func eachRequestBuffersUpToItsOwnLimit() {
        var machine = begun(bufferLimit: 16)
        _ = answer(&machine, responseHead(.ok, [("content-length", "2")]), body: "ok")
        _ = machine.begin(bufferLimit: 4, now: start)
        let head = responseHead(.ok, [("content-length", "10")])
        let action = feed(&machine, .head(head))
        #expect(action == .startStream(head, exchange: 2))
    }
}
