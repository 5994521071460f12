import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP
import NIOCore
import NIOHTTP1

/// Where authenticated `/v1/*` calls go.
public enum Upstream: Sendable {
    /// The built-in development upstream.
    case echo
    /// An HTTP(S) base URL, such as `https://api.example.com`.
    case url(String)
}

/// Every `/v1/*` path Keywarden does not serve itself: authenticated by a project or
/// service-account key from the in-memory index, checked against the key's permissions, then
/// forwarded with bodies streamed both ways.
public struct Gateway: Sendable {
    let upstream: Upstream
    let upstreamAuthorization: String?
    let client: HTTPClient
    let maxEchoBody = 1 << 20

    /// Creates the gateway.
    ///
    /// - Parameters:
    ///   - upstreamAuthorization: replaces the caller's key on the way out (`Bearer ...`).
    ///   - client: an HTTP client whose connect and read timeouts bound every forwarded call.
    public init(upstream: Upstream, upstreamAuthorization: String?, client: HTTPClient) {
        self.upstream = upstream
        self.upstreamAuthorization = upstreamAuthorization
        self.client = client
    }

    /// Registers `/v1/**` for every method; Keywarden's own routes still win.
    public func addRoutes(to router: CatalogingRouter<KeywardenRequestContext>) {
        let group = router.group(context: APIKeyContext.self)
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
            group.on("/v1/**", method: method, use: forward)
        }
    }

    @Sendable func forward(_ request: Request, context: APIKeyContext) async throws -> Response {
        let path = request.uri.path
        try Self.authorize(context.apiKey, method: request.method, path: path)
        switch upstream {
        case .echo:
            return try await EchoUpstream().respond(to: request, path: path, maxBodySize: maxEchoBody)
        case .url(let base):
            return try await proxy(
                request, to: base, requestID: context.requestID, clientAddress: context.clientAddress)
        }
    }

    /// `read_only` keys may only read; `restricted` keys need `model.request` for model calls
    /// and `api.<resource>.read`/`.write` for the rest.
    static func authorize(_ key: APIKey, method: HTTPRequest.Method, path: String) throws {
        let reads = method == .get || method == .head
        switch key.permissions {
        case .all:
            return
        case .readOnly:
            guard reads else {
                throw DomainError(
                    .forbidden, code: "insufficient_permissions",
                    message: "This key is read-only: it can make GET requests only.")
            }
        case .restricted(let scopes):
            let resource = path.split(separator: "/").dropFirst().first.map(String.init) ?? ""
            let modelResources: Set<String> = [
                "chat", "completions", "embeddings", "responses", "audio", "images", "moderations",
            ]
            let needed =
                modelResources.contains(resource) && !reads
                ? "model.request" : "api.\(resource).\(reads ? "read" : "write")"
            let wildcard = "api.*.\(reads ? "read" : "write")"
            guard scopes.contains(needed) || scopes.contains(wildcard) else {
                throw DomainError(
                    .forbidden, code: "insufficient_permissions",
                    message: "This key lacks the scope '\(needed)' that \(method.rawValue) \(path) needs.")
            }
        }
    }

    /// Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1).
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer",
        "transfer-encoding", "upgrade",
    ]

    /// RFC 7239 `Forwarded`: the caller's address (IPv6 bracketed and quoted) and the protocol.
    static func forwarded(_ clientAddress: String?) -> String {
        guard let address = clientAddress else { return "proto=http" }
        let node = address.contains(":") ? "\"[\(address)]\"" : address
        return "for=\(node);proto=http"
    }

    func proxy(_ request: Request, to base: String, requestID: String, clientAddress: String?) async throws -> Response
    {
        let target = base.hasSuffix("/") ? String(base.dropLast()) : base
        var outbound = HTTPClientRequest(url: target + request.uri.path + (request.uri.query.map { "?" + $0 } ?? ""))
        outbound.method = HTTPMethod(rawValue: request.method.rawValue)
        let connectionTokens = Set(
            (request.headers[.connection] ?? "").split(separator: ",").map { $0.trimmingWhitespace().lowercased() })
        for field in request.headers {
            let name = field.name.canonicalName
            if Self.hopByHop.contains(name) || connectionTokens.contains(name) || name == "authorization"
                || name == "host" || name == "x-request-id" || name == "forwarded"
            {
                continue
            }
            outbound.headers.add(name: field.name.rawName, value: field.value)
        }
        if let upstreamAuthorization { outbound.headers.add(name: "Authorization", value: upstreamAuthorization) }
        outbound.headers.add(name: "x-request-id", value: requestID)
        outbound.headers.add(name: "Forwarded", value: Self.forwarded(clientAddress))
        let length = request.headers[.contentLength].flatMap(Int.init)
        if length != 0, request.method != .get, request.method != .head {
            outbound.body = .stream(request.body, length: length.map { .known(Int64($0)) } ?? .unknown)
        }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(outbound, timeout: .hours(1))
        } catch let error as HTTPClientError
            where error == .readTimeout || error == .deadlineExceeded || error == .connectTimeout
        {
            throw DomainError(
                .gatewayTimeout, code: "upstream_timeout",
                message: "The upstream API did not answer in time. Try again.")
        } catch {
            throw DomainError(
                .badGateway, code: "upstream_unavailable",
                message: "The upstream API could not be reached. Try again shortly.")
        }
        var headers = HTTPFields()
        for (name, value) in response.headers where !Self.hopByHop.contains(name.lowercased()) {
            if let fieldName = HTTPField.Name(name) { headers.append(HTTPField(name: fieldName, value: value)) }
        }
        return Response(
            status: .init(code: Int(response.status.code), reasonPhrase: response.status.reasonPhrase),
            headers: headers, body: ResponseBody(asyncSequence: response.body))
    }
}
