import Foundation
import KeywardenCore
import SQLKit

/// Users, organizations and memberships in SQL.
public struct SQLAccountRepository: AccountRepository {
    let database: DatabaseClient

    /// Creates the repository over a database.
    public init(database: DatabaseClient) {
        self.database = database
    }

    public func createAccount(_ account: NewAccount) async throws {
        let user = account.user
        let organization = account.organization
        let project = account.defaultProject
        do {
            try await database.withTransaction { db in
                try await db.raw(
                    """
                    INSERT INTO users (id, email, name, password_hash, created_at, email_confirmed_at)
                    VALUES (\(bind: user.id.rawValue), \(bind: user.email.value), \(bind: user.name),
                            \(bind: account.passwordHash), \(bind: user.createdAt.unixMilliseconds),
                            \(bind: user.emailConfirmedAt?.unixMilliseconds))
                    """
                ).run()
                try await Self.insert(organization, owner: user.id, defaultProject: project, into: db)
            }
        } catch {
            // The unique index on email is the arbiter between racing sign-ups; report its
            // refusal in domain terms whichever driver raised it.
            if try await credentials(email: user.email) != nil {
                throw DomainError(
                    .conflict, code: .emailTaken,
                    message: "An account with this email address already exists. Sign in instead.",
                    param: "email")
            }
            throw error
        }
    }

    /// The columns ``SQLRow/user(prefix:)`` reads.
    static let userColumns = "id, email, name, created_at, email_confirmed_at"

    public func confirmEmail(of user: UserID, at date: Date) async throws -> User? {
        try await database.withConnection { db in
            try await db.raw(
                """
                UPDATE users SET email_confirmed_at = \(bind: date.unixMilliseconds)
                WHERE id = \(bind: user.rawValue) AND email_confirmed_at IS NULL
                """
            ).run()
            return try await db.raw(
                "SELECT \(unsafeRaw: Self.userColumns) FROM users WHERE id = \(bind: user.rawValue)"
            )
            .first()?.user()
        }
    }

    public func setPasswordHash(_ hash: String, of user: UserID) async throws -> Bool {
        try await database.withConnection { db in
            try await db.raw(
                "UPDATE users SET password_hash = \(bind: hash) WHERE id = \(bind: user.rawValue) RETURNING id"
            ).first() != nil
        }
    }

    /// The columns ``SQLRow/organization(prefix:)`` reads, of `organizations o`.
    static let organizationColumns = [
        "id", "name", "is_personal", "created_at", "verification_status",
        "verification_method", "verified_at", "phone_masked", "verified_by", "suspended_at", "suspension_reason",
    ].map { "o.\($0)" }.joined(separator: ", ")

    public func credentials(email: EmailAddress) async throws -> UserCredentials? {
        try await database.withConnection { db in
            guard
                let row = try await db.raw(
                    "SELECT \(unsafeRaw: Self.userColumns), password_hash FROM users WHERE email = \(bind: email.value)"
                ).first()
            else { return nil }
            return UserCredentials(user: try row.user(), passwordHash: try row.string("password_hash"))
        }
    }

    public func user(id: UserID) async throws -> User? {
        try await database.withConnection { db in
            try await db.raw("SELECT \(unsafeRaw: Self.userColumns) FROM users WHERE id = \(bind: id.rawValue)")
                .first()?.user()
        }
    }

    public func organization(id: OrganizationID) async throws -> Organization? {
        try await database.withConnection { db in
            try await db.raw(
                "SELECT \(unsafeRaw: Self.organizationColumns) FROM organizations o WHERE o.id = \(bind: id.rawValue)"
            ).first()?.organization()
        }
    }

    public func renameOrganization(_ id: OrganizationID, to name: String) async throws -> Organization? {
        try await database.withConnection { db in
            try await db.raw("UPDATE organizations SET name = \(bind: name) WHERE id = \(bind: id.rawValue)").run()
            return try await db.raw(
                "SELECT \(unsafeRaw: Self.organizationColumns) FROM organizations o WHERE o.id = \(bind: id.rawValue)"
            ).first()?.organization()
        }
    }

    public func memberships(of user: UserID) async throws -> [Membership] {
        try await database.withConnection { db in
            let rows = try await db.raw(
                """
                SELECT \(unsafeRaw: Self.organizationColumns), m.role, m.added_at
                FROM organization_members m JOIN organizations o ON o.id = m.organization_id
                WHERE m.user_id = \(bind: user.rawValue)
                ORDER BY m.added_at, o.id
                """
            ).all()
            // The person's project roles come on the same connection, so every check of a
            // request reads them from memory.
            let projectRoles = try await Self.projectRoles(of: user, db: db)
            return try rows.map { row -> Membership in
                let organization = try row.organization()
                return Membership(
                    organization: organization, role: try row.role("role"), addedAt: try row.date("added_at"),
                    projectRoles: projectRoles[organization.id] ?? [:])
            }
        }
    }

    public func members(of organization: OrganizationID) async throws -> [OrganizationMember] {
        try await database.withConnection { db in
            let rows = try await db.raw(
                """
                SELECT u.id, u.email, u.name, u.created_at, u.email_confirmed_at, m.role, m.added_at
                FROM organization_members m JOIN users u ON u.id = m.user_id
                WHERE m.organization_id = \(bind: organization.rawValue)
                ORDER BY m.added_at, u.id
                """
            ).all()
            return try rows.map {
                OrganizationMember(user: try $0.user(), role: try $0.role("role"), addedAt: try $0.date("added_at"))
            }
        }
    }
}
