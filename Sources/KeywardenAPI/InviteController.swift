import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// Invites by email (OpenAI's `/v1/organization/invites`), sending one again, and accepting one
/// with the token from its link.
public struct InviteController: Sendable {
    let invites: InviteService
    /// Asks a stale session to confirm it is the person before sensitive actions (step-up).
    let accounts: AccountService

    /// Creates the controller.
    public init(invites: InviteService, accounts: AccountService) {
        self.invites = invites
        self.accounts = accounts
    }

    /// Registers the routes.
    public func addRoutes(to router: CatalogingRouter<KeywardenRequestContext>) {
        let organization = router.group("/v1/organization/invites", context: OrganizationContext.self)
        organization.get(use: list)
        organization.post(use: create)
        organization.get("{invite_id}", use: show)
        organization.delete("{invite_id}", use: delete)
        organization.post("{invite_id}/resend", use: resend)
        router.group(context: SignedInContext.self).post("/v1/invites/accept", use: accept)
    }

    struct InviteBody: JSONRequestBody {
        static let fields: Set<String> = ["email", "role", "projects"]
        let email: String
        let role: String
        let projects: [ProjectEntry]?

        /// `{id, role}`; any other field is refused, as at the top level.
        struct ProjectEntry: Decodable, Sendable {
            let id: String
            let role: String

            enum CodingKeys: String, CodingKey, CaseIterable {
                case id, role
            }

            struct AnyKey: CodingKey {
                var stringValue: String
                var intValue: Int? { nil }
                init(stringValue: String) { self.stringValue = stringValue }
                init?(intValue: Int) { nil }
            }

            init(from decoder: any Decoder) throws {
                let keys = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue).sorted()
                if let unknown = keys.first(where: { CodingKeys(rawValue: $0) == nil }) {
                    throw DomainError(
                        .invalidRequest, code: .unknownParameter,
                        message: "Unrecognized field in 'projects': '\(unknown)'. Each entry is {id, role}.",
                        param: "projects")
                }
                let container = try decoder.container(keyedBy: CodingKeys.self)
                id = try container.decode(String.self, forKey: .id)
                role = try container.decode(String.self, forKey: .role)
            }
        }
    }

    @Sendable func create(_ request: Request, context: OrganizationContext) async throws -> Created<InviteObject> {
        let body = try await request.decodeBody(InviteBody.self, context: context)
        if body.role == OrganizationRole.owner.rawValue { try accounts.requireRecentSignIn(context.identity.session) }
        let invite = try await invites.invite(
            email: body.email, role: body.role,
            projects: (body.projects ?? []).map { RequestedGrant(projectID: $0.id, role: $0.role) },
            in: context.membership, by: context.identity.user, actor: context.actor)
        return Created(body: object(invite))
    }

    @Sendable func list(_ request: Request, context: OrganizationContext) async throws -> ListObject<InviteObject> {
        let page = try await invites.invites(
            in: context.membership, after: request.textQuery("after"), limit: try request.pageLimit())
        return ListObject(page.items.map(object), id: \.id, hasMore: page.hasMore)
    }

    @Sendable func show(_ request: Request, context: OrganizationContext) async throws -> InviteObject {
        object(try await invites.invite(try inviteID(context), in: context.membership))
    }

    @Sendable func delete(_ request: Request, context: OrganizationContext) async throws -> DeletedObject {
        let invite = try await invites.revoke(try inviteID(context), in: context.membership, actor: context.actor)
        return DeletedObject(object: "organization.invite.deleted", id: invite.id.rawValue)
    }

    @Sendable func resend(_ request: Request, context: OrganizationContext) async throws -> InviteObject {
        object(
            try await invites.resend(
                try inviteID(context), in: context.membership, by: context.identity.user, actor: context.actor))
    }

    struct AcceptBody: JSONRequestBody {
        static let fields: Set<String> = ["token"]
        let token: String
    }

    /// The accepted invite and the organization joined.
    struct AcceptResponse: ResponseEncodable {
        let invite: InviteObject
        let organization: OrganizationObject
    }

    @Sendable func accept(_ request: Request, context: SignedInContext) async throws -> AcceptResponse {
        let body = try await request.decodeBody(AcceptBody.self, context: context)
        let user = context.identity.user
        let (invite, membership) = try await invites.accept(
            token: body.token, by: user, actor: .session(user, ipAddress: context.clientAddress))
        return AcceptResponse(
            invite: object(invite), organization: OrganizationObject(membership.organization, role: membership.role))
    }

    private func object(_ invite: Invite) -> InviteObject {
        InviteObject(invite, status: invites.status(of: invite))
    }

    private func inviteID(_ context: OrganizationContext) throws -> String {
        try context.parameters.require("invite_id")
    }
}
