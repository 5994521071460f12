import Foundation
import KeywardenCore
import SQLKit

/// Projects in SQL, always filtered by organization.
public struct SQLProjectRepository: ProjectRepository {
    let database: DatabaseClient

    /// Creates the repository over a database.
    public init(database: DatabaseClient) {
        self.database = database
    }

    static let columns = "id, organization_id, name, is_default, created_at, archived_at"

    static func insert(_ project: Project, into db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO projects (id, organization_id, name, is_default, created_at, archived_at)
            VALUES (\(bind: project.id.rawValue), \(bind: project.organizationID.rawValue), \(bind: project.name),
                    \(bind: project.isDefault ? 1 : 0), \(bind: project.createdAt.unixMilliseconds),
                    \(bind: project.archivedAt?.unixMilliseconds))
            """
        ).run()
    }

    public func create(_ project: Project) async throws {
        try await database.withConnection { db in try await Self.insert(project, into: db) }
    }

    public func project(_ id: ProjectID) async throws -> Project? {
        try await database.withConnection { db in
            try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM projects WHERE id = \(bind: id.rawValue)").first()?
                .project()
        }
    }

    public func project(_ id: ProjectID, in organization: OrganizationID) async throws -> Project? {
        try await database.withConnection { db in
            try await Self.find(id, in: organization, db: db)
        }
    }

    static func find(_ id: ProjectID, in organization: OrganizationID, db: any SQLDatabase) async throws -> Project? {
        try await db.raw(
            """
            SELECT \(unsafeRaw: columns) FROM projects
            WHERE id = \(bind: id.rawValue) AND organization_id = \(bind: organization.rawValue)
            """
        ).first()?.project()
    }

    public func projects(_ ids: Set<ProjectID>, in organization: OrganizationID) async throws -> [Project] {
        guard !ids.isEmpty else { return [] }
        let binds: [any Encodable & Sendable] = ids.map(\.rawValue).sorted()
        return try await database.withConnection { db in
            try await db.raw(
                """
                SELECT \(unsafeRaw: Self.columns) FROM projects
                WHERE organization_id = \(bind: organization.rawValue) AND id IN (\(binds: binds))
                """
            ).all().map { try $0.project() }
        }
    }

    public func list(
        in organization: OrganizationID, after: ProjectID?, limit: Int, includeArchived: Bool
    ) async throws -> Page<Project> {
        try await database.withConnection { db in
            // Archived projects pass the filter only when asked for.
            let keyset = try await Keyset.after(
                after?.rawValue, in: "projects", organization: organization, timeColumn: "created_at", db: db)
            let rows = try await db.raw(
                """
                SELECT \(unsafeRaw: Self.columns) FROM projects
                WHERE organization_id = \(bind: organization.rawValue)
                  AND (\(bind: includeArchived ? 1 : 0) = 1 OR archived_at IS NULL)
                  AND \(keyset.condition)
                \(keyset.orderAndLimit(limit))
                """
            ).all()
            return Keyset.page(try rows.map { try $0.project() }, limit: limit)
        }
    }

    public func rename(_ id: ProjectID, in organization: OrganizationID, to name: String) async throws -> Project? {
        try await database.withConnection { db in
            try await db.raw(
                """
                UPDATE projects SET name = \(bind: name)
                WHERE id = \(bind: id.rawValue) AND organization_id = \(bind: organization.rawValue)
                """
            ).run()
            return try await Self.find(id, in: organization, db: db)
        }
    }

    public func archive(_ id: ProjectID, in organization: OrganizationID, at date: Date) async throws -> Project? {
        try await database.withConnection { db in
            try await db.raw(
                """
                UPDATE projects SET archived_at = \(bind: date.unixMilliseconds)
                WHERE id = \(bind: id.rawValue) AND organization_id = \(bind: organization.rawValue)
                  AND archived_at IS NULL AND is_default = 0
                """
            ).run()
            return try await Self.find(id, in: organization, db: db)
        }
    }
}
