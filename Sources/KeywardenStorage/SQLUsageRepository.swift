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

    public func add(_ records: [UsageRecord]) async throws {
        guard !records.isEmpty else { return }
        try await database.withTransaction { db in
            for record in records {
                try await db.raw(
                    """
                    INSERT INTO usage_minutes (api_key_id, minute_start, project_id, organization_id, requests, errors, prompt_tokens, completion_tokens)
                    VALUES (\(bind: record.apiKeyID), \(bind: record.minute.unixMilliseconds), \(bind: record.projectID), \(bind: record.organizationID),
                        \(bind: Int64(record.requests)), \(bind: Int64(record.errors)), \(bind: Int64(record.promptTokens)), \(bind: Int64(record.completionTokens)))
                    ON CONFLICT (api_key_id, minute_start) DO UPDATE SET
                        requests = usage_minutes.requests + excluded.requests,
                        errors = usage_minutes.errors + excluded.errors,
                        prompt_tokens = usage_minutes.prompt_tokens + excluded.prompt_tokens,
                        completion_tokens = usage_minutes.completion_tokens + excluded.completion_tokens
                    """
                ).run()
            }
        }
    }

    public func totals(_ query: UsageQuery) async throws -> [UsageTotal] {
        let start = query.start.unixMilliseconds
        let width = Int64(query.bucketWidth) * 1000
        var groups: [String] = ["bucket"]
        if query.groupByProject { groups.append("project_id") }
        if query.groupByAPIKey { groups.append("api_key_id") }
        var sql: SQLQueryString = """
            SELECT (minute_start - \(bind: start)) / \(bind: width) AS bucket,
                \(unsafeRaw: query.groupByProject ? "project_id" : "NULL AS project_id"),
                \(unsafeRaw: query.groupByAPIKey ? "api_key_id" : "NULL AS api_key_id"),
                CAST(SUM(requests) AS BIGINT) AS requests, CAST(SUM(errors) AS BIGINT) AS errors,
                CAST(SUM(prompt_tokens) AS BIGINT) AS prompt_tokens,
                CAST(SUM(completion_tokens) AS BIGINT) AS completion_tokens
            FROM usage_minutes
            WHERE organization_id = \(bind: query.organizationID)
                AND minute_start >= \(bind: start) AND minute_start < \(bind: query.end.unixMilliseconds)
            """
        if !query.projectIDs.isEmpty { sql += " AND project_id IN (\(binds: query.projectIDs))" }
        if !query.apiKeyIDs.isEmpty { sql += " AND api_key_id IN (\(binds: query.apiKeyIDs))" }
        sql +=
            " GROUP BY \(unsafeRaw: groups.joined(separator: ", ")) ORDER BY \(unsafeRaw: groups.joined(separator: ", "))"
        let finished = sql
        return try await database.withConnection { db in
            try await db.raw(finished).all().map { row in
                UsageTotal(
                    bucket: Int(try row.decode(column: "bucket", as: Int64.self)),
                    projectID: try row.decode(column: "project_id", as: String?.self),
                    apiKeyID: try row.decode(column: "api_key_id", as: String?.self),
                    requests: Int(try row.decode(column: "requests", as: Int64.self)),
                    errors: Int(try row.decode(column: "errors", as: Int64.self)),
                    promptTokens: Int(try row.decode(column: "prompt_tokens", as: Int64.self)),
                    completionTokens: Int(try row.decode(column: "completion_tokens", as: Int64.self)))
            }
        }
    }
}
