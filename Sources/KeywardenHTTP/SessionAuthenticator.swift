import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore

/// Reads `Authorization: Bearer ...`: a session token (`sess_...`), an admin key, or a project
/// or service-account key, and records who is acting.
///
/// Nothing is refused here: each route takes a context (``SignedInContext``,
/// ``OrganizationContext``, ``APIKeyContext``) that refuses a request without the credential it
/// needs. Keys are checked against the in-memory index, so this costs no storage round trip.
public struct SessionAuthenticator: RouterMiddleware {
    public typealias Context = KeywardenRequestContext

    let accounts: AccountService
    let keys: APIKeyIndex
    let clock: Clock

    /// Creates the middleware.
    public init(accounts: AccountService, keys: APIKeyIndex, clock: Clock = .live) {
        self.accounts = accounts
        self.keys = keys
        self.clock = clock
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        guard let token = request.headers.bearerToken else { return try await next(request, context) }
        let requested = request.headers[.keywardenOrganization]
        if token.hasPrefix(SessionToken.prefix) {
            if let session = try await accounts.authenticate(token: token) {
                context.identity = SignedInIdentity(
                    user: session.user, credential: .session(session.session),
                    memberships: try await accounts.memberships(of: session.user.id), requestedOrganization: requested)
            }
        } else {
            // A key refused for its address is passed on all the same: the context that takes it
            // refuses it (403 `ip_not_allowed`) after the refusals that come first. The index did
            // not count it as a use.
            switch keys.authenticate(token, from: context.clientAddress, now: clock.now()) {
            case .valid(let key) where key.kind == .admin, .addressNotAllowed(let key) where key.kind == .admin:
                // An admin key acts for its owner while they are still an owner of its
                // organization: one made in the instant its owner was demoted gets no further.
                if case .user(let owner) = key.owner, let user = try await accounts.user(owner),
                    let membership = try await accounts.memberships(of: owner).first(where: {
                        $0.organization.id == key.organizationID && $0.role == .owner
                    })
                {
                    context.identity = SignedInIdentity(
                        user: user, credential: .adminKey(key), memberships: [membership],
                        requestedOrganization: requested)
                }
            case .valid(let key), .addressNotAllowed(let key):
                context.apiKey = key
            case .invalid(let reason):
                context.apiKeyRefusal = (reason, Self.mask(token))
            }
        }
        return try await next(request, context)
    }

    /// The key with its middle hidden: `sk-proj-****Xk3a`.
    static func mask(_ token: String) -> String {
        guard token.count > 12 else { return "****" }
        return token.prefix(8) + "****" + token.suffix(4)
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
        // The usual form, `Bearer <token>` with printable ASCII and nothing around it, is taken
        // without the general parsing below, which gives the same token for it.
        let utf8 = value.utf8
        if utf8.count > 7, utf8.starts(with: "Bearer ".utf8),
            utf8.dropFirst(7).allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        {
            return String(value.utf8.dropFirst(7))!
        }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingWhitespace()
    }
}
