/// The refusals of organizations, members, project users and invites, each with its stable code.
extension DomainError {
    /// The change would leave the organization without an owner.
    public static let lastOwner = DomainError(
        .conflict, code: .lastOwner,
        message:
            "An organization needs at least one owner, and this is its last one. Make another member an owner first.",
        param: "user_id")

    /// No member of the organization has this id.
    public static func userNotFound(_ id: String) -> DomainError {
        DomainError(
            .notFound, code: .userNotFound,
            message: "No member of this organization has id '\(id)'. Invite them to the organization first.",
            param: "user_id")
    }

    /// No person added to the project has this id.
    public static func projectUserNotFound(_ id: String) -> DomainError {
        DomainError(
            .notFound, code: .userNotFound,
            message: "No user with id '\(id)' was added to this project. Add them with POST .../users first.",
            param: "user_id")
    }

    /// The person invited already belongs to the organization.
    public static let alreadyOrganizationMember = DomainError(
        .conflict, code: .alreadyMember,
        message: "This person is already a member of this organization. Change their role instead.", param: "email")

    /// The person added to a project is already in it.
    public static let alreadyProjectMember = DomainError(
        .conflict, code: .alreadyMember,
        message:
            "This person is already a member of this project. Change their role with "
            + "POST /v1/organization/projects/{project_id}/users/{user_id}.",
        param: "user_id")

    /// No live invite of the organization has this id.
    public static func inviteNotFound(_ id: String) -> DomainError {
        DomainError(
            .notFound, code: .inviteNotFound, message: "No invite with id '\(id)' exists in this organization.",
            param: "invite_id")
    }

    /// The token of an invite link names no live invite.
    public static let inviteLinkNotFound = DomainError(
        .notFound, code: .inviteNotFound,
        message:
            "This invite link does not work: the invite was revoked or sent again with a new link. "
            + "Ask an owner of the organization for a new invite.",
        param: "token")

    /// The invite's time ran out.
    public static let inviteExpired = DomainError(
        .gone, code: .inviteExpired,
        message: "This invite has expired. Ask an owner of the organization to send it again.", param: "token")

    /// The invite was accepted already.
    public static let inviteNotPending = DomainError(
        .conflict, code: .inviteNotPending, message: "This invite has already been accepted.", param: "invite_id")

    /// The signed-in person is not the one the invite was sent to. Their address is not named,
    /// so a stranger holding the link learns nothing from it.
    public static let inviteEmailMismatch = DomainError(
        .forbidden, code: .inviteEmailMismatch,
        message: "This invite was sent to another email address; sign in with that address.", param: "token")

    /// The email provider failed.
    public static let emailProviderUnavailable = DomainError(
        .unavailable, code: .emailProviderUnavailable,
        message: "We could not send the email just now. Nothing was sent; try again in a minute.")
}
