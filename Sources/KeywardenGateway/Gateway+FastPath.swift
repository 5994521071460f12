import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenHTTP
import NIOCore
import NIOHTTP1

/// The decisions of ``forward(_:context:)`` made without waiting, for the event-loop fast path:
/// a call is taken there only when each of them can be made from memory and lets it through.
/// Anything else (a refusal, a setting or lease that must be read, a body that streams) goes to
/// the router, which decides and answers exactly as it always has.
extension Gateway {
    /// A call the fast path can take, judged from its head.
    struct FastCall {
        let key: APIKey
        let method: HTTPRequest.Method
        let path: String
        /// The path and query sent upstream, as the router's route would send them.
        let pathAndQuery: String
        let segments: [String]
        /// The declared body length, `nil` when none is declared (and so there is no body).
        let declaredLength: Int?
        /// A JSON body the gateway reads to estimate its tokens.
        let readsBody: Bool
    }

    /// The methods the fast path carries. HEAD stays with the router, which knows how to answer
    /// one without a body whatever the upstream declares.
    static let fastMethods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete]

    /// The call in `head`, when it is one the fast path can carry: a plain-HTTP upstream, a
    /// gateway path, no streamed body (none, or JSON of a declared length the gateway reads
    /// anyway), a valid project or service-account key allowed from `peer`, its organization not
    /// suspended, the path well formed and the key's permissions granting it.
    func fastCall(_ head: HTTPRequest, peer: String?, index: APIKeyIndex, now: Date) -> FastCall? {
        guard lean != nil, Self.fastMethods.contains(head.method), let target = head.path, target.hasPrefix("/v1/")
        else { return nil }
        let path: String
        var pathAndQuery = target
        if let mark = target.firstIndex(of: "?") {
            path = String(target[..<mark])
            // The router drops an empty query.
            if target.index(after: mark) == target.endIndex { pathAndQuery = path }
        } else {
            path = target
        }
        guard !OwnPaths.contains(path) else { return nil }
        let fields = head.headerFields
        guard fields[.transferEncoding] == nil else { return nil }
        var declaredLength: Int?
        if let raw = fields[.contentLength] {
            guard let length = Int(raw), length >= 0, length <= maxEstimatedBody, length <= maxRequestBody else {
                return nil
            }
            declaredLength = length
        }
        let bodied = head.method == .post || head.method == .put || head.method == .patch
        let isJSON = fields[.contentType]?.lowercased().hasPrefix("application/json") ?? false
        let readsBody = bodied && isJSON && declaredLength != nil
        // A body the gateway would not read streams through the router's path.
        if (declaredLength ?? 0) > 0, !readsBody { return nil }
        guard let token = fields.bearerToken, !token.hasPrefix(SessionToken.prefix),
            case .valid(let key) = index.authenticate(token, from: peer, now: now), key.kind != .admin,
            suspended?.reason(for: key.organizationID) == nil,
            let segments = try? GatewayPath.segments(of: path),
            (try? Self.authorize(key, method: head.method, segments: segments, path: path)) != nil
        else { return nil }
        return FastCall(
            key: key, method: head.method, path: path, pathAndQuery: pathAndQuery, segments: segments,
            declaredLength: declaredLength, readsBody: readsBody)
    }

    /// What an admitted call carries to its settling.
    struct FastAdmission {
        let facts: CallFacts
        let scopeIDs: [String]
        let estimate: Int
        let status: RateLimiter.Status
        /// The body to send, when the call has one.
        let body: ByteBuffer?
    }

    /// Admits `call` with its whole `body` from memory, charging its rate limits, when its
    /// limits and spend are known here and let it through; `nil` otherwise, with nothing charged.
    func fastAdmit(_ call: FastCall, body: ByteBuffer?, now: Date) -> FastAdmission? {
        guard let scopes = limits.cachedScopes(for: call.key, now: now) else { return nil }
        let collected = call.readsBody ? (body ?? ByteBuffer()) : nil
        let estimate = collected.map(TokenEstimate.tokens(in:)) ?? 0
        let facts = CallFacts(key: call.key, method: call.method, segments: call.segments, collected: collected)
        if let pricing, needsCredit(facts, method: call.method, pricing: pricing),
            !pricing.spend.admitsFromMemory(
                organization: call.key.organizationID, project: call.key.projectID, now: now)
        {
            return nil
        }
        guard let status = limits.acquireInHand(scopes, tokens: estimate, now: now) else { return nil }
        return FastAdmission(
            facts: facts, scopeIDs: scopes.map(\.id), estimate: estimate, status: status, body: collected)
    }

    /// The head that goes upstream, as the lean client sends it.
    func fastUpstreamHead(
        _ call: FastCall, fields: HTTPFields, body: ByteBuffer?, requestID: String, peer: String?,
        client: UpstreamHTTP1Client
    ) -> HTTPRequestHead {
        client.requestHead(
            method: HTTPMethod(rawValue: call.method.rawValue), pathAndQuery: call.pathAndQuery,
            headers: upstreamHeaders(for: fields, requestID: requestID, clientAddress: peer), body: body)
    }
}
