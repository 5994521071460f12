import Foundation

/// What a person may do in one project (OpenAI's project roles).
public enum ProjectRole: String, Sendable, Codable, CaseIterable {
    /// Manages the project: its name, archive, users, rate limits and every key in it.
    case owner
    /// Reads the project and creates, rotates and revokes keys of their own.
    case member
    /// Reads the project, its keys (redacted), its usage and its limits.
    case viewer

    /// Reads a role sent by a client, or refuses naming `field`.
    public init(parsing raw: String, field: String) throws {
        guard let role = ProjectRole(rawValue: raw) else {
            throw DomainError.invalidField(field, "'\(field)' must be owner, member or viewer.")
        }
        self = role
    }
}

extension OrganizationRole {
    /// Reads a role sent by a client, or refuses naming `field`.
    public init(parsing raw: String, field: String) throws {
        guard let role = OrganizationRole(rawValue: raw) else {
            throw DomainError.invalidField(field, "'\(field)' must be owner or reader.")
        }
        self = role
    }
}

/// A person added to a project, as the project's user list shows them.
public struct ProjectMember: Equatable, Sendable {
    /// The person.
    public var user: User
    /// Their role in the project.
    public var role: ProjectRole
    /// When they were added to it.
    public var addedAt: Date

    /// Creates a project member value.
    public init(user: User, role: ProjectRole, addedAt: Date) {
        self.user = user
        self.role = role
        self.addedAt = addedAt
    }
}
