import Foundation
import KeywardenCore
import SQLKit

/// Organization and project memberships in SQL.
///
/// Every change to who belongs where runs in one transaction that first takes the
/// organization's row lock, so two owners stepping down at once cannot leave it without one;
/// a change that takes access away revokes the keys the person owns there in that transaction.
public struct SQLTeamRepository: TeamRepository {
    let database: DatabaseClient
    /// Revokes keys and announces them, stamped with this clock as every key change is.
    let keys: SQLAPIKeyRepository

    /// Creates the repository over a database.
    public init(database: DatabaseClient, clock: Clock = .live) {
        self.database = database
        self.keys = SQLAPIKeyRepository(database: database, clock: clock)
    }

    public func createOrganization(_ organization: Organization, owner: UserID, defaultProject: Project) async throws {
        try await database.withTransaction { db in
            try await SQLAccountRepository.insert(organization, owner: owner, defaultProject: defaultProject, into: db)
        }
    }

    public func member(_ user: UserID, of organization: OrganizationID) async throws -> OrganizationMember? {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT u.id, u.email, u.name, u.created_at, u.email_confirmed_at, m.role, m.added_at
                FROM organization_members m JOIN users u ON u.id = m.user_id
                WHERE m.organization_id = \(bind: organization.rawValue) AND m.user_id = \(bind: user.rawValue)
                """
            ).first().map {
                OrganizationMember(user: try $0.user(), role: try $0.role("role"), addedAt: try $0.date("added_at"))
            }
        }
    }

    public func changeRole(
        of user: UserID, in organization: OrganizationID, to role: OrganizationRole, at date: Date
    ) async throws -> MemberUpdate {
        try await database.withTransaction { db -> MemberUpdate in
            try await Self.lock(organization, db: db)
            guard let previous = try await Self.role(of: user, in: organization, db: db) else { return .notMember }
            if previous == .owner, role != .owner, try await Self.owners(of: organization, db: db) <= 1 {
                return .lastOwner
            }
            try await db.raw(
                """
                UPDATE organization_members SET role = \(bind: role.rawValue)
                WHERE organization_id = \(bind: organization.rawValue) AND user_id = \(bind: user.rawValue)
                """
            ).run()
            guard previous == .owner, role == .reader else {
                return .changed(previousRole: previous, revokedKeys: [])
            }
            // A reader keeps only the projects they were added to, and no admin keys.
            let revoked = try await keys.revokeOwnedKeys(
                of: user, in: organization,
                where: """
                    (kind = 'admin' OR project_id NOT IN (
                        SELECT project_id FROM project_members WHERE user_id = \(bind: user.rawValue)))
                    """,
                at: date, db: db)
            return .changed(previousRole: previous, revokedKeys: revoked)
        }
    }

    public func removeMember(
        _ user: UserID, from organization: OrganizationID, at date: Date
    ) async throws -> MemberUpdate {
        try await database.withTransaction { db -> MemberUpdate in
            try await Self.lock(organization, db: db)
            guard let previous = try await Self.role(of: user, in: organization, db: db) else { return .notMember }
            if previous == .owner, try await Self.owners(of: organization, db: db) <= 1 { return .lastOwner }
            try await db.raw(
                """
                DELETE FROM project_members
                WHERE user_id = \(bind: user.rawValue)
                  AND project_id IN (SELECT id FROM projects WHERE organization_id = \(bind: organization.rawValue))
                """
            ).run()
            try await db.raw(
                """
                DELETE FROM organization_members
                WHERE organization_id = \(bind: organization.rawValue) AND user_id = \(bind: user.rawValue)
                """
            ).run()
            let revoked = try await keys.revokeOwnedKeys(of: user, in: organization, where: "1 = 1", at: date, db: db)
            return .changed(previousRole: previous, revokedKeys: revoked)
        }
    }

    public func projectMembers(of project: ProjectID) async throws -> [ProjectMember] {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT u.id, u.email, u.name, u.created_at, u.email_confirmed_at, pm.role, pm.added_at
                FROM project_members pm JOIN users u ON u.id = pm.user_id
                WHERE pm.project_id = \(bind: project.rawValue)
                ORDER BY pm.added_at, u.id
                """
            ).all().map {
                ProjectMember(user: try $0.user(), role: try $0.projectRole("role"), addedAt: try $0.date("added_at"))
            }
        }
    }

    public func setProjectRole(
        _ role: ProjectRole, of user: UserID, in project: Project, at date: Date
    ) async throws -> ProjectMemberUpdate {
        try await database.withTransaction { db -> ProjectMemberUpdate in
            try await Self.lock(project.organizationID, db: db)
            guard try await Self.role(of: user, in: project.organizationID, db: db) != nil else {
                return .notOrganizationMember
            }
            if let previous = try await Self.projectRole(of: user, in: project.id, db: db) {
                try await db.raw(
                    """
                    UPDATE project_members SET role = \(bind: role.rawValue)
                    WHERE project_id = \(bind: project.id.rawValue) AND user_id = \(bind: user.rawValue)
                    """
                ).run()
                return .changed(previousRole: previous)
            }
            try await db.raw(
                """
                INSERT INTO project_members (project_id, user_id, role, added_at)
                VALUES (\(bind: project.id.rawValue), \(bind: user.rawValue), \(bind: role.rawValue),
                        \(bind: date.unixMilliseconds))
                """
            ).run()
            return .added
        }
    }

    public func removeProjectMember(
        _ user: UserID, from project: Project, at date: Date
    ) async throws -> ProjectMemberRemoval {
        try await database.withTransaction { db -> ProjectMemberRemoval in
            try await Self.lock(project.organizationID, db: db)
            guard let previous = try await Self.projectRole(of: user, in: project.id, db: db) else {
                return .notProjectMember
            }
            try await db.raw(
                """
                DELETE FROM project_members
                WHERE project_id = \(bind: project.id.rawValue) AND user_id = \(bind: user.rawValue)
                """
            ).run()
            // An organization owner still reaches every project; anyone else loses this one.
            guard try await Self.role(of: user, in: project.organizationID, db: db) != .owner else {
                return .removed(previousRole: previous, revokedKeys: [])
            }
            let revoked = try await keys.revokeOwnedKeys(
                of: user, in: project.organizationID, where: "project_id = \(bind: project.id.rawValue)", at: date,
                db: db)
            return .removed(previousRole: previous, revokedKeys: revoked)
        }
    }

    // MARK: Shared steps

    /// Takes the organization's row lock until the transaction ends (a no-op write, the same on
    /// both databases; SQLite's transactions hold the one write lock already).
    static func lock(_ organization: OrganizationID, db: any SQLDatabase) async throws {
        try await db.raw("UPDATE organizations SET name = name WHERE id = \(bind: organization.rawValue)").run()
    }

    /// The person's role in the organization, or `nil` when they are not a member.
    static func role(
        of user: UserID, in organization: OrganizationID, db: any SQLDatabase
    ) async throws
        -> OrganizationRole?
    {
        try await db.raw(
            """
            SELECT role FROM organization_members
            WHERE organization_id = \(bind: organization.rawValue) AND user_id = \(bind: user.rawValue)
            """
        ).first()?.role("role")
    }

    /// The person's role in the project, or `nil` when they were not added to it.
    static func projectRole(of user: UserID, in project: ProjectID, db: any SQLDatabase) async throws -> ProjectRole? {
        try await db.raw(
            """
            SELECT role FROM project_members
            WHERE project_id = \(bind: project.rawValue) AND user_id = \(bind: user.rawValue)
            """
        ).first()?.projectRole("role")
    }

    /// How many owners the organization has.
    static func owners(of organization: OrganizationID, db: any SQLDatabase) async throws -> Int {
        try await db.raw(
            """
            SELECT COUNT(*) AS owners FROM organization_members
            WHERE organization_id = \(bind: organization.rawValue) AND role = 'owner'
            """
        ).first()?.decode(column: "owners", as: Int.self) ?? 0
    }
}
