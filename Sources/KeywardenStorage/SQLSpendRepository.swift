import Foundation
import KeywardenCore
import SQLKit

/// Budgets, leases of what may still be spent, and the alerts sent, next to the usage rows and
/// ledger they are measured against.
public struct SQLSpendRepository: SpendRepository {
    let database: DatabaseClient

    /// Creates the repository over a database.
    public init(database: DatabaseClient) {
        self.database = database
    }

    public func budgets(
        of organization: OrganizationID
    ) async throws -> (
        organization: SpendBudget?, projects: [ProjectID: SpendBudget]
    ) {
        try await database.withConnection { db in
            var own: SpendBudget?
            var projects: [ProjectID: SpendBudget] = [:]
            for row in try await db.raw(
                """
                SELECT project_id, monthly_budget_micros, hard_limit, alert_percents FROM spend_budgets
                WHERE organization_id = \(bind: organization.rawValue)
                """
            ).all() {
                let budget = try Self.budget(row)
                if let project = try row.decode(column: "project_id", as: String?.self) {
                    projects[ProjectID(unchecked: project)] = budget
                } else {
                    own = budget
                }
            }
            return (own, projects)
        }
    }

    static func budget(_ row: any SQLRow) throws -> SpendBudget {
        SpendBudget(
            monthlyMicros: try row.decode(column: "monthly_budget_micros", as: Int64.self),
            hardLimit: try row.decode(column: "hard_limit", as: Int64.self) != 0,
            alertPercents: SpendBudget.alertPercents(from: try row.decode(column: "alert_percents", as: String.self)))
    }

    public func setBudget(
        _ budget: SpendBudget?, organization: OrganizationID, project: ProjectID?, at now: Date
    ) async throws {
        let scope = project?.rawValue ?? organization.rawValue
        try await database.withConnection { db in
            guard let budget else {
                try await db.raw("DELETE FROM spend_budgets WHERE scope = \(bind: scope)").run()
                return
            }
            try await db.raw(
                """
                INSERT INTO spend_budgets (scope, organization_id, project_id, monthly_budget_micros, hard_limit,
                    alert_percents, updated_at)
                VALUES (\(bind: scope), \(bind: organization.rawValue), \(bind: project?.rawValue),
                    \(bind: budget.monthlyMicros), \(bind: Int64(budget.hardLimit ? 1 : 0)), \(bind: budget.alertText),
                    \(bind: now.unixMilliseconds))
                ON CONFLICT (scope) DO UPDATE SET monthly_budget_micros = excluded.monthly_budget_micros,
                    hard_limit = excluded.hard_limit, alert_percents = excluded.alert_percents,
                    updated_at = excluded.updated_at
                """
            ).run()
        }
    }

    public func budgetsWithAlerts(
        after: String?, limit: Int
    ) async throws -> [(
        scope: String, organization: OrganizationID, project: ProjectID?, budget: SpendBudget
    )] {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT scope, organization_id, project_id, monthly_budget_micros, hard_limit, alert_percents
                FROM spend_budgets WHERE alert_percents <> '' AND scope > \(bind: after ?? "")
                ORDER BY scope LIMIT \(bind: Int64(limit))
                """
            ).all().map { row in
                (
                    try row.decode(column: "scope", as: String.self),
                    OrganizationID(unchecked: try row.decode(column: "organization_id", as: String.self)),
                    try row.decode(column: "project_id", as: String?.self).map { ProjectID(unchecked: $0) },
                    try Self.budget(row)
                )
            }
        }
    }

    public func spent(organization: OrganizationID, project: ProjectID?, month: Int) async throws -> Int64 {
        try await database.withConnection { db in
            try await Self.spent(scope: project?.rawValue ?? organization.rawValue, month: month, on: db)
        }
    }

    static func spent(scope: String, month: Int, on db: any SQLDatabase) async throws -> Int64 {
        try await db.raw(
            "SELECT nanos FROM spend_months WHERE scope = \(bind: scope) AND month = \(bind: Int64(month))"
        ).first()?.decode(column: "nanos", as: Int64.self) ?? 0
    }

    public func lease(_ request: SpendLeaseRequest) async throws -> SpendLeaseGrant {
        let backend = database.backend
        return try await database.withTransaction { db in
            // Every instance leasing this scope waits here, so what is left is counted once.
            // (SQLite's write lock, taken by BEGIN IMMEDIATE, does the same.)
            if backend == .postgres {
                try await db.raw("SELECT pg_advisory_xact_lock(hashtext(\(bind: request.scope)))").run()
            }
            let now = request.now.unixMilliseconds
            let others =
                try await db.raw(
                    """
                    SELECT CAST(COALESCE(SUM(remaining_nanos), 0) AS BIGINT) AS held FROM spend_leases
                    WHERE scope = \(bind: request.scope) AND holder <> \(bind: request.holder)
                        AND expires_at > \(bind: now) AND remaining_nanos > 0
                    """
                ).first()?.decode(column: "held", as: Int64.self) ?? 0
            let unwritten = max(0, request.unwritten)
            let held = others.addingSaturated(unwritten)
            var headroom: [SpendLimitKind: Int64] = [:]
            if !request.limits.isEmpty {
                let spent = try await Self.spent(
                    scope: request.projectID?.rawValue ?? request.organizationID.rawValue,
                    month: SpendLeaseScope.month(of: request.monthStart), on: db)
                for (kind, limit) in request.limits {
                    headroom[kind] = limit.subtractingSaturated(spent).subtractingSaturated(held)
                }
            }
            if request.includeBalance {
                let balance =
                    try await db.raw(
                        """
                        SELECT CAST(COALESCE(SUM(amount_micros), 0) AS BIGINT) AS balance FROM ledger_entries
                        WHERE organization_id = \(bind: request.organizationID.rawValue)
                        """
                    ).first()?.decode(column: "balance", as: Int64.self) ?? 0
                let (nanos, overflow) = balance.multipliedReportingOverflow(by: 1000)
                headroom[.balance] = (overflow ? (balance > 0 ? .max : .min) : nanos).subtractingSaturated(held)
            }
            let grant = SpendLeaseGrant.deciding(want: request.want, headroom: headroom)
            try await db.raw(
                """
                INSERT INTO spend_leases (scope, holder, remaining_nanos, expires_at)
                VALUES (\(bind: request.scope), \(bind: request.holder), \(bind: unwritten.addingSaturated(grant.granted)),
                    \(bind: request.expiresAt.unixMilliseconds))
                ON CONFLICT (scope, holder) DO UPDATE SET
                    remaining_nanos = excluded.remaining_nanos, expires_at = excluded.expires_at
                """
            ).run()
            try await db.raw("DELETE FROM spend_leases WHERE expires_at < \(bind: now - 3_600_000)").run()
            return grant
        }
    }

    public func recordAlert(scope: String, month: Int, percent: Int, at now: Date) async throws -> Bool {
        try await database.withConnection { db in
            try await db.raw(
                """
                INSERT INTO spend_alerts (scope, month, percent, sent_at)
                VALUES (\(bind: scope), \(bind: Int64(month)), \(bind: Int64(percent)), \(bind: now.unixMilliseconds))
                ON CONFLICT (scope, month, percent) DO NOTHING
                RETURNING scope
                """
            ).first() != nil
        }
    }
}
