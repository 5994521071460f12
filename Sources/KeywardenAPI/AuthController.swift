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

    @Sendable func logIn(_ request: Request, context: KeywardenRequestContext) async throws -> LogInResponse {
        let body = try await request.decodeBody(LogInBody.self, context: context)
        let (user, token) = try await accounts.logIn(
            email: body.email, password: body.password, clientAddress: context.clientAddress,
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
