import Foundation
import KeywardenCore

/// Invites in memory, as `SQLInviteRepository` keeps them: by the digest of their token, never
/// the token, with acceptance as one step.
struct InMemoryInviteRepository: InviteRepository {
    let database: InMemoryDatabase

    func create(_ invite: Invite, tokenDigest: String) async throws -> [InviteID] {
        try await database.transaction { (tables) -> [InviteID] in
            try tables.requireOrganization(invite.organizationID)
            try tables.requireUser(invite.invitedBy)
            try tables.require(
                !tables.invites.contains { $0.invite.id == invite.id }, "organization_invites.id is unique")
            try tables.require(
                !tables.invites.contains { $0.tokenDigest == tokenDigest },
                "organization_invites.token_digest is unique")
            var replaced: [InviteID] = []
            for index in tables.invites.indices {
                let other = tables.invites[index].invite
                guard other.organizationID == invite.organizationID, other.email == invite.email,
                    other.acceptedAt == nil, other.revokedAt == nil
                else { continue }
                tables.invites[index].invite.revokedAt = invite.invitedAt
                replaced.append(other.id)
            }
            tables.invites.append(InMemoryDatabase.InviteRow(invite: invite, tokenDigest: tokenDigest))
            return replaced
        }
    }

    func invite(_ id: InviteID, in organization: OrganizationID) async throws -> Invite? {
        await database.transaction { tables in
            tables.invites.first {
                $0.invite.id == id && $0.invite.organizationID == organization && $0.invite.revokedAt == nil
            }?.invite
        }
    }

    func invite(tokenDigest: String) async throws -> Invite? {
        await database.transaction { tables in
            tables.invites.first { $0.tokenDigest == tokenDigest && $0.invite.revokedAt == nil }?.invite
        }
    }

    func invites(in organization: OrganizationID, after: InviteID?, limit: Int) async throws -> Page<Invite> {
        try await database.transaction { (tables) -> Page<Invite> in
            let live = tables.invites.map(\.invite).filter { $0.organizationID == organization && $0.revokedAt == nil }
            return try InMemoryKeyset.page(of: live, after: after?.rawValue, limit: limit) {
                ($0.invitedAt, $0.id.rawValue)
            }
        }
    }

    func revoke(_ id: InviteID, in organization: OrganizationID, at date: Date) async throws -> Invite? {
        await database.transaction { (tables) -> Invite? in
            guard
                let index = tables.invites.firstIndex(where: {
                    $0.invite.id == id && $0.invite.organizationID == organization && $0.invite.revokedAt == nil
                })
            else { return nil }
            if tables.invites[index].invite.acceptedAt == nil { tables.invites[index].invite.revokedAt = date }
            return tables.invites[index].invite
        }
    }

    func renew(
        _ id: InviteID, in organization: OrganizationID, tokenDigest: String, expiresAt: Date
    ) async throws -> Invite? {
        await database.transaction { (tables) -> Invite? in
            guard
                let index = tables.invites.firstIndex(where: {
                    $0.invite.id == id && $0.invite.organizationID == organization && $0.invite.revokedAt == nil
                        && $0.invite.acceptedAt == nil
                })
            else { return nil }
            tables.invites[index].tokenDigest = tokenDigest
            tables.invites[index].invite.expiresAt = expiresAt
            return tables.invites[index].invite
        }
    }

    func accept(_ id: InviteID, tokenDigest: String, by user: UserID, at date: Date) async throws -> InviteAcceptance {
        try await database.transaction { (tables) -> InviteAcceptance in
            guard
                let index = tables.invites.firstIndex(where: {
                    $0.invite.id == id && $0.tokenDigest == tokenDigest && $0.invite.revokedAt == nil
                        && $0.invite.acceptedAt == nil && $0.invite.expiresAt > date
                })
            else { return .notPending }
            let invite = tables.invites[index].invite
            try tables.requireUser(user)
            guard !tables.members.contains(where: { $0.organizationID == invite.organizationID && $0.userID == user })
            else { return .alreadyMember }
            tables.members.append(
                InMemoryDatabase.MemberRow(
                    organizationID: invite.organizationID, userID: user, role: invite.role, addedAt: date))
            for grant in invite.projects {
                // Projects archived or gone since the invite was sent are skipped.
                guard
                    tables.projects.contains(where: {
                        $0.id == grant.projectID && $0.organizationID == invite.organizationID && !$0.isArchived
                    })
                else { continue }
                tables.projectMembers.append(
                    InMemoryDatabase.ProjectMemberRow(
                        projectID: grant.projectID, userID: user, role: grant.role, addedAt: date))
            }
            tables.invites[index].invite.acceptedAt = date
            return .accepted(tables.invites[index].invite)
        }
    }
}
