import Foundation

/// Creating, listing, renaming and archiving projects, with the role rules.
public struct ProjectService: Sendable {
    let projects: any ProjectRepository
    let audit: any AuditLogRepository
    let clock: Clock

    /// Creates the service.
    public init(projects: any ProjectRepository, audit: any AuditLogRepository, clock: Clock) {
        self.projects = projects
        self.audit = audit
        self.clock = clock
    }

    /// Creates a project in the caller's organization. Organization owners only.
    public func create(in membership: Membership, name rawName: String, by actor: AuditActor) async throws -> Project {
        try membership.require(.createProjects)
        let name = try DisplayName.validateRequired(rawName, field: "name")
        let project = Project(
            id: .generate(), organizationID: membership.organization.id, name: name, isDefault: false,
            createdAt: wholeMilliseconds(clock.now()))
        try await projects.create(project)
        try await record(.projectCreated, project, actor: actor, details: ["name": project.name])
        return project
    }

    /// A page of the organization's projects that the member reads, oldest first: every project
    /// for an owner, the projects they were added to for a reader.
    public func list(
        in membership: Membership, after: String?, limit: Int?, includeArchived: Bool
    ) async throws -> Page<Project> {
        let limit = try PageLimit.validate(limit)
        var cursor: ProjectID?
        if let after {
            guard let id = ProjectID(after) else { throw DomainError.malformedCursor(expected: "a project id") }
            let reachable = membership.readableProjects.map { $0.contains(id) } ?? true
            guard reachable, try await projects.project(id, in: membership.organization.id) != nil else {
                throw DomainError.unknownCursor
            }
            cursor = id
        }
        guard let readable = membership.readableProjects else {
            return try await projects.list(
                in: membership.organization.id, after: cursor, limit: limit, includeArchived: includeArchived)
        }
        // A reader's projects are the few they were added to: read by id and paged here.
        let ordered = try await projects.projects(readable, in: membership.organization.id)
            .sorted { ($0.createdAt, $0.id.rawValue) < ($1.createdAt, $1.id.rawValue) }
        var following = ordered.filter { includeArchived || !$0.isArchived }
        if let cursor, let start = ordered.first(where: { $0.id == cursor }) {
            following = following.filter { ($0.createdAt, $0.id.rawValue) > (start.createdAt, start.id.rawValue) }
        }
        return Page(items: Array(following.prefix(limit)), hasMore: following.count > limit)
    }

    /// One project of the caller's organization that the member reads.
    public func project(_ rawID: String, in membership: Membership) async throws -> Project {
        let id = try membership.require(.read, in: rawID)
        guard let project = try await projects.project(id, in: membership.organization.id) else {
            throw DomainError.projectNotFound(rawID)
        }
        return project
    }

    /// Renames an active project. Project owners only.
    public func rename(
        _ rawID: String, in membership: Membership, to rawName: String, by actor: AuditActor
    )
        async throws -> Project
    {
        try membership.require(.manage, in: rawID)
        let name = try DisplayName.validateRequired(rawName, field: "name")
        let current = try await project(rawID, in: membership)
        guard !current.isArchived else {
            throw DomainError(
                .conflict, code: .projectArchived,
                message: "Project '\(current.id)' is archived and can no longer be changed.", param: "project_id")
        }
        guard let renamed = try await projects.rename(current.id, in: membership.organization.id, to: name) else {
            throw DomainError.projectNotFound(rawID)
        }
        try await record(.projectUpdated, renamed, actor: actor, details: ["name": renamed.name])
        return renamed
    }

    /// Archives a project for good. Project owners only; the default project cannot be archived.
    /// Archiving an archived project answers it unchanged.
    public func archive(_ rawID: String, in membership: Membership, by actor: AuditActor) async throws -> Project {
        try membership.require(.manage, in: rawID)
        let current = try await project(rawID, in: membership)
        guard !current.isDefault else {
            throw DomainError(
                .conflict, code: .cannotArchiveDefaultProject,
                message: "The default project cannot be archived.", param: "project_id")
        }
        guard
            let archived = try await projects.archive(
                current.id, in: membership.organization.id, at: wholeMilliseconds(clock.now()))
        else { throw DomainError.projectNotFound(rawID) }
        if !current.isArchived {
            try await record(.projectArchived, archived, actor: actor)
        }
        return archived
    }

    private func record(
        _ type: AuditEventType, _ project: Project, actor: AuditActor, details: [String: String] = [:]
    )
        async throws
    {
        var details = details
        details["id"] = project.id.rawValue
        try await audit.append(
            AuditEvent(
                organizationID: project.organizationID, type: type, effectiveAt: clock.now(), actor: actor,
                details: details))
    }
}

extension Membership {
    /// Refuses with `insufficient_permissions` unless the member is an organization owner. Prefer
    /// `require(_:)` and `require(_:in:)`, which name the permission.
    public func requireOwner(to action: String) throws {
        guard role == .owner else { throw DomainError.insufficientRole(action) }
    }

    /// The membership for the organization a request names, or the user's first one.
    ///
    /// - Throws: `organization_not_found` when the user belongs to no such organization, or to none.
    public static func select(from memberships: [Membership], requested: String?) throws -> Membership {
        if let requested {
            guard let match = memberships.first(where: { $0.organization.id.rawValue == requested }) else {
                throw DomainError.organizationNotFound
            }
            return match
        }
        guard let first = memberships.first else { throw DomainError.organizationNotFound }
        return first
    }
}
