import Foundation

/// What accepting an invite did.
public enum InviteAcceptance: Equatable, Sendable {
    /// The person joined the organization and its projects; the invite as it now is.
    case accepted(Invite)
    /// The invite was accepted, revoked, expired or sent again with a new token meanwhile.
    case notPending
    /// The person already belongs to the organization; nothing was written.
    case alreadyMember
}

/// Stores invitations by the digest of their token.
public protocol InviteRepository: Sendable {
    /// Stores a new invite under the digest of its token and revokes, in the same transaction,
    /// the pending invites of the organization to the same address; returns those it replaced.
    func create(_ invite: Invite, tokenDigest: String) async throws -> [InviteID]

    /// The live (not revoked) invite with this id in this organization.
    func invite(_ id: InviteID, in organization: OrganizationID) async throws -> Invite?

    /// The live invite whose token has this digest.
    func invite(tokenDigest: String) async throws -> Invite?

    /// The organization's live invites, oldest first, after the invite `after`.
    func invites(in organization: OrganizationID, after: InviteID?, limit: Int) async throws -> Page<Invite>

    /// Revokes a live invite that was not accepted; returns the invite as it now is, or `nil`
    /// when there is no live invite with this id.
    func revoke(_ id: InviteID, in organization: OrganizationID, at date: Date) async throws -> Invite?

    /// Gives a live, unaccepted invite a new token and expiry (the old token stops working);
    /// returns it as it now is, or `nil` when there is no such invite.
    func renew(
        _ id: InviteID, in organization: OrganizationID, tokenDigest: String, expiresAt: Date
    ) async throws -> Invite?

    /// In one transaction: checks the invite is still pending under this token at `date`, adds
    /// the person to the organization with the invite's role and to the invite's projects that
    /// are still active, and marks the invite accepted.
    func accept(_ id: InviteID, tokenDigest: String, by user: UserID, at date: Date) async throws -> InviteAcceptance
}
