import NIOCore

/// A request body passed on as it streams, ended with ``TooLarge`` once it has carried more
/// than `limit` bytes, so a body without a declared length is held to the same limit as one
/// with it.
struct BoundedBody<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer

    /// The body went past the limit.
    struct TooLarge: Error {}

    let base: Base
    let limit: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let limit: Int
        var carried = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else { return nil }
            carried += buffer.readableBytes
            guard carried <= limit else { throw TooLarge() }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), limit: limit)
    }
}
