import Foundation

/// Stores projects. Every read and write is scoped to one organization.
public protocol ProjectRepository: Sendable {
    /// Stores a new project.
    func create(_ project: Project) async throws

    /// The project with this id, in any organization (operator tools).
    func project(_ id: ProjectID) async throws -> Project?

    /// The project with this id in this organization.
    func project(_ id: ProjectID, in organization: OrganizationID) async throws -> Project?

    /// The projects of the organization among `ids`, archived ones included, in no order.
    func projects(_ ids: Set<ProjectID>, in organization: OrganizationID) async throws -> [Project]

    /// Projects of an organization, oldest first, starting after the project `after`.
    func list(
        in organization: OrganizationID, after: ProjectID?, limit: Int, includeArchived: Bool
    ) async throws -> Page<Project>

    /// Changes a project's name; returns the changed project, or `nil` when there is none.
    func rename(_ id: ProjectID, in organization: OrganizationID, to name: String) async throws -> Project?

    /// Archives an active, non-default project with one conditional update and returns the
    /// project as it now is (unchanged when it was the default or already archived), or `nil`
    /// when there is none.
    func archive(_ id: ProjectID, in organization: OrganizationID, at date: Date) async throws -> Project?
}
