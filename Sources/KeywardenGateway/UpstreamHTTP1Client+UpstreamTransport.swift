import HTTPTypes
import Hummingbird
import KeywardenCore
import NIOCore
import NIOHTTP1

extension UpstreamHTTP1Client: UpstreamTransport {
    /// Sends a call whose body is in memory (the gateway gives the lean client no other): the
    /// client sets `Host` and `Content-Length` itself, and the body goes out with the head, so
    /// the caller's `Expect` is dropped.
    func forward(_ request: UpstreamRequest) async throws -> UpstreamAnswer {
        let body: ByteBuffer?
        switch request.body {
        case .empty:
            body = nil
        case .inMemory(let buffer):
            body = buffer
        case .streamed:
            // Gateway.transport(for:) never picks this client for a streamed body; should that
            // change by mistake, the call fails alone rather than the process.
            throw DomainError.upstreamUnavailable
        }
        let head = requestHead(
            method: HTTPMethod(rawValue: request.method.rawValue), pathAndQuery: request.pathAndQuery,
            headers: request.headers, body: body)
        let answer: Answer
        do {
            answer = try await execute(head, body: body)
        } catch UpstreamFailure.timedOut {
            throw DomainError.upstreamTimeout
        } catch {
            throw DomainError.upstreamUnavailable
        }
        let status = HTTPResponse.Status(
            code: Int(answer.head.status.code), reasonPhrase: answer.head.status.reasonPhrase)
        switch answer.body {
        case .whole(let whole):
            return UpstreamAnswer(status: status, headers: answer.head.headers, body: .whole(whole))
        case .stream(let parts):
            return UpstreamAnswer(
                status: status, headers: answer.head.headers, body: .stream(ResponseBody(asyncSequence: parts)))
        }
    }
}
