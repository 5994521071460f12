import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore

/// Reads `Authorization: Bearer sess_...`, checks the session, and records who is signed in.
///
/// A missing or invalid token is not refused here: routes that need a person take a
/// ``SignedInContext``, which refuses the request with `unauthenticated`.
public struct SessionAuthenticator: RouterMiddleware {
    public typealias Context = KeywardenRequestContext

    let accounts: AccountService

    /// Creates the middleware.
    public init(accounts: AccountService) {
        self.accounts = accounts
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        if let token = request.headers.bearerToken,
            let session = try await accounts.authenticate(token: token)
        {
            context.identity = SignedInIdentity(
                session: session,
                memberships: try await accounts.memberships(of: session.user.id),
                requestedOrganization: request.headers[.keywardenOrganization])
        }
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    /// Names the organization a request is about.
    public static let keywardenOrganization = HTTPField.Name("Keywarden-Organization")!
    /// Carries the request id on every response.
    public static let requestID = HTTPField.Name("x-request-id")!
}

extension HTTPFields {
    /// The token of an `Authorization: Bearer ...` header.
    public var bearerToken: String? {
        guard let value = self[.authorization] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingWhitespace()
    }
}
