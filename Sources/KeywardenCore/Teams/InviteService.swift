import Foundation

/// Settings for invites.
public struct InviteSettings: Sendable {
    /// How long an invite (and a link sent again) stays usable.
    public var lifetime: TimeInterval = 7 * 86_400
    /// The base of the emailed link, without a trailing slash: `<base>/invite?token=...`.
    public var linkBaseURL = "http://127.0.0.1:8080"

    /// The defaults.
    public init() {}
}

/// A project and role asked for in an invite, as the client sent them.
public struct RequestedGrant: Sendable {
    public var projectID: String
    public var role: String

    /// Creates a requested grant.
    public init(projectID: String, role: String) {
        self.projectID = projectID
        self.role = role
    }
}

/// Inviting people by email: creating an invite (and mailing its link), listing, reading,
/// revoking and sending it again. Organization owners only. Accepting is in
/// `InviteService+Acceptance.swift`.
///
/// A new invite to an address with a pending one replaces it: the older link stops working.
public struct InviteService: Sendable {
    let invites: any InviteRepository
    let accounts: any AccountRepository
    let projects: any ProjectRepository
    let audit: any AuditLogRepository
    let email: EmailSender
    let settings: InviteSettings
    let clock: Clock

    /// Creates the service.
    public init(
        invites: any InviteRepository, accounts: any AccountRepository, projects: any ProjectRepository,
        audit: any AuditLogRepository, email: EmailSender, settings: InviteSettings, clock: Clock
    ) {
        self.invites = invites
        self.accounts = accounts
        self.projects = projects
        self.audit = audit
        self.email = email
        self.settings = settings
        self.clock = clock
    }

    /// The one way an invite is made: checks it, stores it (replacing a pending invite to the
    /// same address), emails its link and records `invite.sent`. A reader invited to no project
    /// joins the default project as a member.
    ///
    /// - Throws: `already_member` for someone in the organization already; `project_not_found`
    ///   for a project that is not an active one of the organization; `email_provider_unavailable`
    ///   when the email could not be sent (the invite is then withdrawn).
    public func invite(
        email rawEmail: String, role rawRole: String, projects requested: [RequestedGrant],
        in membership: Membership, by user: User, actor: AuditActor
    ) async throws -> Invite {
        try membership.require(.manageMembers)
        let role = try OrganizationRole(parsing: rawRole, field: "role")
        // Step-up goes here: inviting an owner will need a sign-in within the last minutes,
        // checked before anything is written.
        let address = try EmailAddress(normalizing: rawEmail)
        let organization = membership.organization
        let grants = try await checkedGrants(requested, role: role, in: organization.id)
        if try await accounts.members(of: organization.id).contains(where: { $0.user.email == address }) {
            throw DomainError.alreadyOrganizationMember
        }
        let now = wholeMilliseconds(clock.now())
        let invite = Invite(
            id: .generate(), organizationID: organization.id, email: address, role: role, projects: grants,
            invitedBy: user.id, invitedAt: now, expiresAt: now.addingTimeInterval(settings.lifetime))
        let token = InviteToken.generate()
        for replaced in try await invites.create(invite, tokenDigest: token.digest) {
            try await record(
                .inviteDeleted, organization: organization.id, actor: actor,
                details: ["id": replaced.rawValue, "reason": "replaced", "replaced_by": invite.id.rawValue])
        }
        do {
            try await send(invite, token: token, organization: organization, inviter: user)
        } catch {
            // No one can use an invite whose link never left: withdraw it rather than leave it pending.
            _ = try? await invites.revoke(invite.id, in: organization.id, at: now)
            throw DomainError.emailProviderUnavailable
        }
        try await record(.inviteSent, organization: organization.id, actor: actor, details: Self.details(invite))
        return invite
    }

    /// A page of the organization's live invites (pending, accepted or expired), oldest first.
    public func invites(in membership: Membership, after: String?, limit: Int?) async throws -> Page<Invite> {
        try membership.require(.manageMembers)
        let limit = try PageLimit.validate(limit)
        var cursor: InviteID?
        if let after {
            guard let id = InviteID(after) else { throw DomainError.malformedCursor(expected: "an invite id") }
            cursor = id
        }
        return try await invites.invites(in: membership.organization.id, after: cursor, limit: limit)
    }

    /// One live invite of the organization.
    public func invite(_ rawID: String, in membership: Membership) async throws -> Invite {
        try membership.require(.manageMembers)
        guard let id = InviteID(rawID), let invite = try await invites.invite(id, in: membership.organization.id)
        else { throw DomainError.inviteNotFound(rawID) }
        return invite
    }

