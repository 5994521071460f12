/// What a member may do across an organization: the organization half of the permission matrix.
///
/// Readers read the organization and its member list; owners do everything.
public enum OrganizationPermission: Sendable, CaseIterable {
    /// The organization's name, standing and member list.
    case readOrganization
    /// Invite people, change roles, remove members.
    case manageMembers
    /// Rename the organization.
    case renameOrganization
    /// Verify a phone number for it.
    case verifyPhone
    /// Create, list and revoke admin keys.
    case manageAdminKeys
    /// Create projects.
    case createProjects
    /// Read the audit log, which names every project.
    case readAuditLog
    /// See and change billing: cards, credits, auto-recharge.
    case manageBilling

    /// Whether `role` holds this permission.
    public func isGranted(to role: OrganizationRole) -> Bool {
        switch self {
        case .readOrganization: true
        case .manageMembers, .renameOrganization, .verifyPhone, .manageAdminKeys, .createProjects, .readAuditLog,
            .manageBilling:
            role == .owner
        }
    }

    /// The action, as the refusal names it: "Only organization owners can ...".
    var action: String {
        switch self {
        case .readOrganization: "read this organization"
        case .manageMembers: "invite, change or remove members"
        case .renameOrganization: "rename the organization"
        case .verifyPhone: "verify a phone number"
        case .manageAdminKeys: "manage admin keys"
        case .createProjects: "create projects"
        case .readAuditLog: "read the audit log"
        case .manageBilling: "see or change billing"
        }
    }
}

/// What a person may do in one project: the project half of the permission matrix.
///
/// Viewers read; members also make keys of their own and rotate or revoke those; owners
/// manage the project and every key in it. Organization owners are owners of every project.
public enum ProjectPermission: Sendable, CaseIterable {
    /// The project, its keys (redacted), its usage and its limits.
    case read
    /// Create keys owned by oneself.
    case createKeys
    /// Rotate and revoke keys owned by oneself.
    case changeOwnKeys
    /// Rename, archive, manage its users and rate limits, create service accounts, change any key.
    case manage

    /// Whether `role` holds this permission.
    public func isGranted(to role: ProjectRole) -> Bool {
        switch self {
        case .read: true
        case .createKeys, .changeOwnKeys: role != .viewer
        case .manage: role == .owner
        }
    }

    /// The action, as the refusal names it.
    var action: String {
        switch self {
        case .read: "read this project"
        case .createKeys: "create API keys"
        case .changeOwnKeys: "rotate or revoke API keys"
        case .manage: "manage this project"
        }
    }
}
