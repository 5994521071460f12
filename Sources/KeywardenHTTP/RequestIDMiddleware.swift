import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import Logging
import Synchronization

/// Gives every request an id, returns it in `x-request-id`, counts and times it by route group
/// and status, and writes one access-log line.
///
/// Every answer also says `X-Content-Type-Options: nosniff`; Keywarden's own endpoints (which
/// hand out session tokens and keys, and show account data) say `Cache-Control: no-store`, so no
/// cache along the way keeps them. Answers the gateway relays keep the upstream's caching.
///
/// The log line holds the method, the path without its query, the status and the duration:
/// never headers or bodies, which may hold secrets.
public struct RequestIDMiddleware: RouterMiddleware {
    public typealias Context = KeywardenRequestContext

    let ids: RequestIDs
    let metrics: KeywardenMetrics
    let accessLog: AccessLog

    /// Creates the middleware.
    ///
    /// - Parameters:
    ///   - metrics: where requests are counted and timed.
    ///   - accessLog: where each request's line goes.
    ///   - ids: where request ids come from (shared with the gateway's fast path).
    public init(
        metrics: KeywardenMetrics = .off, accessLog: AccessLog = .logger(json: false), ids: RequestIDs = RequestIDs()
    ) {
        self.metrics = metrics
        self.accessLog = accessLog
        self.ids = ids
    }

    func nextID() -> String { ids.next() }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let id = nextID()
        context.requestID = id
        context.logger[metadataKey: "request_id"] = .string(id)
        let start = ContinuousClock.now
        var response = try await next(request, context)
        response.headers[.requestID] = id
        response.headers[.xContentTypeOptions] = "nosniff"
        if OwnPaths.contains(request.uri.path) { response.headers[.cacheControl] = "no-store" }
        Self.account(
            method: request.method.rawValue, path: request.uri.path, status: response.status.code,
            elapsed: ContinuousClock.now - start, requestID: id, logger: context.logger, metrics: metrics,
            accessLog: accessLog)
        return response
    }

    /// Counts and times an answered request by route group and status, and writes its
    /// access-log line: for the router's requests and the fast path's alike.
    public static func account(
        method: String, path: String, status: Int, elapsed: Duration, requestID: String, logger: Logger,
        metrics: KeywardenMetrics, accessLog: AccessLog
    ) {
        if !metrics.isOff {
            let group = RouteGroup.of(path)
            metrics.httpRequests.increment(group, statusLabel(status))
            metrics.httpDuration.record(elapsed, group)
        }
        accessLog.record(
            method: method, path: path, status: status, duration: elapsed, requestID: requestID, logger: logger)
    }
}

/// Request ids: this process's random prefix and a counter, unique without asking the operating
/// system for randomness on every request.
public final class RequestIDs: Sendable {
    private let prefix = "req_" + SecureRandom.base62(length: 12)
    private let counter = Atomic<UInt64>(0)

    public init() {}

    /// The next id.
    public func next() -> String {
        let number = counter.add(1, ordering: .relaxed).newValue
        return prefix + String(number, radix: 36)
    }
}

extension RequestIDMiddleware {
    /// Status codes as label values, made once, so counting a status allocates nothing.
    static let statusLabels: [String] = (0..<600).map(String.init)

    public static func statusLabel(_ code: Int) -> String {
        code >= 0 && code < statusLabels.count ? statusLabels[code] : "other"
    }
}

extension HTTPField.Name {
    /// Tells browsers not to guess a content type other than the one given.
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
}
