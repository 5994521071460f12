import Foundation
import KeywardenCore

/// Organization and project memberships in memory, as `SQLTeamRepository` keeps them: every change
/// that takes access away revokes the person's keys where they lost it, in the same step.
struct InMemoryTeamRepository: TeamRepository {
    let database: InMemoryDatabase

    func createOrganization(_ organization: Organization, owner: UserID, defaultProject: Project) async throws {
        try await database.transaction { tables in
            try tables.requireUser(owner)
            try tables.require(
                !tables.organizations.contains { $0.organization.id == organization.id }, "organizations.id is unique")
            var stored = organization
            stored.verification = .unverified
            tables.organizations.append(
                InMemoryDatabase.OrganizationRow(organization: stored, phoneDigest: nil, phoneCountry: nil))
            tables.members.append(
                InMemoryDatabase.MemberRow(
                    organizationID: organization.id, userID: owner, role: .owner, addedAt: organization.createdAt))
            try tables.insert(defaultProject)
        }
    }

    func member(_ user: UserID, of organization: OrganizationID) async throws -> OrganizationMember? {
        await database.transaction { (tables) -> OrganizationMember? in
            guard let row = tables.members.first(where: { $0.organizationID == organization && $0.userID == user }),
                let person = tables.users.first(where: { $0.user.id == user })?.user
            else { return nil }
            return OrganizationMember(user: person, role: row.role, addedAt: row.addedAt)
        }
    }

    func changeRole(
        of user: UserID, in organization: OrganizationID, to role: OrganizationRole, at date: Date
    ) async throws -> MemberUpdate {
        await database.transaction { (tables) -> MemberUpdate in
            guard
                let index = tables.members.firstIndex(where: {
                    $0.organizationID == organization && $0.userID == user
                })
            else { return .notMember }
            let previous = tables.members[index].role
            let owners = tables.members.filter { $0.organizationID == organization && $0.role == .owner }.count
            if previous == .owner, role != .owner, owners <= 1 { return .lastOwner }
            tables.members[index].role = role
            var revoked: [APIKey] = []
            if previous == .owner, role == .reader {
                let kept = Set(tables.projectRoles(of: user, in: organization).keys)
                revoked = tables.revokeKeys(ownedBy: user, in: organization, at: date) { key in
                    key.kind == .admin || key.projectID.map { !kept.contains($0) } ?? true
                }
            }
            return .changed(previousRole: previous, revokedKeys: revoked)
        }
    }

    func removeMember(_ user: UserID, from organization: OrganizationID, at date: Date) async throws -> MemberUpdate {
        await database.transaction { (tables) -> MemberUpdate in
            guard
                let index = tables.members.firstIndex(where: {
                    $0.organizationID == organization && $0.userID == user
                })
            else { return .notMember }
            let previous = tables.members[index].role
            let owners = tables.members.filter { $0.organizationID == organization && $0.role == .owner }.count
            if previous == .owner, owners <= 1 { return .lastOwner }
            tables.members.remove(at: index)
            let inOrganization = Set(tables.projects.filter { $0.organizationID == organization }.map(\.id))
            tables.projectMembers.removeAll { $0.userID == user && inOrganization.contains($0.projectID) }
            let revoked = tables.revokeKeys(ownedBy: user, in: organization, at: date) { _ in true }
            return .changed(previousRole: previous, revokedKeys: revoked)
        }
    }

    func projectMembers(of project: ProjectID) async throws -> [ProjectMember] {
        await database.transaction { (tables) -> [ProjectMember] in
            tables.projectMembers.filter { $0.projectID == project }
                .sorted { ($0.addedAt, $0.userID.rawValue) < ($1.addedAt, $1.userID.rawValue) }
                .compactMap { row in
                    tables.users.first { $0.user.id == row.userID }.map {
                        ProjectMember(user: $0.user, role: row.role, addedAt: row.addedAt)
                    }
                }
        }
    }

    func setProjectRole(
        _ role: ProjectRole, of user: UserID, in project: Project, at date: Date
    ) async throws -> ProjectMemberUpdate {
        await database.transaction { (tables) -> ProjectMemberUpdate in
            guard tables.members.contains(where: { $0.organizationID == project.organizationID && $0.userID == user })
            else { return .notOrganizationMember }
            if let index = tables.projectMembers.firstIndex(where: {
                $0.projectID == project.id && $0.userID == user
            }) {
                let previous = tables.projectMembers[index].role
                tables.projectMembers[index].role = role
                return .changed(previousRole: previous)
            }
            tables.projectMembers.append(
                InMemoryDatabase.ProjectMemberRow(projectID: project.id, userID: user, role: role, addedAt: date))
            return .added
        }
    }

    func removeProjectMember(
        _ user: UserID, from project: Project, at date: Date
    ) async throws -> ProjectMemberRemoval {
        await database.transaction { (tables) -> ProjectMemberRemoval in
            guard
                let index = tables.projectMembers.firstIndex(where: {
                    $0.projectID == project.id && $0.userID == user
                })
            else { return .notProjectMember }
            let previous = tables.projectMembers[index].role
            tables.projectMembers.remove(at: index)
            let owner = tables.members.contains {
                $0.organizationID == project.organizationID && $0.userID == user && $0.role == .owner
            }
            var revoked: [APIKey] = []
            if !owner {
                revoked = tables.revokeKeys(ownedBy: user, in: project.organizationID, at: date) {
                    $0.projectID == project.id
                }
            }
            return .removed(previousRole: previous, revokedKeys: revoked)
        }
    }
}
