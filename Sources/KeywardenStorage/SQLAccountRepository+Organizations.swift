import Foundation
import KeywardenCore
import SQLKit

/// What sign-up and creating a further organization share: the organization, its owner's
/// membership and its default project; and the project roles read with memberships.
extension SQLAccountRepository {
    /// Writes an organization, `owner`'s membership (from the organization's creation time) and
    /// its default project, inside the caller's transaction.
    static func insert(
        _ organization: Organization, owner: UserID, defaultProject: Project, into db: any SQLDatabase
    ) async throws {
        try await db.raw(
            """
            INSERT INTO organizations (id, name, is_personal, created_at)
            VALUES (\(bind: organization.id.rawValue), \(bind: organization.name),
                    \(bind: organization.isPersonal ? 1 : 0), \(bind: organization.createdAt.unixMilliseconds))
            """
        ).run()
        try await db.raw(
            """
            INSERT INTO organization_members (organization_id, user_id, role, added_at)
            VALUES (\(bind: organization.id.rawValue), \(bind: owner.rawValue),
                    \(bind: OrganizationRole.owner.rawValue), \(bind: organization.createdAt.unixMilliseconds))
            """
        ).run()
        try await SQLProjectRepository.insert(defaultProject, into: db)
    }

    /// The person's project roles, by the organization each project belongs to.
    static func projectRoles(
        of user: UserID, db: any SQLDatabase
    ) async throws -> [OrganizationID: [ProjectID: ProjectRole]] {
        let rows = try await db.raw(
            """
            SELECT pm.project_id, pm.role, p.organization_id
            FROM project_members pm JOIN projects p ON p.id = pm.project_id
            WHERE pm.user_id = \(bind: user.rawValue)
            """
        ).all()
        var roles: [OrganizationID: [ProjectID: ProjectRole]] = [:]
        for row in rows {
            let organization = OrganizationID(unchecked: try row.string("organization_id"))
            let project = ProjectID(unchecked: try row.string("project_id"))
            let role = try row.projectRole("role")
            roles[organization, default: [:]][project] = role
        }
        return roles
    }
}
