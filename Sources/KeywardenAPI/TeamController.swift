import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// Further organizations, the members of the caller's organization and the users of its
/// projects (OpenAI Admin API shapes).
public struct TeamController: Sendable {
    let teams: TeamService
    /// Asks a stale session to confirm it is the person before sensitive actions (step-up).
    let accounts: AccountService

    /// Creates the controller.
    public init(teams: TeamService, accounts: AccountService) {
        self.teams = teams
        self.accounts = accounts
    }

    /// Registers the routes.
    public func addRoutes(to router: CatalogingRouter<KeywardenRequestContext>) {
        router.group(context: SignedInContext.self).post("/v1/organizations", use: createOrganization)
        let organization = router.group("/v1/organization", context: OrganizationContext.self)
        organization.get("users/{user_id}", use: user)
        organization.post("users/{user_id}", use: modifyUser)
        organization.delete("users/{user_id}", use: deleteUser)
        organization.get("projects/{project_id}/users", use: projectUsers)
        organization.post("projects/{project_id}/users", use: addProjectUser)
        organization.get("projects/{project_id}/users/{user_id}", use: projectUser)
        organization.post("projects/{project_id}/users/{user_id}", use: modifyProjectUser)
        organization.delete("projects/{project_id}/users/{user_id}", use: deleteProjectUser)
    }

    struct NameBody: JSONRequestBody {
        static let fields: Set<String> = ["name"]
        let name: String
    }

    @Sendable func createOrganization(
        _ request: Request, context: SignedInContext
    ) async throws -> Created<OrganizationObject> {
        let body = try await request.decodeBody(NameBody.self, context: context)
        let user = context.identity.user
        let (organization, _) = try await teams.createOrganization(
            name: body.name, by: user, actor: .session(user, ipAddress: context.clientAddress))
        return Created(body: OrganizationObject(organization, role: .owner))
    }

    // MARK: Members

    struct RoleBody: JSONRequestBody {
        static let fields: Set<String> = ["role"]
        let role: String
    }

    @Sendable func user(_ request: Request, context: OrganizationContext) async throws -> OrganizationUserObject {
        OrganizationUserObject(try await teams.member(try userID(context), in: context.membership))
    }

    @Sendable func modifyUser(_ request: Request, context: OrganizationContext) async throws -> OrganizationUserObject {
        let body = try await request.decodeBody(RoleBody.self, context: context)
        if body.role == OrganizationRole.owner.rawValue { try accounts.requireRecentSignIn(context.identity.session) }
        return OrganizationUserObject(
            try await teams.changeRole(
                of: try userID(context), to: body.role, in: context.membership, actor: context.actor))
    }

    @Sendable func deleteUser(_ request: Request, context: OrganizationContext) async throws -> DeletedObject {
        let id = try await teams.removeMember(
            try userID(context), from: context.membership, by: context.identity.user, actor: context.actor)
        return DeletedObject(object: "organization.user.deleted", id: id.rawValue)
    }

    // MARK: Project users

    struct ProjectUserBody: JSONRequestBody {
        static let fields: Set<String> = ["user_id", "role"]
        let userID: String
        let role: String

        enum CodingKeys: String, CodingKey {
            case role
            case userID = "user_id"
        }
    }

    @Sendable func projectUsers(
        _ request: Request, context: OrganizationContext
    ) async throws -> ListObject<ProjectUserObject> {
        let members = try await teams.projectMembers(project: try projectID(context), in: context.membership)
        return try ListObject<ProjectUserObject>.paging(
            members.map(ProjectUserObject.init), id: \.id, request: request, cursor: { UserID($0) != nil },
            expected: "a user id")
    }

    @Sendable func addProjectUser(
        _ request: Request, context: OrganizationContext
    ) async throws -> Created<ProjectUserObject> {
        let body = try await request.decodeBody(ProjectUserBody.self, context: context)
        let member = try await teams.addProjectMember(
            project: try projectID(context), user: body.userID, role: body.role, in: context.membership,
            actor: context.actor)
        return Created(body: ProjectUserObject(member))
    }

    @Sendable func projectUser(_ request: Request, context: OrganizationContext) async throws -> ProjectUserObject {
        ProjectUserObject(
            try await teams.projectMember(
                project: try projectID(context), user: try userID(context), in: context.membership))
    }

    @Sendable func modifyProjectUser(
        _ request: Request, context: OrganizationContext
    ) async throws -> ProjectUserObject {
        let body = try await request.decodeBody(RoleBody.self, context: context)
        return ProjectUserObject(
            try await teams.changeProjectRole(
                project: try projectID(context), user: try userID(context), role: body.role,
                in: context.membership, actor: context.actor))
    }

    @Sendable func deleteProjectUser(_ request: Request, context: OrganizationContext) async throws -> DeletedObject {
        let id = try await teams.removeProjectMember(
            project: try projectID(context), user: try userID(context), in: context.membership,
            actor: context.actor)
        return DeletedObject(object: "organization.project.user.deleted", id: id.rawValue)
    }

    private func userID(_ context: OrganizationContext) throws -> String {
        try context.parameters.require("user_id")
    }

    private func projectID(_ context: OrganizationContext) throws -> String {
        try context.parameters.require("project_id")
    }
}
