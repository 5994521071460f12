import Foundation
import KeywardenCore
import SQLKit

/// Organizations' tiers and projects' own limits.
public struct SQLRateLimitSettingsRepository: RateLimitSettingsRepository {
    let database: DatabaseClient

    /// Creates the repository over a database.
    public init(database: DatabaseClient) {
        self.database = database
    }

    public func tier(of organization: OrganizationID) async throws -> String? {
        try await database.withConnection { db in
            try await db.raw(
                "SELECT tier FROM organization_rate_limits WHERE organization_id = \(bind: organization.rawValue)"
            ).first()?.decode(column: "tier", as: String?.self)
        }
    }

    public func setTier(_ tier: String?, of organization: OrganizationID, at date: Date) async throws {
        try await database.withConnection { db in
            try await db.raw(
                """
                INSERT INTO organization_rate_limits (organization_id, tier, updated_at)
                VALUES (\(bind: organization.rawValue), \(bind: tier), \(bind: date.unixMilliseconds))
                ON CONFLICT (organization_id) DO UPDATE SET tier = excluded.tier, updated_at = excluded.updated_at
                """
            ).run()
        }
    }

    public func limits(of project: ProjectID) async throws -> ProjectRateLimits {
        try await database.withConnection { db in
            guard
                let row = try await db.raw(
                    """
                    SELECT max_requests_per_1_minute, max_tokens_per_1_minute FROM project_rate_limits
                    WHERE project_id = \(bind: project.rawValue)
                    """
                ).first()
            else { return ProjectRateLimits() }
            return ProjectRateLimits(
                maxRequestsPerMinute: try row.decode(column: "max_requests_per_1_minute", as: Int64?.self).map(
                    Int.init),
                maxTokensPerMinute: try row.decode(column: "max_tokens_per_1_minute", as: Int64?.self).map(Int.init))
        }
    }

    public func setLimits(
        _ limits: ProjectRateLimits, of project: ProjectID, in organization: OrganizationID, at date: Date
    ) async throws {
        try await database.withConnection { db in
            try await db.raw(
                """
                INSERT INTO project_rate_limits (project_id, organization_id, max_requests_per_1_minute, max_tokens_per_1_minute, updated_at)
                VALUES (\(bind: project.rawValue), \(bind: organization.rawValue), \(bind: limits.maxRequestsPerMinute.map(Int64.init)),
                    \(bind: limits.maxTokensPerMinute.map(Int64.init)), \(bind: date.unixMilliseconds))
                ON CONFLICT (project_id) DO UPDATE SET
                    max_requests_per_1_minute = excluded.max_requests_per_1_minute,
                    max_tokens_per_1_minute = excluded.max_tokens_per_1_minute,
                    updated_at = excluded.updated_at
                """
            ).run()
        }
    }
}

/// Shared rate-limit buckets: one row per scope and resource, changed under a row lock.
public struct SQLRateLimitLeaseRepository: RateLimitLeaseRepository {
    let database: DatabaseClient

    /// Creates the repository over a database.
    public init(database: DatabaseClient) {
        self.database = database
    }

    public func lease(
        scope: String, requests: BucketLease, tokens: BucketLease, now: Date
    ) async throws
        -> (requests: LeaseGrant, tokens: LeaseGrant)
    {
        let lock = database.backend == .postgres ? " FOR UPDATE" : ""
        return try await database.withTransaction { db in
            func take(_ resource: String, _ lease: BucketLease) async throws -> LeaseGrant {
                // A new bucket starts full. Inserting first gives concurrent leases a row to lock.
                try await db.raw(
                    """
                    INSERT INTO rate_limit_buckets (scope, resource, available, updated_at)
                    VALUES (\(bind: scope), \(bind: resource), \(bind: lease.capacity), \(bind: now.unixMilliseconds))
                    ON CONFLICT (scope, resource) DO NOTHING
                    """
                ).run()
                guard
                    let row = try await db.raw(
                        """
                        SELECT available, updated_at FROM rate_limit_buckets
                        WHERE scope = \(bind: scope) AND resource = \(bind: resource)\(unsafeRaw: lock)
                        """
                    ).first()
                else { throw StorageError.corruptRow("rate-limit bucket vanished") }
                let stored = try row.decode(column: "available", as: Double.self)
                let updated = try row.decode(column: "updated_at", as: Int64.self)
                let elapsed = max(0, Double(now.unixMilliseconds - updated) / 1000)
                var available = min(lease.capacity, stored + elapsed * lease.capacity / 60)
                available = min(lease.capacity, available + lease.giveBack)
                let granted = max(0, min(lease.want, available))
                available -= granted
                try await db.raw(
                    """
                    UPDATE rate_limit_buckets SET available = \(bind: available), updated_at = \(bind: max(updated, now.unixMilliseconds))
                    WHERE scope = \(bind: scope) AND resource = \(bind: resource)
                    """
                ).run()
                return LeaseGrant(granted: granted, available: available)
            }
            let requestGrant = try await take("requests", requests)
            let tokenGrant = try await take("tokens", tokens)
            return (requestGrant, tokenGrant)
        }
    }
}
