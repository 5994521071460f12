import Foundation
import KeywardenCore
import SQLKit

extension SQLRow {
    func projectRole(_ column: String) throws -> ProjectRole {
        let raw = try string(column)
        guard let role = ProjectRole(rawValue: raw) else {
            throw StorageError.corruptRow("unknown project role '\(raw)' in \(column)")
        }
        return role
    }

    /// A row of `organization_invites` read with ``InviteColumns/all``.
    func invite() throws -> Invite {
        Invite(
            id: InviteID(unchecked: try string("id")),
            organizationID: OrganizationID(unchecked: try string("organization_id")),
            email: EmailAddress(stored: try string("email")), role: try role("role"),
            projects: try InviteColumns.grants(try string("projects")),
            invitedBy: UserID(unchecked: try string("invited_by")), invitedAt: try date("invited_at"),
            expiresAt: try date("expires_at"), acceptedAt: try optionalDate("accepted_at"),
            revokedAt: try optionalDate("revoked_at"))
    }
}

/// How invites are stored: their columns, and the projects they grant as JSON text,
/// `[{"id":"proj_...","role":"member"}]`.
enum InviteColumns {
    static let all =
        "id, organization_id, email, role, projects, invited_by, invited_at, expires_at, accepted_at, revoked_at"

    struct StoredGrant: Codable {
        let id: String
        let role: String
    }

    /// The stored text of `grants`.
    static func text(_ grants: [InviteGrant]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let stored = grants.map { StoredGrant(id: $0.projectID.rawValue, role: $0.role.rawValue) }
        return String(decoding: try encoder.encode(stored), as: UTF8.self)
    }

    /// The grants stored as `text`.
    static func grants(_ text: String) throws -> [InviteGrant] {
        try JSONDecoder().decode([StoredGrant].self, from: Data(text.utf8)).map { stored -> InviteGrant in
            guard let role = ProjectRole(rawValue: stored.role) else {
                throw StorageError.corruptRow("unknown project role '\(stored.role)' in an invite")
            }
            return InviteGrant(projectID: ProjectID(unchecked: stored.id), role: role)
        }
    }
}
