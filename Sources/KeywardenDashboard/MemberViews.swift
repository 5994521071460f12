import Foundation
import KeywardenCore

/// The view of `settings-members`: the organization's members, its pending invites and the
/// invite form, with controls only for those who may use them.
struct MembersView: Sendable {
    let layout: Layout
    /// The person may invite, change roles and remove members (an organization owner).
    let canManage: Bool
    /// The person belongs to another organization too, so leaving this one is offered.
    let canLeave: Bool
    let members: [MemberRow]
    let invites: [InviteRow]
    let hasInvites: Bool
    /// The invite form as sent (or new).
    let invite: InviteForm
    /// A refusal about a row's action, above the tables.
    let pageError: String?
}

/// One member as the table lists them.
struct MemberRow: Sendable {
    let id: String
    let name: String
    let email: String
    let isOwner: Bool
    let isReader: Bool
    /// When they joined, UTC.
    let joined: String
    /// The row is the person looking at the page.
    let isYou: Bool
}

/// One invite not yet accepted.
struct InviteRow: Sendable {
    let id: String
    let email: String
    let isOwner: Bool
    let expired: Bool
    /// When the link stops working (or stopped), UTC.
    let expires: String
}

/// The "Invite member" form: the address, the role, and a role (or no access) per project.
struct InviteForm: Sendable {
    /// One project's choice.
    struct ProjectChoice: Sendable {
        let id: String
        let name: String
        let none: Bool
        let viewer: Bool
        let member: Bool
        let owner: Bool
    }

    let email: String
    let roleOwner: Bool
    let projects: [ProjectChoice]
    let errors: FieldErrors

    /// The form's field of a project's role.
    static func field(_ project: ProjectID) -> String { "project_" + project.rawValue }

    /// The form for `projects`, as `fields` sent it (new when `nil`).
    init(projects: [Project], fields: FormFields?, errors: FieldErrors = FieldErrors()) {
        email = fields?["email"] ?? ""
        roleOwner = fields?["role"] == "owner"
        self.projects = projects.map { project in
            let chosen = fields?[Self.field(project.id)] ?? ""
            return ProjectChoice(
                id: project.id.rawValue, name: project.name, none: chosen.isEmpty, viewer: chosen == "viewer",
                member: chosen == "member", owner: chosen == "owner")
        }
        self.errors = errors
    }

    /// The projects and roles `fields` ask for, in the order the projects are listed.
    static func grants(_ fields: FormFields, projects: [Project]) -> [RequestedGrant] {
        projects.compactMap { project in
            guard let role = fields[field(project.id)], !role.isEmpty else { return nil }
            return RequestedGrant(projectID: project.id.rawValue, role: role)
        }
    }
}
