import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// Email confirmation, password reset and change, and the signed-in person's sessions.
///
/// Tokens mailed in links travel in request bodies here, never in a path, so no access log
/// prints them.
public struct AccountSecurityController: Sendable {
    let accounts: AccountService

    /// Creates the controller.
    public init(accounts: AccountService) {
        self.accounts = accounts
    }

    /// Registers the routes.
    public func addRoutes(to router: CatalogingRouter<KeywardenRequestContext>) {
        router.post("/v1/auth/email/confirm", use: confirmEmail)
        router.post("/v1/auth/password/forgot", use: forgotPassword)
        router.post("/v1/auth/password/reset", use: resetPassword)
        let signedIn = router.group(context: SignedInContext.self)
        signedIn.post("/v1/auth/email/confirmation", use: resendConfirmation)
        signedIn.post("/v1/me/password", use: changePassword)
        signedIn.get("/v1/me/sessions", use: sessions)
        signedIn.delete("/v1/me/sessions/{session_id}", use: revokeSession)
    }

    // MARK: Email confirmation

    struct TokenBody: JSONRequestBody {
        static let fields: Set<String> = ["token"]
        let token: String
    }

    @Sendable func confirmEmail(_ request: Request, context: KeywardenRequestContext) async throws -> UserObject {
        let body = try await request.decodeBody(TokenBody.self, context: context)
        return UserObject(try await accounts.confirmEmail(token: body.token, clientAddress: context.clientAddress))
    }

    /// `{"object":"email_confirmation","sent":true}`, answered 202.
    struct ConfirmationSent: ResponseEncodable {
        let object = "email_confirmation"
        let sent = true
    }

    @Sendable func resendConfirmation(
        _ request: Request, context: SignedInContext
    ) async throws -> Accepted<ConfirmationSent> {
        try await accounts.resendConfirmation(to: context.identity.user)
        return Accepted(body: ConfirmationSent())
    }

    // MARK: Passwords

    struct ForgotBody: JSONRequestBody {
        static let fields: Set<String> = ["email"]
        let email: String
    }

    /// `{"object":"password_reset_request","accepted":true}`, answered 202 whether or not an
    /// account uses the address.
    struct ResetRequested: ResponseEncodable {
        let object = "password_reset_request"
        let accepted = true
    }

    @Sendable func forgotPassword(
        _ request: Request, context: KeywardenRequestContext
    ) async throws -> Accepted<ResetRequested> {
        let body = try await request.decodeBody(ForgotBody.self, context: context)
        try await accounts.requestPasswordReset(email: body.email, clientAddress: context.clientAddress)
        return Accepted(body: ResetRequested())
    }

    struct ResetBody: JSONRequestBody {
        static let fields: Set<String> = ["token", "password"]
        let token: String
        let password: String
    }

    @Sendable func resetPassword(_ request: Request, context: KeywardenRequestContext) async throws -> UserObject {
        let body = try await request.decodeBody(ResetBody.self, context: context)
        return UserObject(
            try await accounts.resetPassword(
                token: body.token, password: body.password, clientAddress: context.clientAddress))
    }

    struct ChangeBody: JSONRequestBody {
        static let fields: Set<String> = ["current_password", "new_password"]
        let currentPassword: String
        let newPassword: String

        enum CodingKeys: String, CodingKey {
            case currentPassword = "current_password"
            case newPassword = "new_password"
        }
    }

    @Sendable func changePassword(_ request: Request, context: SignedInContext) async throws -> UserObject {
        let body = try await request.decodeBody(ChangeBody.self, context: context)
        guard let session = context.identity.session else { throw DomainError.unauthenticated }
        return UserObject(
            try await accounts.changePassword(
                current: body.currentPassword, new: body.newPassword, session: session, user: context.identity.user,
                clientAddress: context.clientAddress))
    }

    // MARK: Sessions

    @Sendable func sessions(_ request: Request, context: SignedInContext) async throws -> ListObject<SessionObject> {
        let current = context.identity.session?.id
        let page = try await accounts.liveSessions(of: context.identity.user)
        return ListObject(
            page.items.map { SessionObject($0, current: $0.id == current) }, id: \.id, hasMore: page.hasMore)
    }

    /// `{"object":"session","id":"sessid_...","revoked":true}`, as logging out answers.
    struct SessionRevoked: ResponseEncodable {
        let object = "session"
        let id: String
        let revoked = true
    }

    @Sendable func revokeSession(_ request: Request, context: SignedInContext) async throws -> SessionRevoked {
        guard let session = context.identity.session else { throw DomainError.unauthenticated }
        let id = try await accounts.revokeSession(
            try context.parameters.require("session_id"), of: context.identity.user, current: session,
            clientAddress: context.clientAddress)
        return SessionRevoked(id: id.rawValue)
    }
}

/// A session as its owner sees it in the list: never its token.
struct SessionObject: ResponseEncodable {
    let object = "session"
    let id: String
    let createdAt: Int64
    let lastSeenAt: Int64
    let expiresAt: Int64
    @ExplicitNull var ipAddress: String?
    @ExplicitNull var userAgent: String?
    /// Whether this is the session the request was made with.
    let current: Bool

    init(_ session: Session, current: Bool) {
        id = session.id.rawValue
        createdAt = session.createdAt.unixSeconds
        lastSeenAt = session.lastSeenAt.unixSeconds
        expiresAt = session.expiresAt.unixSeconds
        ipAddress = session.ipAddress
        userAgent = session.userAgent
        self.current = current
    }

    enum CodingKeys: String, CodingKey {
        case object, id, current
        case createdAt = "created_at"
        case lastSeenAt = "last_seen_at"
        case expiresAt = "expires_at"
        case ipAddress = "ip_address"
        case userAgent = "user_agent"
    }
}

/// Encodes a value with `202 Accepted`: the email is on its way (or, for an unknown address,
/// silently not).
struct Accepted<Body: ResponseEncodable>: ResponseGenerator {
    let body: Body

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try body.response(from: request, context: context)
        response.status = .accepted
        return response
    }
}
