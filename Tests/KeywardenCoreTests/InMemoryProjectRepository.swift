import Foundation
import KeywardenCore

/// Projects in memory, always filtered by organization, as `SQLProjectRepository` keeps them.
struct InMemoryProjectRepository: ProjectRepository {
    let database: InMemoryDatabase

    func create(_ project: Project) async throws {
        try await database.transaction { tables in try tables.insert(project) }
    }

    func project(_ id: ProjectID) async throws -> Project? {
        await database.transaction { tables in tables.projects.first { $0.id == id } }
    }

    func project(_ id: ProjectID, in organization: OrganizationID) async throws -> Project? {
        await database.transaction { tables in
            tables.projects.first { $0.id == id && $0.organizationID == organization }
        }
    }

    func projects(_ ids: Set<ProjectID>, in organization: OrganizationID) async throws -> [Project] {
        await database.transaction { tables in
            tables.projects.filter { ids.contains($0.id) && $0.organizationID == organization }
        }
    }

    func list(
        in organization: OrganizationID, after: ProjectID?, limit: Int, includeArchived: Bool
    ) async throws -> Page<Project> {
        try await database.transaction { (tables) -> Page<Project> in
            // The cursor may name an archived project even when those are not listed, as in storage.
            let projects = tables.projects.filter { $0.organizationID == organization }
            return try InMemoryKeyset.page(
                of: projects.filter { includeArchived || !$0.isArchived }, after: after?.rawValue, among: projects,
                limit: limit
            ) { ($0.createdAt, $0.id.rawValue) }
        }
    }

    func rename(_ id: ProjectID, in organization: OrganizationID, to name: String) async throws -> Project? {
        await database.transaction { (tables) -> Project? in
            guard let index = tables.projects.firstIndex(where: { $0.id == id && $0.organizationID == organization })
            else { return nil }
            tables.projects[index].name = name
            return tables.projects[index]
        }
    }

    func archive(_ id: ProjectID, in organization: OrganizationID, at date: Date) async throws -> Project? {
        await database.transaction { (tables) -> Project? in
            guard let index = tables.projects.firstIndex(where: { $0.id == id && $0.organizationID == organization })
            else { return nil }
            // One conditional update: the default project and an archived one stay as they are.
            if tables.projects[index].archivedAt == nil, !tables.projects[index].isDefault {
                tables.projects[index].archivedAt = date
            }
            return tables.projects[index]
        }
    }
}
