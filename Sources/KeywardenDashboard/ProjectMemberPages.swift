import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// A project's members (from Settings → Projects): who was added with which role; its owners
/// (and the organization's) add members of the organization, change their roles and remove them.
/// Organization owners own every project without being listed.
struct ProjectMemberPages: Sendable {
    let dashboard: Dashboard

    /// One person added to the project.
    struct Row: Sendable {
        let id: String
        let name: String
        let email: String
        let owner: Bool
        let member: Bool
        let viewer: Bool
        let added: String
    }

    /// A member of the organization who can be added.
    struct Candidate: Sendable {
        let id: String
        let email: String
    }

    /// The view of `project-members`.
    struct View: Sendable {
        let layout: Layout
        let projectID: String
        let projectName: String
        let canManage: Bool
        let rows: [Row]
        let hasRows: Bool
        let candidates: [Candidate]
        let hasCandidates: Bool
        let pageError: String?
    }

    static func path(_ project: String) -> String { "/settings/organization/projects/\(project)/members" }

    func addRoutes(to signedIn: RouterGroup<PageContext>) {
        signedIn.get("/settings/organization/projects/{project_id}/members", use: page)
        signedIn.post("/settings/organization/projects/{project_id}/members", use: add)
        signedIn.post("/settings/organization/projects/{project_id}/members/{user_id}/role", use: changeRole)
        signedIn.post("/settings/organization/projects/{project_id}/members/{user_id}/remove", use: remove)
    }

    @Sendable func page(_ request: Request, context: PageContext) async throws -> Response {
        try await render(request, context: context, project: try context.parameters.require("project_id"))
    }

    @Sendable func add(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let project = try context.parameters.require("project_id")
        return try await act(request, context: context, project: project, flash: "Member added.") {
            _ = try await dashboard.services.teams.addProjectMember(
                project: project, user: fields["user_id"] ?? "", role: fields["role"] ?? "", in: context.membership,
                actor: context.actor)
        }
    }

    @Sendable func changeRole(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let project = try context.parameters.require("project_id")
        let user = try context.parameters.require("user_id")
        return try await act(request, context: context, project: project, flash: "Role saved.") {
            _ = try await dashboard.services.teams.changeProjectRole(
                project: project, user: user, role: fields["role"] ?? "", in: context.membership, actor: context.actor)
        }
    }

    @Sendable func remove(_ request: Request, context: PageContext) async throws -> Response {
        _ = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let project = try context.parameters.require("project_id")
        let user = try context.parameters.require("user_id")
        return try await act(request, context: context, project: project, flash: "Member removed from the project.") {
            _ = try await dashboard.services.teams.removeProjectMember(
                project: project, user: user, in: context.membership, actor: context.actor)
        }
    }

    /// Does what a form asks and goes back to the page with `flash`, or shows the refusal there.
    func act(
        _ request: Request, context: PageContext, project: String, flash: String, _ body: () async throws -> Void
    ) async throws -> Response {
        do {
            try await body()
        } catch let refusal as DomainError where refusal.kind != .notFound || refusal.code == .userNotFound {
            return try await render(
                request, context: context, project: project, pageError: PageSentences.sentence(for: refusal),
                status: SettingsPages.status(for: refusal))
        }
        throw PageRedirect.to(Self.path(project), flash: flash)
    }

    func render(
        _ request: Request, context: PageContext, project rawProject: String, pageError: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        // A project the person cannot read is a page that is not there.
        let project = try await dashboard.services.projects.project(rawProject, in: context.membership)
        let members = try await dashboard.services.teams.projectMembers(
            project: project.id.rawValue, in: context.membership)
        let frame = try await dashboard.frame("Project members", request: request, context: context)
        let canManage = context.membership.allows(.manage, in: project.id) && !project.isArchived
        var candidates: [Candidate] = []
        if canManage {
            let listed = Set(members.map(\.user.id))
            candidates = try await dashboard.services.accounts.members(of: context.membership)
                .filter { $0.role == .reader && !listed.contains($0.user.id) }
                .map { Candidate(id: $0.user.id.rawValue, email: $0.user.email.value) }
        }
        let rows = members.map {
            Row(
                id: $0.user.id.rawValue, name: $0.user.name, email: $0.user.email.value, owner: $0.role == .owner,
                member: $0.role == .member, viewer: $0.role == .viewer, added: UTCTime.minutes($0.addedAt))
        }
        let view = View(
            layout: frame.layout, projectID: project.id.rawValue, projectName: project.name, canManage: canManage,
            rows: rows, hasRows: !rows.isEmpty, candidates: candidates, hasCandidates: !candidates.isEmpty,
            pageError: pageError)
        return dashboard.page("project-members", view, frame: frame, status: status)
    }
}
