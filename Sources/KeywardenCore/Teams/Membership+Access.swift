import Foundation

/// The permission matrix applied to one membership: what the member may do in the organization
/// and in each of its projects. Core services check here before they act; pages ask the same
/// questions to decide which controls to show.
extension Membership {
    /// The member's role in a project of this organization: owner of every project for an
    /// organization owner; for a reader, the role they were given there, or `nil` when they were
    /// not added to it.
    public func role(in project: ProjectID) -> ProjectRole? {
        role == .owner ? .owner : projectRoles[project]
    }

    /// Whether the member holds an organization permission.
    public func allows(_ permission: OrganizationPermission) -> Bool {
        permission.isGranted(to: role)
    }

    /// Whether the member holds a permission in a project.
    public func allows(_ permission: ProjectPermission, in project: ProjectID) -> Bool {
        role(in: project).map { permission.isGranted(to: $0) } ?? false
    }

    /// Refuses with `insufficient_permissions` unless the member holds the permission.
    public func require(_ permission: OrganizationPermission) throws {
        guard allows(permission) else { throw DomainError.insufficientRole(permission.action) }
    }

    /// The id of a project in which the member holds `permission`, checked before the project is
    /// looked up.
    ///
    /// - Throws: `project_not_found` for an id that is malformed or names a project the member
    ///   cannot reach (the same answer as for one that does not exist, so nothing about it
    ///   shows); `insufficient_permissions` when their role there does not allow it.
    @discardableResult
    public func require(_ permission: ProjectPermission, in rawProject: String) throws -> ProjectID {
        guard let id = ProjectID(rawProject), let projectRole = role(in: id) else {
            throw DomainError.projectNotFound(rawProject)
        }
        guard permission.isGranted(to: projectRole) else {
            throw DomainError.insufficientProjectRole(permission.action, role: projectRole)
        }
        return id
    }

    /// Whether the member may rotate or revoke `key`: a project owner any key of the project,
    /// a member the keys they own.
    public func mayChange(_ key: APIKey, as user: UserID) -> Bool {
        guard let project = key.projectID else { return allows(.manageAdminKeys) }
        if allows(.manage, in: project) { return true }
        return allows(.changeOwnKeys, in: project) && key.owner == .user(user)
    }

    /// Refuses with `insufficient_permissions` unless the member may rotate or revoke `key`.
    public func requireChange(of key: APIKey, by user: UserID) throws {
        guard !mayChange(key, as: user) else { return }
        guard let project = key.projectID, let projectRole = role(in: project) else {
            throw DomainError.insufficientRole(OrganizationPermission.manageAdminKeys.action)
        }
        let action = projectRole == .viewer ? "rotate or revoke API keys" : "rotate or revoke keys other people own"
        throw DomainError.insufficientProjectRole(action, role: projectRole)
    }

    /// The projects whose contents the member reads: `nil` for every project of the
    /// organization (owners), else those they were added to.
    public var readableProjects: Set<ProjectID>? {
        role == .owner ? nil : Set(projectRoles.keys)
    }

    /// The projects a usage report may cover when `requested` (all when empty) are asked for:
    /// `nil` for the whole organization, else the ids to filter by, which may be none at all.
    ///
    /// - Throws: `project_not_found` for a requested project the member cannot read.
    public func readableProjects(among requested: [String]) throws -> [String]? {
        guard let readable = readableProjects else { return requested.isEmpty ? nil : requested }
        guard !requested.isEmpty else { return readable.map(\.rawValue).sorted() }
        for raw in requested where ProjectID(raw).map({ !readable.contains($0) }) ?? true {
            throw DomainError.projectNotFound(raw)
        }
        return requested
    }
}

extension DomainError {
    /// The member's role in a project does not allow the action.
    public static func insufficientProjectRole(_ action: String, role: ProjectRole) -> DomainError {
        DomainError(
            .forbidden, code: .insufficientPermissions,
            message:
                "Your role in this project (\(role.rawValue)) does not allow you to \(action). "
                + "Ask an owner of the project or of the organization.",
            param: "project_id")
    }
}