    /// Revokes an invite that was not accepted, so its link stops working, and records
    /// `invite.deleted`.
    public func revoke(_ rawID: String, in membership: Membership, actor: AuditActor) async throws -> Invite {
        let current = try await invite(rawID, in: membership)
        guard current.acceptedAt == nil else { throw DomainError.inviteNotPending }
        guard
            let revoked = try await invites.revoke(
                current.id, in: membership.organization.id, at: wholeMilliseconds(clock.now()))
        else { throw DomainError.inviteNotFound(rawID) }
        guard revoked.acceptedAt == nil else { throw DomainError.inviteNotPending }
        try await record(
            .inviteDeleted, organization: membership.organization.id, actor: actor,
            details: ["id": revoked.id.rawValue, "email": revoked.email.value])
        return revoked
    }

    /// Sends an invite that was not accepted again, with a new link (the old one stops working)
    /// and a new expiry, and records `invite.sent` with `resent`.
    public func resend(
        _ rawID: String, in membership: Membership, by user: User, actor: AuditActor
    ) async throws -> Invite {
        let current = try await invite(rawID, in: membership)
        guard current.acceptedAt == nil else { throw DomainError.inviteNotPending }
        let token = InviteToken.generate()
        let expiresAt = wholeMilliseconds(clock.now()).addingTimeInterval(settings.lifetime)
        guard
            let renewed = try await invites.renew(
                current.id, in: membership.organization.id, tokenDigest: token.digest, expiresAt: expiresAt)
        else { throw DomainError.inviteNotPending }
        do {
            try await send(renewed, token: token, organization: membership.organization, inviter: user)
        } catch {
            throw DomainError.emailProviderUnavailable
        }
        var details = Self.details(renewed)
        details["resent"] = "true"
        try await record(.inviteSent, organization: membership.organization.id, actor: actor, details: details)
        return renewed
    }

    /// Where an invite stands now.
    public func status(of invite: Invite) -> Invite.Status {
        invite.status(at: clock.now())
    }

    // MARK: Shared steps

    /// The projects an invite grants: each an active project of the organization, named once;
    /// the default project as a member for a reader who was given none.
    func checkedGrants(
        _ requested: [RequestedGrant], role: OrganizationRole, in organization: OrganizationID
    ) async throws -> [InviteGrant] {
        guard requested.count <= PageLimit.maximum else {
            throw DomainError.invalidField("projects", "An invite may name at most \(PageLimit.maximum) projects.")
        }
        var grants: [InviteGrant] = []
        for (index, entry) in requested.enumerated() {
            let projectRole = try ProjectRole(parsing: entry.role, field: "projects[\(index)].role")
            guard let id = ProjectID(entry.projectID), let project = try await projects.project(id, in: organization),
                !project.isArchived
            else {
                throw DomainError(
                    .notFound, code: .projectNotFound,
                    message: "No active project with id '\(entry.projectID)' exists in this organization.",
                    param: "projects[\(index)].id")
            }
            guard !grants.contains(where: { $0.projectID == id }) else {
                throw DomainError.invalidField("projects[\(index)].id", "Name each project once.")
            }
            grants.append(InviteGrant(projectID: id, role: projectRole))
        }
        if grants.isEmpty, role == .reader,
            let defaultProject = try await projects.list(
                in: organization, after: nil, limit: PageLimit.maximum, includeArchived: false
            ).items.first(where: \.isDefault)
        {
            grants = [InviteGrant(projectID: defaultProject.id, role: .member)]
        }
        return grants
    }

    /// Emails the invite's link.
    func send(_ invite: Invite, token: InviteToken, organization: Organization, inviter: User) async throws {
        let link = settings.linkBaseURL + "/invite?token=" + token.value
        try await email.send(InviteEmail.message(for: invite, organization: organization, inviter: inviter, link: link))
    }

    /// What the audit log records of an invite: never its token.
    static func details(_ invite: Invite) -> [String: String] {
        [
            "id": invite.id.rawValue, "email": invite.email.value, "role": invite.role.rawValue,
            "projects": invite.projects.map { "\($0.projectID.rawValue):\($0.role.rawValue)" }.joined(separator: ","),
        ]
    }

    /// Appends an event to the organization's audit log, effective now.
    func record(
        _ type: AuditEventType, organization: OrganizationID, actor: AuditActor, details: [String: String]
    ) async throws {
        try await audit.append(
            AuditEvent(
                organizationID: organization, type: type, effectiveAt: clock.now(), actor: actor, details: details))
    }
}
