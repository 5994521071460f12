import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// A person added to a project (OpenAI's `organization.project.user`).
struct ProjectUserObject: ResponseEncodable {
    let object = "organization.project.user"
    let id: String
    let name: String
    let email: String
    let role: String
    let addedAt: Int64

    init(_ member: ProjectMember) {
        id = member.user.id.rawValue
        name = member.user.name
        email = member.user.email.value
        role = member.role.rawValue
        addedAt = member.addedAt.unixSeconds
    }

    enum CodingKeys: String, CodingKey {
        case object, id, name, email, role
        case addedAt = "added_at"
    }
}

/// An invite (OpenAI's `organization.invite`), with the projects it grants.
struct InviteObject: ResponseEncodable {
    let object = "organization.invite"
    let id: String
    let email: String
    let role: String
    let status: String
    let invitedAt: Int64
    let expiresAt: Int64
    @ExplicitNull var acceptedAt: Int64?
    let projects: [Grant]

    /// One project the invite grants.
    struct Grant: Encodable, Sendable {
        let id: String
        let role: String
    }

    init(_ invite: Invite, status: Invite.Status) {
        id = invite.id.rawValue
        email = invite.email.value
        role = invite.role.rawValue
        self.status = status.rawValue
        invitedAt = invite.invitedAt.unixSeconds
        expiresAt = invite.expiresAt.unixSeconds
        acceptedAt = invite.acceptedAt?.unixSeconds
        projects = invite.projects.map { Grant(id: $0.projectID.rawValue, role: $0.role.rawValue) }
    }

    enum CodingKeys: String, CodingKey {
        case object, id, email, role, status, projects
        case invitedAt = "invited_at"
        case expiresAt = "expires_at"
        case acceptedAt = "accepted_at"
    }
}

extension ListObject {
    /// A page of `items` (all of a list kept in memory, oldest first) after the one whose id is
    /// `after`, as a list request asks for it.
    ///
    /// - Throws: `invalid_value` for an `after` that is not an id of the kind `parse` reads;
    ///   `unknown_cursor` for one that names nothing in the list.
    static func paging(
        _ items: [Element], id: (Element) -> String, request: Request, cursor parse: (String) -> Bool,
        expected: String
    ) throws -> ListObject<Element> {
        let limit = try request.pageLimit()
        var rest = items
        if let after = request.textQuery("after") {
            guard parse(after) else { throw DomainError.malformedCursor(expected: expected) }
            guard let index = items.firstIndex(where: { id($0) == after }) else { throw DomainError.unknownCursor }
            rest = Array(items[(index + 1)...])
        }
        return ListObject(Array(rest.prefix(limit)), id: id, hasMore: rest.count > limit)
    }
}
