import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import Logging
import NIOCore
import NIOHTTP1

/// Turns every error into a response in the error envelope, and tells a wrong method (405)
/// apart from an unknown path (404) by asking the ``RouteCatalog``.
public struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let catalog: RouteCatalog
    let notFoundPage: (@Sendable (Request) -> Response?)?

    /// Creates the middleware over the catalog of the router it is added to.
    ///
    /// - Parameter notFoundPage: answers an unknown path that is not the API's with a page
    ///   (`nil` from it leaves the JSON answer).
    public init(catalog: RouteCatalog, notFoundPage: (@Sendable (Request) -> Response?)? = nil) {
        self.catalog = catalog
        self.notFoundPage = notFoundPage
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return translate(error, request: request, logger: context.logger)
        }
    }

    func translate(_ error: any Error, request: Request, logger: Logger) -> Response {
        switch error {
        case let domain as DomainError:
            return domain.response()
        case is NIOTooManyBytesError:
            return DomainError.payloadTooLarge.response()
        case is HTTPParserError, is IOError, is ChannelError:
            // The client sent a body that does not parse (a broken chunk) or left in the middle of
            // it: its fault, not the server's, and the connection is finished either way.
            logger.debug("request body could not be read", metadata: ["error.type": "\(type(of: error))"])
            var headers = HTTPFields()
            headers[.connection] = "close"
            return DomainError(
                .invalidRequest, code: .badRequest,
                message: "The request body could not be read: it was malformed or ended early."
            ).response(extraHeaders: headers)
        case let http as HTTPError where http.status == .notFound:
            return notFound(request)
        case let http as any HTTPResponseError:
            if http.status == .contentTooLarge { return DomainError.payloadTooLarge.response() }
            let message =
                http.status.code < 500
                ? "The request could not be handled: \(http.status.reasonPhrase)."
                : "The server failed to handle the request."
            let refusal =
                http.status.code < 500
                ? DomainError(.invalidRequest, code: .badRequest, message: message)
                : DomainError(.internal, code: .serverError, message: message)
            var response = refusal.response()
            response.status = http.status
            return response
        default:
            // Unexpected errors are logged by type only: their descriptions may hold
            // request data, and request data may hold secrets.
            logger.error("unhandled error", metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
            return DomainError(
                .internal, code: .serverError,
                message: "The server had an error while processing your request. Try again."
            ).response()
        }
    }

    func notFound(_ request: Request) -> Response {
        let path = request.uri.path
        let allowed = catalog.methods(matching: path)
        if !allowed.isEmpty {
            let list = allowed.map(\.rawValue).sorted().joined(separator: ", ")
            var headers = HTTPFields()
            headers[.allow] = list
            return DomainError(
                .methodNotAllowed, code: .methodNotAllowed,
                message: "\(request.method.rawValue) is not supported on \(path). Use \(list)."
            ).response(extraHeaders: headers)
        }
        if let page = notFoundPage?(request) { return page }
        // Without an upstream nothing serves the rest of /v1: say how to turn the gateway on.
        let gatewayOff =
            path.hasPrefix("/v1/") && !OwnPaths.contains(path) && !catalog.hasCatchAll
        let hint =
            gatewayOff
            ? " The gateway is off, so no /v1 call is forwarded: start the server with --upstream URL (or --upstream echo)."
            : " See /openapi.yaml for the API."
        return DomainError(
            .notFound, code: .unknownUrl,
            message: "Unknown request URL: \(request.method.rawValue) \(path).\(hint)"
        ).response()
    }
}
