import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers

/// Every route the application registers, as `(method, path template)`.
///
/// Routers do not list their routes, so the application registers through
/// ``CatalogingRouter``, which writes here. The catalog answers which methods a path
/// supports (for 405 responses) and lets a test compare the routes with `openapi.yaml`.
public final class RouteCatalog: Sendable {
    /// One registered route.
    public struct Route: Hashable, Sendable {
        /// The HTTP method.
        public var method: HTTPRequest.Method
        /// The path template, with parameters as `{name}`.
        public var path: String
    }

    private let storage = NIOLockedValueBox<[Route]>([])

    /// Creates an empty catalog.
    public init() {}

    /// The routes registered so far.
    public var routes: [Route] { storage.withLockedValue { $0 } }

    func record(method: HTTPRequest.Method, path: String) {
        // A trailing recursive wildcard is written `{path}`, as OpenAPI names it.
        let template = path.hasSuffix("/**") ? String(path.dropLast(2)) + Self.catchAllSegment : path
        storage.withLockedValue { $0.append(Route(method: method, path: template)) }
    }

    /// The last segment of a catch-all template.
    static let catchAllSegment = "{path}"

    /// Whether a catch-all route (the gateway's `/v1/{path}`) is registered.
    public var hasCatchAll: Bool {
        routes.contains { $0.path.hasSuffix("/" + Self.catchAllSegment) }
    }

    /// The methods a concrete path answers: those of the templates that match it segment for
    /// segment, or, when none does, those of a catch-all (`.../{path}`) that covers it. HEAD
    /// comes with GET.
    public func methods(matching path: String) -> Set<HTTPRequest.Method> {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var exact: Set<HTTPRequest.Method> = []
        var catchAll: Set<HTTPRequest.Method> = []
        for route in routes {
            var template = route.path.split(separator: "/", omittingEmptySubsequences: true)
            let isCatchAll = template.last.map { $0 == Self.catchAllSegment } ?? false
            if isCatchAll { template.removeLast() }
            // A catch-all covers one segment or more past its prefix; other templates match exactly.
            let lengthFits = isCatchAll ? segments.count > template.count : segments.count == template.count
            guard lengthFits, zip(template, segments).allSatisfy({ $0.hasPrefix("{") || $0 == $1 }) else { continue }
            if isCatchAll { catchAll.insert(route.method) } else { exact.insert(route.method) }
        }
        var methods = exact.isEmpty ? catchAll : exact
        if methods.contains(.get) { methods.insert(.head) }
        return methods
    }
}

/// A router front that records every route it registers in a ``RouteCatalog``.
public struct CatalogingRouter<Context: RequestContext>: RouterMethods {
    /// The wrapped router.
    public let router: Router<Context>
    /// Where routes are recorded.
    public let catalog: RouteCatalog

    /// Wraps a router.
    public init(_ router: Router<Context>, catalog: RouteCatalog) {
        self.router = router
        self.catalog = catalog
    }

    @discardableResult
    public func on<Responder: HTTPResponder>(
        _ path: RouterPath, method: HTTPRequest.Method, responder: Responder
    ) -> Self where Responder.Context == Context {
        catalog.record(method: method, path: path.description)
        router.on(path, method: method, responder: responder)
        return self
    }

    @discardableResult
    public func add(middleware: any MiddlewareProtocol<Request, Response, Context>) -> Self {
        router.add(middleware: middleware)
        return self
    }
}
