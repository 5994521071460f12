import Foundation
import KeywardenCore
import SQLKit

/// Invites in SQL, by the SHA-256 of their token, never the token.
public struct SQLInviteRepository: InviteRepository {
    let database: DatabaseClient

    /// Creates the repository over a database.
    public init(database: DatabaseClient) {
        self.database = database
    }

    public func create(_ invite: Invite, tokenDigest: String) async throws -> [InviteID] {
        let projects = try InviteColumns.text(invite.projects)
        return try await database.withTransaction { db -> [InviteID] in
            try await SQLTeamRepository.lock(invite.organizationID, db: db)
            let replaced = try await db.raw(
                """
                SELECT id FROM organization_invites
                WHERE organization_id = \(bind: invite.organizationID.rawValue) AND email = \(bind: invite.email.value)
                  AND accepted_at IS NULL AND revoked_at IS NULL
                """
            ).all().map { InviteID(unchecked: try $0.string("id")) }
            for id in replaced {
                try await db.raw(
                    """
                    UPDATE organization_invites SET revoked_at = \(bind: invite.invitedAt.unixMilliseconds)
                    WHERE id = \(bind: id.rawValue)
                    """
                ).run()
            }
            try await db.raw(
                """
                INSERT INTO organization_invites (\(unsafeRaw: InviteColumns.all), token_digest)
                VALUES (\(bind: invite.id.rawValue), \(bind: invite.organizationID.rawValue),
                        \(bind: invite.email.value), \(bind: invite.role.rawValue), \(bind: projects),
                        \(bind: invite.invitedBy.rawValue), \(bind: invite.invitedAt.unixMilliseconds),
                        \(bind: invite.expiresAt.unixMilliseconds), \(bind: invite.acceptedAt?.unixMilliseconds),
                        \(bind: invite.revokedAt?.unixMilliseconds), \(bind: tokenDigest))
                """
            ).run()
            return replaced
        }
    }

    public func invite(_ id: InviteID, in organization: OrganizationID) async throws -> Invite? {
        try await database.withConnection { db in
            try await Self.live(id, in: organization, db: db)
        }
    }

    public func invite(tokenDigest: String) async throws -> Invite? {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT \(unsafeRaw: InviteColumns.all) FROM organization_invites
                WHERE token_digest = \(bind: tokenDigest) AND revoked_at IS NULL
                """
            ).first()?.invite()
        }
    }

    public func invites(in organization: OrganizationID, after: InviteID?, limit: Int) async throws -> Page<Invite> {
        try await database.withConnection { db in
            let keyset = try await Keyset.after(
                after?.rawValue, in: "organization_invites", organization: organization, timeColumn: "invited_at",
                within: "revoked_at IS NULL", db: db)
            let rows = try await db.raw(
                """
                SELECT \(unsafeRaw: InviteColumns.all) FROM organization_invites
                WHERE organization_id = \(bind: organization.rawValue) AND revoked_at IS NULL
                  AND \(keyset.condition)
                \(keyset.orderAndLimit(limit))
                """
            ).all()
            return Keyset.page(try rows.map { try $0.invite() }, limit: limit)
        }
    }

    // Revoking and renewing take the organization's lock, as acceptance does, so an invite being
    // accepted is either revoked (or renewed) before or after, never halfway.
    public func revoke(_ id: InviteID, in organization: OrganizationID, at date: Date) async throws -> Invite? {
        try await database.withTransaction { db -> Invite? in
            try await SQLTeamRepository.lock(organization, db: db)
            try await db.raw(
                """
                UPDATE organization_invites SET revoked_at = \(bind: date.unixMilliseconds)
                WHERE id = \(bind: id.rawValue) AND organization_id = \(bind: organization.rawValue)
                  AND accepted_at IS NULL AND revoked_at IS NULL
                """
            ).run()
            return try await db.raw(
                """
                SELECT \(unsafeRaw: InviteColumns.all) FROM organization_invites
                WHERE id = \(bind: id.rawValue) AND organization_id = \(bind: organization.rawValue)
                """
            ).first()?.invite()
        }
    }

    public func renew(
        _ id: InviteID, in organization: OrganizationID, tokenDigest: String, expiresAt: Date
    ) async throws -> Invite? {
        try await database.withTransaction { db -> Invite? in
            try await SQLTeamRepository.lock(organization, db: db)
            try await db.raw(
                """
                UPDATE organization_invites
                SET token_digest = \(bind: tokenDigest), expires_at = \(bind: expiresAt.unixMilliseconds)
                WHERE id = \(bind: id.rawValue) AND organization_id = \(bind: organization.rawValue)
                  AND accepted_at IS NULL AND revoked_at IS NULL
                """
            ).run()
            guard let invite = try await Self.live(id, in: organization, db: db), invite.acceptedAt == nil else {
                return nil
            }
            return invite
        }
    }

    public func accept(
        _ id: InviteID, tokenDigest: String, by user: UserID, at date: Date
    ) async throws -> InviteAcceptance {
        try await database.withTransaction { db -> InviteAcceptance in
            guard let found = try await Self.live(id, db: db) else { return .notPending }
            try await SQLTeamRepository.lock(found.organizationID, db: db)
            // Read again under the lock: a second send, a revocation or another acceptance may
            // have come first.
            guard
                let invite = try await db.raw(
                    """
                    SELECT \(unsafeRaw: InviteColumns.all) FROM organization_invites
                    WHERE id = \(bind: id.rawValue) AND token_digest = \(bind: tokenDigest)
                      AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > \(bind: date.unixMilliseconds)
                    """
                ).first()?.invite()
            else { return .notPending }
            guard try await SQLTeamRepository.role(of: user, in: invite.organizationID, db: db) == nil else {
                return .alreadyMember
            }
            try await db.raw(
                """
                INSERT INTO organization_members (organization_id, user_id, role, added_at)
                VALUES (\(bind: invite.organizationID.rawValue), \(bind: user.rawValue), \(bind: invite.role.rawValue),
                        \(bind: date.unixMilliseconds))
                """
            ).run()
            for grant in invite.projects {
                // Projects archived or gone since the invite was sent are skipped.
                try await db.raw(
                    """
                    INSERT INTO project_members (project_id, user_id, role, added_at)
                    SELECT id, \(bind: user.rawValue), \(bind: grant.role.rawValue), \(bind: date.unixMilliseconds)
                    FROM projects
                    WHERE id = \(bind: grant.projectID.rawValue)
                      AND organization_id = \(bind: invite.organizationID.rawValue) AND archived_at IS NULL
                    """
                ).run()
            }
            try await db.raw(
                """
                UPDATE organization_invites SET accepted_at = \(bind: date.unixMilliseconds)
                WHERE id = \(bind: id.rawValue)
                """
            ).run()
            var accepted = invite
            accepted.acceptedAt = Date(unixMilliseconds: date.unixMilliseconds)
            return .accepted(accepted)
        }
    }

    /// The live invite `id`, in `organization` when one is given.
    static func live(
        _ id: InviteID, in organization: OrganizationID? = nil, db: any SQLDatabase
    ) async throws
        -> Invite?
    {
        let invite = try await db.raw(
            """
            SELECT \(unsafeRaw: InviteColumns.all) FROM organization_invites
            WHERE id = \(bind: id.rawValue) AND revoked_at IS NULL
            """
        ).first()?.invite()
        guard let invite, organization.map({ $0 == invite.organizationID }) ?? true else { return nil }
        return invite
    }
}
