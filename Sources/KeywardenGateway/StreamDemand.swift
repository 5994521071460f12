import NIOCore

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
