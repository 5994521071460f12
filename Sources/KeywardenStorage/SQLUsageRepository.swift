import Foundation
import KeywardenCore
import SQLKit

/// Per-minute usage rows, one per key and minute, added to by upserts.
public struct SQLUsageRepository: UsageRepository {
    let database: DatabaseClient

    /// Creates the repository over a database.
    public init(database: DatabaseClient) {
        self.database = database
    }

    public func add(_ batch: UsageBatch) async throws {
        guard !batch.records.isEmpty || !batch.debits.isEmpty else { return }
        try await database.withTransaction { db in
            for record in batch.records {
                try await db.raw(
                    """
                    INSERT INTO usage_minutes (api_key_id, minute_start, category, model, project_id, organization_id,
                        requests, errors, prompt_tokens, completion_tokens, input_cost_nanos, output_cost_nanos)
                    VALUES (\(bind: record.apiKeyID), \(bind: record.minute.unixMilliseconds),
                        \(bind: record.category.rawValue), \(bind: record.model), \(bind: record.projectID),
                        \(bind: record.organizationID), \(bind: Int64(record.requests)), \(bind: Int64(record.errors)),
                        \(bind: Int64(record.promptTokens)), \(bind: Int64(record.completionTokens)),
                        \(bind: record.inputCostNanos), \(bind: record.outputCostNanos))
                    ON CONFLICT (api_key_id, minute_start, category, model) DO UPDATE SET
                        requests = usage_minutes.requests + excluded.requests,
                        errors = usage_minutes.errors + excluded.errors,
                        prompt_tokens = usage_minutes.prompt_tokens + excluded.prompt_tokens,
                        completion_tokens = usage_minutes.completion_tokens + excluded.completion_tokens,
                        input_cost_nanos = usage_minutes.input_cost_nanos + excluded.input_cost_nanos,
                        output_cost_nanos = usage_minutes.output_cost_nanos + excluded.output_cost_nanos
                    """
                ).run()
            }
            for debit in batch.debits {
                // One entry per organization and day, added to by every write of that day's usage.
                try await db.raw(
                    """
                    INSERT INTO ledger_entries (id, organization_id, kind, amount_micros, description, reference, created_at)
                    VALUES (\(bind: LedgerEntryID.generate().rawValue), \(bind: debit.organizationID), 'usage',
                        \(bind: -debit.micros), \(bind: Self.describe(debit)), \(bind: debit.reference),
                        \(bind: debit.day.unixMilliseconds))
                    ON CONFLICT (kind, reference) DO UPDATE SET
                        amount_micros = ledger_entries.amount_micros + excluded.amount_micros
                    """
                ).run()
            }
            // The month's spend of each organization and project, so a lease or an alert reads one
            // row rather than summing a month of minutes.
            for (scope, month, nanos) in Self.monthlySpend(of: batch.records) {
                try await db.raw(
                    """
                    INSERT INTO spend_months (scope, month, nanos) VALUES (\(bind: scope), \(bind: Int64(month)), \(bind: nanos))
                    ON CONFLICT (scope, month) DO UPDATE SET nanos = spend_months.nanos + excluded.nanos
                    """
                ).run()
            }
            guard let holder = batch.leaseHolder else { return }
            for (scope, nanos) in SpendLeaseScope.costs(of: batch.records) {
                try await db.raw(
                    """
                    UPDATE spend_leases SET remaining_nanos = remaining_nanos - \(bind: nanos)
                    WHERE scope = \(bind: scope) AND holder = \(bind: holder)
                    """
                ).run()
            }
        }
    }

