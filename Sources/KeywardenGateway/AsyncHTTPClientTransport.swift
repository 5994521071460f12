import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import KeywardenCore
import NIOCore
import NIOHTTP1

/// Calls through AsyncHTTPClient: every call to a TLS upstream, streamed uploads, and every call
/// when the lean client is turned off.
struct AsyncHTTPClientTransport: UpstreamTransport {
    let client: HTTPClient
    /// The upstream's base URL, without a trailing slash.
    let target: String
    /// Answers up to this size with a declared length are read whole before being sent on.
    let maxBufferedAnswer: Int

    init(client: HTTPClient, baseURL base: String, maxBufferedAnswer: Int) {
        self.client = client
        self.target = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.maxBufferedAnswer = maxBufferedAnswer
    }

    func forward(_ request: UpstreamRequest) async throws -> UpstreamAnswer {
        var outbound = HTTPClientRequest(url: target + request.pathAndQuery)
        outbound.method = HTTPMethod(rawValue: request.method.rawValue)
        outbound.headers = request.headers
        switch request.body {
        case .inMemory(let body):
            outbound.body = .bytes(body)
        case .streamed(let body, let length) where request.method != .get && request.method != .head:
            outbound.body = .stream(body, length: length.map { .known(Int64($0)) } ?? .unknown)
        case .streamed, .empty:
            break
        }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(outbound, timeout: .hours(1))
        } catch let error as BoundedBody<RequestBody>.TooLarge {
            throw error
        } catch let error as HTTPClientError
            where error == .readTimeout || error == .deadlineExceeded || error == .connectTimeout
        {
            throw DomainError.upstreamTimeout
        } catch {
            throw DomainError.upstreamUnavailable
        }
        let status = HTTPResponse.Status(code: Int(response.status.code), reasonPhrase: response.status.reasonPhrase)
        // A small answer of known length is read whole and sent in one write; anything else
        // (streams, downloads) is relayed part by part as it arrives.
        if let length = response.headers.first(name: "content-length").flatMap(Int.init), length <= maxBufferedAnswer {
            do {
                let body = try await response.body.collect(upTo: length)
                return UpstreamAnswer(status: status, headers: response.headers, body: .whole(body))
            } catch {
                throw DomainError.upstreamUnavailable
            }
        }
        return UpstreamAnswer(
            status: status, headers: response.headers, body: .stream(ResponseBody(asyncSequence: response.body)))
    }
}
