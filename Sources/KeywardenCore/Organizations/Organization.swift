import Foundation

/// A group of people that owns projects, keys and (later) a verified phone number.
public struct Organization: Equatable, Sendable {
    /// The organization's id.
    public var id: OrganizationID
    /// The display name.
    public var name: String
    /// Whether this is the personal organization made at sign-up.
    public var isPersonal: Bool
    /// When it was created.
    public var createdAt: Date
    /// Whether it may create keys after the enforcement date, and how.
    public var verification: OrganizationVerification
    /// Set while an operator has suspended it: its keys are refused and no new ones are made.
    public var suspension: Suspension?

    /// Creates an organization value.
    public init(
        id: OrganizationID, name: String, isPersonal: Bool, createdAt: Date,
        verification: OrganizationVerification = .unverified, suspension: Suspension? = nil
    ) {
        self.id = id
        self.name = name
        self.isPersonal = isPersonal
        self.createdAt = createdAt
        self.verification = verification
        self.suspension = suspension
    }
}

/// What a member may do in an organization.
public enum OrganizationRole: String, Sendable, Codable, CaseIterable {
    /// May read and change everything in the organization.
    case owner
    /// May read but not change.
    case reader
}

/// A user's place in an organization.
public struct Membership: Equatable, Sendable {
    /// The organization.
    public var organization: Organization
    /// The member's role there.
    public var role: OrganizationRole
    /// When the user joined.
    public var addedAt: Date
    /// The user's roles in the organization's projects they were added to. An owner of the
    /// organization is an owner of every project whatever this holds; a reader reaches only these.
    public var projectRoles: [ProjectID: ProjectRole]

    /// Creates a membership value.
    public init(
        organization: Organization, role: OrganizationRole, addedAt: Date, projectRoles: [ProjectID: ProjectRole] = [:]
    ) {
        self.organization = organization
        self.role = role
        self.addedAt = addedAt
        self.projectRoles = projectRoles
    }
}

/// A member of an organization as listed to other members.
public struct OrganizationMember: Equatable, Sendable {
    /// The member.
    public var user: User
    /// Their role.
    public var role: OrganizationRole
    /// When they joined.
    public var addedAt: Date

    /// Creates a member value.
    public init(user: User, role: OrganizationRole, addedAt: Date) {
        self.user = user
        self.role = role
        self.addedAt = addedAt
    }
}
