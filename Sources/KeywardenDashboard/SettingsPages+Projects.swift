import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

extension SettingsPages {
    /// One project as the Projects page lists it.
    struct ProjectRow: Sendable {
        let id: String
        let name: String
        let created: String
        let isDefault: Bool
        /// When it was archived, in UTC; `nil` while active.
        let archivedAt: String?
        /// The viewer is an owner and the project is active.
        let canChange: Bool
        /// The viewer is an owner and the project is active and not the default one.
        let canArchive: Bool
        /// What the rename field holds: the name, or what was typed.
        let renameValue: String
        /// Why the rename or archive just posted for this project was refused.
        let rowError: String?
    }

    /// The Projects page.
    struct ProjectsView: Sendable {
        let layout: Layout
        let isOwner: Bool
        let projects: [ProjectRow]
        /// What the "Project name" field of the create form holds.
        let createName: String
        /// The create form's refusal about its name, next to the field.
        let createError: String?
        /// A refusal about no one field, above the table.
        let pageError: String?
    }

    /// A refusal to show on the Projects page and where.
    struct ProjectsRefusal: Sendable {
        /// The project the refusal is about; `nil` for the create form.
        var project: String?
        /// What was typed.
        var typed: String
        var refusal: DomainError
    }

    @Sendable func projectsPage(_ request: Request, context: PageContext) async throws -> Response {
        try await renderProjects(request, context: context)
    }

    @Sendable func createProject(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let name = fields["name"] ?? ""
        do {
            _ = try await services.projects.create(in: context.membership, name: name, by: context.actor)
            throw PageRedirect.to("/settings/organization/projects", flash: "Project created.")
        } catch let refusal as DomainError where refusal.kind != .notFound {
            return try await renderProjects(
                request, context: context, refused: ProjectsRefusal(project: nil, typed: name, refusal: refusal))
        }
    }

    @Sendable func renameProject(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let id = try context.parameters.require("project_id")
        let name = fields["name"] ?? ""
        do {
            _ = try await services.projects.rename(id, in: context.membership, to: name, by: context.actor)
            throw PageRedirect.to("/settings/organization/projects", flash: "Project renamed.")
        } catch let refusal as DomainError where refusal.kind != .notFound {
            return try await renderProjects(
                request, context: context, refused: ProjectsRefusal(project: id, typed: name, refusal: refusal))
        }
    }

    @Sendable func archiveProject(_ request: Request, context: PageContext) async throws -> Response {
        _ = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let id = try context.parameters.require("project_id")
        do {
            _ = try await services.projects.archive(id, in: context.membership, by: context.actor)
            throw PageRedirect.to("/settings/organization/projects", flash: "Project archived.")
        } catch let refusal as DomainError where refusal.kind != .notFound {
            let current = try await services.projects.project(id, in: context.membership)
            return try await renderProjects(
                request, context: context,
                refused: ProjectsRefusal(project: current.id.rawValue, typed: current.name, refusal: refusal))
        }
    }

    /// The Projects page, with a refusal shown where it belongs.
    func renderProjects(
        _ request: Request, context: PageContext, refused: ProjectsRefusal? = nil
    ) async throws -> Response {
        let frame = try await dashboard.frame("Projects", request: request, context: context)
        let isOwner = context.membership.allows(.createProjects)
        let membership = context.membership
        let projects = try await allProjects(in: context.membership, includeArchived: true)
        var createName = ""
        var createError: String?
        var pageError: String?
        if let refused, refused.project == nil {
            createName = refused.typed
            let errors = FieldErrors(refused.refusal, fields: ["name"])
            createError = errors.fields["name"]
            pageError = errors.form
        }
        // A refusal about a project this page no longer lists is said above the table.
        if let refused, let project = refused.project, !projects.contains(where: { $0.id.rawValue == project }) {
            pageError = PageSentences.sentence(for: refused.refusal)
        }
        let rows = projects.map { project -> ProjectRow in
            let refusedHere = refused.flatMap { $0.project == project.id.rawValue ? $0 : nil }
            return ProjectRow(
                id: project.id.rawValue, name: project.name, created: UTCTime.seconds(project.createdAt),
                isDefault: project.isDefault, archivedAt: project.archivedAt.map(UTCTime.seconds),
                canChange: membership.allows(.manage, in: project.id) && !project.isArchived,
                canArchive: membership.allows(.manage, in: project.id) && !project.isArchived && !project.isDefault,
                renameValue: refusedHere?.typed ?? project.name,
                rowError: refusedHere.map { PageSentences.sentence(for: $0.refusal) })
        }
        let view = ProjectsView(
            layout: frame.layout, isOwner: isOwner, projects: rows,
            createName: createName, createError: createError, pageError: pageError)
        return dashboard.page(
            "settings-projects", view, frame: frame, status: refused.map { Self.status(for: $0.refusal) } ?? .ok)
    }
}
