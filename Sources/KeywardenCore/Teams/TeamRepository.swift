import Foundation

/// What changing or removing an organization member did.
public enum MemberUpdate: Equatable, Sendable {
    /// The change was made. `previousRole` is the role the member had; `revokedKeys` are the keys
    /// they owned in projects they can no longer reach, revoked in the same transaction.
    case changed(previousRole: OrganizationRole, revokedKeys: [APIKey])
    /// The person is not a member of the organization; nothing was changed.
    case notMember
    /// The change would leave the organization without an owner; nothing was changed.
    case lastOwner
}

/// What adding a person to a project, or changing their role there, did.
public enum ProjectMemberUpdate: Equatable, Sendable {
    /// The person was added to the project.
    case added
    /// The person's role there changed from `previousRole`.
    case changed(previousRole: ProjectRole)
    /// The person is not a member of the project's organization; nothing was written.
    case notOrganizationMember
}

/// What removing a person from a project did.
public enum ProjectMemberRemoval: Equatable, Sendable {
    /// The person was removed, with the keys they owned in the project if they can no longer
    /// reach it (an organization owner still can), revoked in the same transaction.
    case removed(previousRole: ProjectRole, revokedKeys: [APIKey])
    /// The person was not a member of the project.
    case notProjectMember
}

/// Stores who belongs to which organization and project, and creates further organizations.
///
/// Every change that takes access away revokes, in the same transaction, the keys the person
/// owns where they lose access, so no key outlives its owner's access.
public protocol TeamRepository: Sendable {
    /// Writes an organization, its owner's membership and its default project in one transaction.
    func createOrganization(_ organization: Organization, owner: UserID, defaultProject: Project) async throws

    /// One member of an organization.
    func member(_ user: UserID, of organization: OrganizationID) async throws -> OrganizationMember?

    /// Changes a member's role, unless that leaves the organization without an owner. Demoting an
    /// owner revokes their admin keys and their keys in projects they were not added to.
    func changeRole(
        of user: UserID, in organization: OrganizationID, to role: OrganizationRole, at date: Date
    ) async throws -> MemberUpdate

    /// Removes a member, their project memberships in the organization and every key they own
    /// there, unless they are its last owner.
    func removeMember(_ user: UserID, from organization: OrganizationID, at date: Date) async throws -> MemberUpdate

    /// The people added to a project, oldest first.
    func projectMembers(of project: ProjectID) async throws -> [ProjectMember]

    /// Adds a member of the project's organization to the project with `role`, or changes their
    /// role there.
    func setProjectRole(
        _ role: ProjectRole, of user: UserID, in project: Project, at date: Date
    ) async throws -> ProjectMemberUpdate

    /// Removes a person from a project, revoking the keys they own there unless they still reach
    /// it as an organization owner.
    func removeProjectMember(_ user: UserID, from project: Project, at date: Date) async throws -> ProjectMemberRemoval
}
