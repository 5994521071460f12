import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// Sign-up, sign-in, sign-out and the signed-in user.
public struct AuthController: Sendable {
    let accounts: AccountService

    /// Creates the controller.
    public init(accounts: AccountService) {
        self.accounts = accounts
    }

    /// Registers the routes.
    public func addRoutes(to router: CatalogingRouter<KeywardenRequestContext>) {
        router.post("/v1/auth/signup", use: signUp)
        router.post("/v1/auth/login", use: logIn)
        router.post("/v1/auth/login/mfa", use: logInWithCode)
        let signedIn = router.group(context: SignedInContext.self)
        signedIn.post("/v1/auth/logout", use: logOut)
        signedIn.get("/v1/me", use: me)
    }

    struct SignUpBody: JSONRequestBody {
        static let fields: Set<String> = ["email", "password", "name", "captcha_token"]
        let email: String
        let password: String
        let name: String?
        /// The CAPTCHA widget's response token, when a CAPTCHA provider is configured.
        let captchaToken: String?

        enum CodingKeys: String, CodingKey {
            case email, password, name
            case captchaToken = "captcha_token"
        }
    }

    struct SignUpResponse: ResponseEncodable {
        let user: UserObject
        let organization: OrganizationObject
        let defaultProject: ProjectObject
        let sessionToken: String

        enum CodingKeys: String, CodingKey {
            case user, organization
            case defaultProject = "default_project"
            case sessionToken = "session_token"
        }
    }

    @Sendable func signUp(_ request: Request, context: KeywardenRequestContext) async throws -> Created<SignUpResponse>
    {
        let body = try await request.decodeBody(SignUpBody.self, context: context)
        let result = try await accounts.signUp(
            email: body.email, password: body.password, name: body.name, clientAddress: context.clientAddress,
            userAgent: request.headers.userAgent, humanCheckResponse: body.captchaToken)
        context.logger.info("account created", metadata: ["user_id": .string(result.user.id.rawValue)])
        return Created(
            body: SignUpResponse(
                user: UserObject(result.user),
                organization: OrganizationObject(result.organization, role: .owner),
                defaultProject: ProjectObject(result.defaultProject),
                sessionToken: result.token.value))
    }

    struct LogInBody: JSONRequestBody {
        static let fields: Set<String> = ["email", "password"]
        let email: String
        let password: String
    }

    struct LogInResponse: ResponseEncodable {
        let sessionToken: String
        let user: UserObject

        enum CodingKeys: String, CodingKey {
            case user
            case sessionToken = "session_token"
        }
    }

    /// The answer to a right password when two-factor authentication is on: no session yet,
    /// a challenge to send back with a code to `POST /v1/auth/login/mfa`.
    struct ChallengeResponse: ResponseEncodable {
        let object = "mfa_challenge"
        let mfaRequired = true
        let challenge: String
        let expiresAt: Int64
        let methods = ["totp", "recovery_code"]

        enum CodingKeys: String, CodingKey {
            case object, challenge, methods
            case mfaRequired = "mfa_required"
            case expiresAt = "expires_at"
        }
    }

    /// A session, or a challenge when a code must follow.
    enum LogInAnswer: ResponseGenerator {
        case signedIn(LogInResponse)
        case challenge(ChallengeResponse)

        func response(from request: Request, context: some RequestContext) throws -> Response {
            switch self {
            case .signedIn(let body): try body.response(from: request, context: context)
            case .challenge(let body): try body.response(from: request, context: context)
            }
        }
    }

    @Sendable func logIn(_ request: Request, context: KeywardenRequestContext) async throws -> LogInAnswer {
        let body = try await request.decodeBody(LogInBody.self, context: context)
        switch try await accounts.logIn(
            email: body.email, password: body.password, clientAddress: context.clientAddress,
            userAgent: request.headers.userAgent)
        {
        case .signedIn(let user, let token):
            return .signedIn(LogInResponse(sessionToken: token.value, user: UserObject(user)))
        case .secondFactorRequired(let challenge):
            return .challenge(ChallengeResponse(challenge: challenge.token, expiresAt: challenge.expiresAt.unixSeconds))
        }
    }

    struct CodeBody: JSONRequestBody {
        static let fields: Set<String> = ["challenge", "code"]
        let challenge: String
        let code: String
    }

    @Sendable func logInWithCode(_ request: Request, context: KeywardenRequestContext) async throws -> LogInResponse {
        let body = try await request.decodeBody(CodeBody.self, context: context)
        let (user, token) = try await accounts.completeLogIn(
            challenge: body.challenge, code: body.code, clientAddress: context.clientAddress,
            userAgent: request.headers.userAgent)
        return LogInResponse(sessionToken: token.value, user: UserObject(user))
    }

    struct LogOutResponse: ResponseEncodable {
        let object = "session"
        let id: String
        let revoked = true
    }

    @Sendable func logOut(_ request: Request, context: SignedInContext) async throws -> LogOutResponse {
        guard let session = context.identity.session else { throw DomainError.unauthenticated }
        try await accounts.logOut(session, user: context.identity.user, clientAddress: context.clientAddress)
        return LogOutResponse(id: session.id.rawValue)
    }

    /// The user object with the caller's organizations beside its fields.
    struct MeResponse: ResponseEncodable {
        let user: UserObject
        let organizations: ListObject<OrganizationObject>

        enum CodingKeys: String, CodingKey {
            case organizations
        }

        func encode(to encoder: any Encoder) throws {
            try user.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(organizations, forKey: .organizations)
        }
    }

    @Sendable func me(_ request: Request, context: SignedInContext) async throws -> MeResponse {
        let organizations = context.identity.memberships.map { OrganizationObject($0.organization, role: $0.role) }
        return MeResponse(
            user: UserObject(context.identity.user), organizations: ListObject(organizations, id: \.id, hasMore: false))
    }
}