    /// What `records` cost per organization and per project, and month.
    static func monthlySpend(of records: [UsageRecord]) -> [(scope: String, month: Int, nanos: Int64)] {
        struct Slot: Hashable {
            var scope: String
            var month: Int
        }
        var spend: [Slot: Int64] = [:]
        for record in records where record.costNanos != 0 {
            let month = SpendLeaseScope.month(of: record.minute)
            var scopes = [record.organizationID]
            if !record.projectID.isEmpty { scopes.append(record.projectID) }
            for scope in scopes {
                let slot = Slot(scope: scope, month: month)
                spend[slot] = (spend[slot] ?? 0).addingSaturated(record.costNanos)
            }
        }
        return spend.sorted { ($0.key.scope, $0.key.month) < ($1.key.scope, $1.key.month) }
            .map { ($0.key.scope, $0.key.month, $0.value) }
    }

    static func describe(_ debit: UsageDebit) -> String {
        let format = Date.FormatStyle(date: .long, time: .omitted, timeZone: TimeZone(identifier: "UTC")!)
            .locale(Locale(identifier: "en_GB"))
        return "API usage on \(debit.day.formatted(format))"
    }

    public func totals(_ query: UsageQuery) async throws -> [UsageTotal] {
        let start = query.start.unixMilliseconds
        let width = Int64(query.bucketWidth) * 1000
        var groups: [String] = ["bucket"]
        if query.groupByProject { groups.append("project_id") }
        if query.groupByAPIKey { groups.append("api_key_id") }
        if query.groupByModel { groups.append("model") }
        var sql: SQLQueryString = """
            SELECT (minute_start - \(bind: start)) / \(bind: width) AS bucket,
                \(unsafeRaw: query.groupByProject ? "project_id" : "NULL AS project_id"),
                \(unsafeRaw: query.groupByAPIKey ? "api_key_id" : "NULL AS api_key_id"),
                \(unsafeRaw: query.groupByModel ? "model" : "NULL AS model"),
                CAST(SUM(requests) AS BIGINT) AS requests, CAST(SUM(errors) AS BIGINT) AS errors,
                CAST(SUM(prompt_tokens) AS BIGINT) AS prompt_tokens,
                CAST(SUM(completion_tokens) AS BIGINT) AS completion_tokens,
                CAST(SUM(input_cost_nanos) AS BIGINT) AS input_cost_nanos,
                CAST(SUM(output_cost_nanos) AS BIGINT) AS output_cost_nanos
            FROM usage_minutes
            WHERE organization_id = \(bind: query.organizationID)
                AND minute_start >= \(bind: start) AND minute_start < \(bind: query.end.unixMilliseconds)
            """
        if !query.projectIDs.isEmpty { sql += " AND project_id IN (\(binds: query.projectIDs))" }
        if !query.apiKeyIDs.isEmpty { sql += " AND api_key_id IN (\(binds: query.apiKeyIDs))" }
        if !query.models.isEmpty { sql += " AND model IN (\(binds: query.models))" }
        if !query.categories.isEmpty { sql += " AND category IN (\(binds: query.categories.map(\.rawValue)))" }
        sql +=
            " GROUP BY \(unsafeRaw: groups.joined(separator: ", ")) ORDER BY \(unsafeRaw: groups.joined(separator: ", "))"
        let finished = sql
        return try await database.withConnection { db in
            try await db.raw(finished).all().map { row in
                UsageTotal(
                    bucket: Int(try row.decode(column: "bucket", as: Int64.self)),
                    projectID: try row.decode(column: "project_id", as: String?.self),
                    apiKeyID: try row.decode(column: "api_key_id", as: String?.self),
                    model: try row.decode(column: "model", as: String?.self),
                    requests: Int(try row.decode(column: "requests", as: Int64.self)),
                    errors: Int(try row.decode(column: "errors", as: Int64.self)),
                    promptTokens: Int(try row.decode(column: "prompt_tokens", as: Int64.self)),
                    completionTokens: Int(try row.decode(column: "completion_tokens", as: Int64.self)),
                    inputCostNanos: try row.decode(column: "input_cost_nanos", as: Int64.self),
                    outputCostNanos: try row.decode(column: "output_cost_nanos", as: Int64.self))
            }
        }
    }
}
