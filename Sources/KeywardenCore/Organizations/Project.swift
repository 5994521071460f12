import Foundation

/// A project groups API keys and usage inside an organization.
public struct Project: Equatable, Sendable {
    /// The project's id.
    public var id: ProjectID
    /// The organization that owns it.
    public var organizationID: OrganizationID
    /// The display name.
    public var name: String
    /// Whether this is the organization's default project, which cannot be archived.
    public var isDefault: Bool
    /// When it was created.
    public var createdAt: Date
    /// When it was archived; `nil` while active. Archiving cannot be undone.
    public var archivedAt: Date?

    /// Creates a project value.
    public init(
        id: ProjectID, organizationID: OrganizationID, name: String, isDefault: Bool,
        createdAt: Date, archivedAt: Date? = nil
    ) {
        self.id = id
        self.organizationID = organizationID
        self.name = name
        self.isDefault = isDefault
        self.createdAt = createdAt
        self.archivedAt = archivedAt
    }

    /// Whether the project has been archived.
    public var isArchived: Bool { archivedAt != nil }
}

/// The `limit` of a list request: 20 when absent, 1 to 100 otherwise.
public enum PageLimit {
    /// The largest page.
    public static let maximum = 100

    /// The page size a request asked for, or a refusal naming `limit`.
    public static func validate(_ limit: Int?) throws -> Int {
        let limit = limit ?? 20
        guard (1...maximum).contains(limit) else {
            throw DomainError.invalidField("limit", "'limit' must be between 1 and \(maximum).")
        }
        return limit
    }
}

/// One page of a list, in the order the list is kept.
public struct Page<Element: Sendable>: Sendable {
    /// The elements on this page.
    public var items: [Element]
    /// Whether more elements follow the last one.
    public var hasMore: Bool

    /// Creates a page.
    public init(items: [Element], hasMore: Bool) {
        self.items = items
        self.hasMore = hasMore
    }
}
