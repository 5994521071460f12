import Foundation
import KeywardenCore

/// API keys and service accounts in memory, as `SQLAPIKeyRepository` keeps them: digests and
/// redacted forms, never values.
struct InMemoryAPIKeyRepository: APIKeyRepository {
    let database: InMemoryDatabase

    func create(_ key: APIKey) async throws {
        try await database.transaction { tables in try tables.insert(key, idempotencyKey: nil) }
    }

    func key(_ id: APIKeyID, in organization: OrganizationID) async throws -> APIKey? {
        await database.transaction { tables in
            tables.keys.first { $0.key.id == id && $0.key.organizationID == organization }?.key
        }
    }

    func keys(
        in organization: OrganizationID, project: ProjectID?, after: APIKeyID?, limit: Int
    ) async throws -> Page<APIKey> {
        try await database.transaction { (tables) -> Page<APIKey> in
            // Admin keys when no project is given, else the project's keys; the cursor must be one of them.
            let listed = tables.keys.map(\.key).filter { key in
                key.organizationID == organization && (project == nil ? key.kind == .admin : key.projectID == project)
            }
            return try InMemoryKeyset.page(of: listed, after: after?.rawValue, limit: limit) {
                ($0.createdAt, $0.id.rawValue)
            }
        }
    }

    func revoke(_ id: APIKeyID, in organization: OrganizationID, at now: Date) async throws -> APIKey? {
        await database.transaction { (tables) -> APIKey? in
            guard
                let index = tables.keys.firstIndex(where: { $0.key.id == id && $0.key.organizationID == organization })
            else { return nil }
            // Revoking a revoked key keeps its first date.
            if tables.keys[index].key.revokedAt == nil {
                tables.keys[index].key.revokedAt = now
                tables.keys[index].updatedAt = Date()
            }
            return tables.keys[index].key
        }
    }

    func update(
        _ id: APIKeyID, in organization: OrganizationID, name: String, permissions: KeyPermissions,
        allowedIPs: AllowedIPRanges
    ) async throws -> APIKey? {
        await change(id, in: organization, when: { $0.revokedAt == nil }) { key in
            key.name = name
            key.permissions = permissions
            key.allowedIPs = allowedIPs
        }
    }

    func disable(_ id: APIKeyID, in organization: OrganizationID, at now: Date) async throws -> APIKey? {
        await change(id, in: organization, when: { $0.revokedAt == nil && $0.disabledAt == nil }) { key in
            key.disabledAt = now
        }
    }

    func enable(_ id: APIKeyID, in organization: OrganizationID) async throws -> APIKey? {
        await change(id, in: organization, when: { $0.revokedAt == nil && $0.disabledAt != nil }) { key in
            key.disabledAt = nil
        }
    }

    /// Applies `body` to the key while `condition` holds, stamping it as storage does; the key as
    /// it now is.
    private func change(
        _ id: APIKeyID, in organization: OrganizationID, when condition: @escaping @Sendable (APIKey) -> Bool,
        _ body: @escaping @Sendable (inout APIKey) -> Void
    ) async -> APIKey? {
        await database.transaction { (tables) -> APIKey? in
            guard
                let index = tables.keys.firstIndex(where: { $0.key.id == id && $0.key.organizationID == organization })
            else { return nil }
            if condition(tables.keys[index].key) {
                body(&tables.keys[index].key)
                tables.keys[index].updatedAt = Date()
            }
            return tables.keys[index].key
        }
    }

    func rotation(of id: APIKeyID, idempotencyKey: String) async throws -> APIKey? {
        await database.transaction { tables in
            tables.keys.first { $0.key.rotatedFrom == id && $0.idempotencyKey == idempotencyKey }?.key
        }
    }

    func rotate(_ old: APIKeyID, to replacement: APIKey, idempotencyKey: String?, oldExpiresAt: Date) async throws {
        try await database.transaction { tables in
            try tables.insert(replacement, idempotencyKey: idempotencyKey)
            // The old key expires at `oldExpiresAt`, or stays as it is if it already expires sooner.
            if let index = tables.keys.firstIndex(where: { $0.key.id == old }),
                tables.keys[index].key.expiresAt.map({ $0 > oldExpiresAt }) ?? true
            {
                tables.keys[index].key.expiresAt = oldExpiresAt
                tables.keys[index].updatedAt = Date()
            }
        }
    }

    func allKeys() async throws -> [APIKey] {
        await database.transaction { tables in tables.keys.map(\.key) }
    }

    func key(_ id: APIKeyID) async throws -> APIKey? {
        await database.transaction { tables in tables.keys.first { $0.key.id == id }?.key }
    }

    func key(digest: String) async throws -> APIKey? {
        await database.transaction { tables in tables.keys.first { $0.key.digest == digest }?.key }
    }

    func keys(changedSince date: Date) async throws -> [APIKey] {
        await database.transaction { tables in tables.keys.filter { $0.updatedAt >= date }.map(\.key) }
    }

    func recordUse(_ uses: [APIKeyID: Date]) async throws {
        await database.transaction { tables in
            for (id, date) in uses {
                // Only ever forward: a late flush of an older use does not move it back.
                guard let index = tables.keys.firstIndex(where: { $0.key.id == id }),
                    tables.keys[index].key.lastUsedAt.map({ $0 < date }) ?? true
                else { continue }
                tables.keys[index].key.lastUsedAt = date
            }
        }
    }

    func createServiceAccount(_ account: ServiceAccount, key: APIKey) async throws {
        try await database.transaction { tables in
            try tables.require(
                !tables.serviceAccounts.contains { $0.id == account.id }, "service_accounts.id is unique")
            try tables.requireOrganization(account.organizationID)
            try tables.requireProject(account.projectID)
            tables.serviceAccounts.append(account)
            try tables.insert(key, idempotencyKey: nil)
        }
    }
}
