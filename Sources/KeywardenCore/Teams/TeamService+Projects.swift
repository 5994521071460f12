import Foundation

/// Project users: the members of the organization added to a project, with their roles there.
/// Anyone who reads the project reads its users; its owners (and the organization's) change them.
/// Organization owners are owners of every project without being listed.
extension TeamService {
    /// The people added to a project, oldest first.
    public func projectMembers(project rawProject: String, in membership: Membership) async throws -> [ProjectMember] {
        let project = try await reachableProject(rawProject, needing: .read, in: membership)
        return try await teams.projectMembers(of: project.id)
    }

    /// One person added to a project.
    public func projectMember(
        project rawProject: String, user rawUser: String, in membership: Membership
    ) async throws -> ProjectMember {
        let project = try await reachableProject(rawProject, needing: .read, in: membership)
        return try await listed(rawUser, in: project)
    }

    /// Adds a member of the organization to an active project with a role and records
    /// `project.user.added`. Project owners only.
    ///
    /// - Throws: `user_not_found` for someone outside the organization (invite them first),
    ///   `already_member` for someone already in the project.
    public func addProjectMember(
        project rawProject: String, user rawUser: String, role rawRole: String, in membership: Membership,
        actor: AuditActor
    ) async throws -> ProjectMember {
        let project = try await reachableProject(rawProject, needing: .manage, in: membership, active: true)
        let role = try ProjectRole(parsing: rawRole, field: "role")
        guard let id = UserID(rawUser) else { throw DomainError.userNotFound(rawUser) }
        if try await teams.projectMembers(of: project.id).contains(where: { $0.user.id == id }) {
            throw DomainError.alreadyProjectMember
        }
        switch try await teams.setProjectRole(role, of: id, in: project, at: wholeMilliseconds(clock.now())) {
        case .notOrganizationMember: throw DomainError.userNotFound(rawUser)
        case .added, .changed:
            try await record(
                .projectUserAdded, in: project.organizationID, actor: actor,
                details: ["project_id": project.id.rawValue, "id": id.rawValue, "role": role.rawValue])
        }
        return try await listed(rawUser, in: project)
    }

    /// Changes a person's role in an active project and records `project.user.updated`. Project
    /// owners only.
    public func changeProjectRole(
        project rawProject: String, user rawUser: String, role rawRole: String, in membership: Membership,
        actor: AuditActor
    ) async throws -> ProjectMember {
        let project = try await reachableProject(rawProject, needing: .manage, in: membership, active: true)
        let role = try ProjectRole(parsing: rawRole, field: "role")
        let current = try await listed(rawUser, in: project)
        switch try await teams.setProjectRole(
            role, of: current.user.id, in: project, at: wholeMilliseconds(clock.now()))
        {
        case .notOrganizationMember: throw DomainError.userNotFound(rawUser)
        case .added, .changed:
            if current.role != role {
                try await record(
                    .projectUserUpdated, in: project.organizationID, actor: actor,
                    details: [
                        "project_id": project.id.rawValue, "id": current.user.id.rawValue, "role": role.rawValue,
                        "previous_role": current.role.rawValue,
                    ])
            }
        }
        return try await listed(rawUser, in: project)
    }

    /// Removes a person from a project and records `project.user.deleted`; the keys they own there
    /// stop working unless they still reach the project as an organization owner. Project owners
    /// only.
    ///
    /// - Returns: the id of the person removed.
    @discardableResult
    public func removeProjectMember(
        project rawProject: String, user rawUser: String, in membership: Membership, actor: AuditActor
    ) async throws -> UserID {
        let project = try await reachableProject(rawProject, needing: .manage, in: membership)
        guard let id = UserID(rawUser) else { throw DomainError.userNotFound(rawUser) }
        switch try await teams.removeProjectMember(id, from: project, at: wholeMilliseconds(clock.now())) {
        case .notProjectMember: throw DomainError.projectUserNotFound(rawUser)
        case .removed(let previous, let revoked):
            try await stop(revoked, actor: actor)
            try await record(
                .projectUserDeleted, in: project.organizationID, actor: actor,
                details: ["project_id": project.id.rawValue, "id": id.rawValue, "role": previous.rawValue])
        }
        return id
    }

    // MARK: Shared steps

    /// A project the member holds `permission` in; with `active`, one that is not archived.
    func reachableProject(
        _ raw: String, needing permission: ProjectPermission, in membership: Membership, active: Bool = false
    ) async throws -> Project {
        let id = try membership.require(permission, in: raw)
        guard let project = try await projects.project(id, in: membership.organization.id) else {
            throw DomainError.projectNotFound(raw)
        }
        if active, project.isArchived {
            throw DomainError(
                .conflict, code: .projectArchived,
                message: "Project '\(project.id)' is archived and can no longer change.", param: "project_id")
        }
        return project
    }

    /// The person `raw` as the project lists them, or `user_not_found`.
    func listed(_ raw: String, in project: Project) async throws -> ProjectMember {
        guard let id = UserID(raw),
            let member = try await teams.projectMembers(of: project.id).first(where: {
                $0.user.id == id
            })
        else { throw DomainError.projectUserNotFound(raw) }
        return member
    }
}
