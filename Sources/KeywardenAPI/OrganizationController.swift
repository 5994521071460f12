import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// The caller's organization, its members and its projects (OpenAI Admin API shapes).
public struct OrganizationController: Sendable {
    let accounts: AccountService
    let projects: ProjectService

    /// Creates the controller.
    public init(accounts: AccountService, projects: ProjectService) {
        self.accounts = accounts
        self.projects = projects
    }

    /// Registers the routes.
    public func addRoutes(to router: CatalogingRouter<KeywardenRequestContext>) {
        let organization = router.group("/v1/organization", context: OrganizationContext.self)
        organization.get(use: show)
        organization.post(use: rename)
        organization.get("users", use: users)
        organization.get("projects", use: listProjects)
        organization.post("projects", use: createProject)
        organization.get("projects/{project_id}", use: showProject)
        organization.post("projects/{project_id}", use: modifyProject)
        organization.post("projects/{project_id}/archive", use: archiveProject)
    }

    @Sendable func show(_ request: Request, context: OrganizationContext) async throws -> OrganizationObject {
        OrganizationObject(context.membership.organization, role: context.membership.role)
    }

    @Sendable func rename(_ request: Request, context: OrganizationContext) async throws -> OrganizationObject {
        let body = try await request.decodeBody(ProjectBody.self, context: context)
        let renamed = try await accounts.renameOrganization(in: context.membership, to: body.name, by: context.actor)
        return OrganizationObject(renamed, role: context.membership.role)
    }

    @Sendable func users(
        _ request: Request, context: OrganizationContext
    ) async throws
        -> ListObject<OrganizationUserObject>
    {
        let limit = try request.pageLimit()
        var members = try await accounts.members(of: context.membership)
        if let after = request.textQuery("after") {
            guard UserID(after) != nil else { throw DomainError.malformedCursor(expected: "a user id") }
            guard let index = members.firstIndex(where: { $0.user.id.rawValue == after }) else {
                throw DomainError.unknownCursor
            }
            members = Array(members[(index + 1)...])
        }
        return ListObject(
            members.prefix(limit).map(OrganizationUserObject.init), id: \.id, hasMore: members.count > limit)
    }

    @Sendable func listProjects(
        _ request: Request, context: OrganizationContext
    ) async throws
        -> ListObject<ProjectObject>
    {
        let page = try await projects.list(
            in: context.membership, after: request.textQuery("after"), limit: try request.pageLimit(),
            includeArchived: try request.booleanQuery("include_archived") ?? false)
        return ListObject(page.items.map(ProjectObject.init), id: \.id, hasMore: page.hasMore)
    }

    struct ProjectBody: JSONRequestBody {
        static let fields: Set<String> = ["name"]
        let name: String
    }

    @Sendable func createProject(
        _ request: Request, context: OrganizationContext
    ) async throws
        -> Created<ProjectObject>
    {
        let body = try await request.decodeBody(ProjectBody.self, context: context)
        return Created(
            body: ProjectObject(try await projects.create(in: context.membership, name: body.name, by: actor(context))))
    }

    @Sendable func showProject(_ request: Request, context: OrganizationContext) async throws -> ProjectObject {
        ProjectObject(try await projects.project(try projectID(context), in: context.membership))
    }

    @Sendable func modifyProject(_ request: Request, context: OrganizationContext) async throws -> ProjectObject {
        let body = try await request.decodeBody(ProjectBody.self, context: context)
        return ProjectObject(
            try await projects.rename(try projectID(context), in: context.membership, to: body.name, by: actor(context))
        )
    }

    @Sendable func archiveProject(_ request: Request, context: OrganizationContext) async throws -> ProjectObject {
        ProjectObject(try await projects.archive(try projectID(context), in: context.membership, by: actor(context)))
    }

    private func actor(_ context: OrganizationContext) -> AuditActor {
        context.actor
    }

    private func projectID(_ context: OrganizationContext) throws -> String {
        try context.parameters.require("project_id")
    }
}
