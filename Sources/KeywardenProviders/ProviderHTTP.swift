import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The one way providers talk HTTP: a bounded request, a bounded body, and errors that say
/// what failed without repeating what was sent (which holds phone numbers).
struct ProviderHTTP: Sendable {
    let provider: String
    let client: HTTPClient
    let timeout: TimeAmount

    struct Reply {
        let status: Int
        let body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:] }
    }

    func send(
        _ method: HTTPMethod, _ url: String, headers: [(String, String)], body: String?, contentType: String?
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType ?? "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: timeout)
        } catch {
            throw ProviderErrorDetail.unreachable(provider, error)
        }
        let buffer = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: Int(response.status.code), body: Data(buffer.readableBytesView))
    }

    static func basicAuthorization(user: String, password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }
}

enum ProviderErrorDetail {
    static func unreachable(_ provider: String, _ error: any Error) -> KeywardenProviderError {
        KeywardenProviderError(provider: provider, detail: "request failed: \(type(of: error))")
    }

    /// A refusal from Twilio: its status and error code only; its message may quote the number.
    static func twilio(_ reply: ProviderHTTP.Reply) -> KeywardenProviderError {
        let code = reply.json["code"].map { "\($0)" } ?? "none"
        return KeywardenProviderError(provider: "twilio", detail: "HTTP \(reply.status), Twilio error \(code)")
    }
}
