import Foundation

/// What the invite page shows about an invite, read by its link's token.
public struct InvitePreview: Sendable {
    /// The invite.
    public var invite: Invite
    /// Where it stands now.
    public var status: Invite.Status
    /// The organization it invites to.
    public var organization: Organization
    /// Who sent it; `nil` if their account is gone.
    public var inviter: User?
}

/// Accepting an invite: the person signed in with the address it was sent to joins the
/// organization and its projects, and their address counts as confirmed, since the link reached it.
extension InviteService {
    /// The invite a link's token names, with its organization and who sent it.
    ///
    /// - Throws: `invite_not_found` for a token that names no live invite.
    public func preview(token raw: String) async throws -> InvitePreview {
        guard let invite = try await self.invite(token: raw),
            let organization = try await accounts.organization(id: invite.organizationID)
        else { throw DomainError.inviteLinkNotFound }
        return InvitePreview(
            invite: invite, status: invite.status(at: clock.now()), organization: organization,
            inviter: try await accounts.user(id: invite.invitedBy))
    }

    /// Accepts the invite a link's token names for the signed-in `user`, in one transaction
    /// (membership, project memberships, the invite marked accepted); then confirms the user's
    /// email address and records `invite.accepted` and `user.added`.
    ///
    /// - Returns: the accepted invite and the user's new membership.
    /// - Throws: `invite_not_found`, `invite_expired`, `invite_not_pending` (accepted already),
    ///   `invite_email_mismatch` for someone signed in with another address (which is not named),
    ///   `already_member` for someone already in the organization.
    public func accept(token raw: String, by user: User, actor: AuditActor) async throws -> (Invite, Membership) {
        guard let invite = try await self.invite(token: raw) else { throw DomainError.inviteLinkNotFound }
        let now = wholeMilliseconds(clock.now())
        switch invite.status(at: now) {
        case .accepted: throw DomainError.inviteNotPending
        case .expired: throw DomainError.inviteExpired
        case .pending: break
        }
        guard invite.email == user.email else { throw DomainError.inviteEmailMismatch }
        let accepted: Invite
        switch try await invites.accept(invite.id, tokenDigest: InviteToken(value: raw).digest, by: user.id, at: now) {
        case .notPending: throw DomainError.inviteNotPending
        case .alreadyMember: throw DomainError.alreadyJoined
        case .accepted(let stored): accepted = stored
        }
        _ = try await accounts.confirmEmail(of: user.id, at: now)
        try await record(
            .inviteAccepted, organization: accepted.organizationID, actor: actor, details: Self.details(accepted))
        try await record(
            .userAdded, organization: accepted.organizationID, actor: actor,
            details: ["id": user.id.rawValue, "role": accepted.role.rawValue, "invite_id": accepted.id.rawValue])
        guard
            let membership = try await accounts.memberships(of: user.id).first(where: {
                $0.organization.id == accepted.organizationID
            })
        else { throw DomainError.organizationNotFound }
        return (accepted, membership)
    }

    /// The live invite a presented token names; `nil` for anything else, malformed tokens included.
    func invite(token raw: String) async throws -> Invite? {
        guard !raw.isEmpty, raw.utf8.count <= 128 else { return nil }
        return try await invites.invite(tokenDigest: InviteToken(value: raw).digest)
    }
}

extension DomainError {
    /// The person accepting an invite already belongs to its organization.
    public static let alreadyJoined = DomainError(
        .conflict, code: .alreadyMember,
        message: "You already belong to this organization. Switch to it from the organization menu.", param: "token")
}
