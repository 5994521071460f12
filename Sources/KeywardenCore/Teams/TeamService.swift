import Foundation

/// Organizations and their members: creating further organizations, reading, changing and
/// removing members (leaving is removing oneself), with the last-owner rule. Whenever someone
/// loses access, the keys they own where they lost it stop working at once.
///
/// Project users are in `TeamService+Projects.swift`; invites in ``InviteService``.
public struct TeamService: Sendable {
    let teams: any TeamRepository
    let projects: any ProjectRepository
    let audit: any AuditLogRepository
    /// Keeps the in-memory key index in step with revocations, and records them as it does.
    let keys: APIKeyService
    let clock: Clock

    /// Creates the service.
    public init(
        teams: any TeamRepository, projects: any ProjectRepository, audit: any AuditLogRepository,
        keys: APIKeyService, clock: Clock
    ) {
        self.teams = teams
        self.projects = projects
        self.audit = audit
        self.keys = keys
        self.clock = clock
    }

    // MARK: Organizations

    /// Creates a further organization with the signed-in person as its owner and a Default
    /// project, as sign-up does for the personal one, and records `organization.created` in it.
    public func createOrganization(
        name rawName: String, by user: User, actor: AuditActor
    ) async throws -> (Organization, Project) {
        let name = try DisplayName.validateRequired(rawName, field: "name")
        let now = wholeMilliseconds(clock.now())
        let organization = Organization(id: .generate(), name: name, isPersonal: false, createdAt: now)
        let project = Project(
            id: .generate(), organizationID: organization.id, name: "Default project", isDefault: true,
            createdAt: now)
        try await teams.createOrganization(organization, owner: user.id, defaultProject: project)
        try await record(.organizationCreated, in: organization.id, actor: actor, details: ["name": name])
        return (organization, project)
    }

    // MARK: Members

    /// One member of the organization, for anyone in it.
    public func member(_ rawUser: String, in membership: Membership) async throws -> OrganizationMember {
        try membership.require(.readOrganization)
        guard let id = UserID(rawUser), let member = try await teams.member(id, of: membership.organization.id)
        else { throw DomainError.userNotFound(rawUser) }
        return member
    }

    /// Changes a member's role and records `user.updated`. Organization owners only; the last
    /// owner cannot be made a reader. A demoted owner's admin keys, and their keys in projects
    /// they were not added to, are revoked with the change.
    public func changeRole(
        of rawUser: String, to rawRole: String, in membership: Membership, actor: AuditActor
    ) async throws -> OrganizationMember {
        try membership.require(.manageMembers)
        let role = try OrganizationRole(parsing: rawRole, field: "role")
        guard let id = UserID(rawUser) else { throw DomainError.userNotFound(rawUser) }
        let organization = membership.organization.id
        switch try await teams.changeRole(of: id, in: organization, to: role, at: wholeMilliseconds(clock.now())) {
        case .notMember: throw DomainError.userNotFound(rawUser)
        case .lastOwner: throw DomainError.lastOwner
        case .changed(let previous, let revoked):
            try await stop(revoked, actor: actor)
            if previous != role {
                try await record(
                    .userUpdated, in: organization, actor: actor,
                    details: ["id": id.rawValue, "role": role.rawValue, "previous_role": previous.rawValue])
            }
        }
        return try await member(rawUser, in: membership)
    }

    /// Removes a member from the organization and records `user.deleted`. Owners remove anyone;
    /// everyone may remove themselves (leave). The last owner can do neither. The person's keys
    /// in the organization are revoked with the removal.
    ///
    /// - Returns: the id of the person removed.
    @discardableResult
    public func removeMember(
        _ rawUser: String, from membership: Membership, by user: User, actor: AuditActor
    ) async throws -> UserID {
        guard let id = UserID(rawUser) else { throw DomainError.userNotFound(rawUser) }
        let leaving = id == user.id
        if !leaving { try membership.require(.manageMembers) }
        let organization = membership.organization.id
        switch try await teams.removeMember(id, from: organization, at: wholeMilliseconds(clock.now())) {
        case .notMember: throw DomainError.userNotFound(rawUser)
        case .lastOwner: throw DomainError.lastOwner
        case .changed(let previous, let revoked):
            try await stop(revoked, actor: actor)
            try await record(
                .userDeleted, in: organization, actor: actor,
                details: ["id": id.rawValue, "role": previous.rawValue, "left": leaving ? "true" : "false"])
        }
        // Every account belongs somewhere: someone left with no organization gets a new
        // personal one, as at sign-up, rather than a dashboard with nothing to show.
        if try await keys.accounts.memberships(of: id).isEmpty {
            let now = wholeMilliseconds(clock.now())
            let personal = Organization(id: .generate(), name: "Personal", isPersonal: true, createdAt: now)
            let project = Project(
                id: .generate(), organizationID: personal.id, name: "Default project", isDefault: true, createdAt: now)
            try await teams.createOrganization(personal, owner: id, defaultProject: project)
        }
        return id
    }

    // MARK: Shared steps

    /// Takes keys revoked in storage out of service on this instance at once (other instances
    /// follow their change feed), then records each as `api_key.deleted` (or
    /// `admin_api_key.deleted`) with the reason `owner_lost_access`.
    func stop(_ revoked: [APIKey], actor: AuditActor) async throws {
        for key in revoked { keys.index.put(key) }
        for key in revoked {
            try await keys.record(
                key.kind == .admin ? .adminAPIKeyDeleted : .apiKeyDeleted, key, actor: actor,
                extra: ["reason": "owner_lost_access"])
        }
    }

    /// Appends an event to an organization's audit log, effective now.
    func record(
        _ type: AuditEventType, in organization: OrganizationID, actor: AuditActor, details: [String: String]
    ) async throws {
        try await audit.append(
            AuditEvent(
                organizationID: organization, type: type, effectiveAt: clock.now(), actor: actor, details: details))
    }
}
