import Foundation
import KeywardenCore
import SQLKit

/// Usage-anomaly alerts in SQL, and the per-key sums of `usage_minutes` the detector reads.
///
/// The arbiter between instances is one `key_alert_raises` row per key and kind, holding when it
/// last raised that kind: an alert is stored only by the statement that moves that row on, so of
/// instances raising at once (in one window, or one just before a window starts and one just
/// after) exactly one stores it and mails.
public struct SQLKeyAlertRepository: KeyAlertRepository {
    let database: DatabaseClient

    /// Creates the repository over a database.
    public init(database: DatabaseClient) {
        self.database = database
    }

    static let columns = """
        a.id AS id, a.api_key_id AS api_key_id, a.organization_id AS organization_id, a.project_id AS project_id, \
        a.kind AS kind, a.window_start AS window_start, a.observed AS observed, a.baseline AS baseline, \
        a.idle_since AS idle_since, a.created_at AS created_at, a.dismissed_at AS dismissed_at, \
        k.name AS key_name, k.redacted_value AS key_redacted_value
        """

    public func usage(from start: Date, until end: Date, lookingBackTo lookBack: Date) async throws -> [KeyHourUsage] {
        let from = start.unixMilliseconds
        // Both hours in one range read of the minute index; the look-back only says whether the
        // key called then.
        let rows = try await database.withConnection { db in
            try await db.raw(
                """
                SELECT api_key_id, MAX(organization_id) AS organization_id,
                    CAST(SUM(CASE WHEN minute_start >= \(bind: from) THEN requests ELSE 0 END) AS BIGINT) AS calls,
                    CAST(SUM(CASE WHEN minute_start >= \(bind: from) THEN errors ELSE 0 END) AS BIGINT) AS errors,
                    MIN(CASE WHEN minute_start >= \(bind: from) THEN minute_start END) AS first_call,
                    MAX(CASE WHEN minute_start < \(bind: from) THEN minute_start END) AS earlier_call
                FROM usage_minutes
                WHERE minute_start >= \(bind: lookBack.unixMilliseconds) AND minute_start < \(bind: end.unixMilliseconds)
                GROUP BY api_key_id
                HAVING SUM(CASE WHEN minute_start >= \(bind: from) THEN requests ELSE 0 END) > 0
                ORDER BY api_key_id
                """
            ).all()
        }
        return try rows.compactMap { row -> KeyHourUsage? in
            guard let first = try row.decode(column: "first_call", as: Int64?.self) else { return nil }
            return KeyHourUsage(
                apiKeyID: APIKeyID(unchecked: try row.string("api_key_id")),
                organizationID: OrganizationID(unchecked: try row.string("organization_id")),
                calls: Int(try row.decode(column: "calls", as: Int64.self)),
                errors: Int(try row.decode(column: "errors", as: Int64.self)),
                firstCallAt: Date(unixMilliseconds: first),
                calledBefore: try row.decode(column: "earlier_call", as: Int64?.self) != nil)
        }
    }

    public func totals(
        of keys: [APIKeyID], from start: Date, until end: Date
    ) async throws -> [APIKeyID: KeyUsageTotals] {
        guard !keys.isEmpty else { return [:] }
        let ids = keys.map(\.rawValue)
        let rows = try await database.withConnection { db in
            try await db.raw(
                """
                SELECT api_key_id, CAST(SUM(requests) AS BIGINT) AS calls, CAST(SUM(errors) AS BIGINT) AS errors
                FROM usage_minutes
                WHERE api_key_id IN (\(binds: ids)) AND minute_start >= \(bind: start.unixMilliseconds)
                    AND minute_start < \(bind: end.unixMilliseconds)
                GROUP BY api_key_id
                """
            ).all()
        }
        var totals: [APIKeyID: KeyUsageTotals] = [:]
        for row in rows {
            totals[APIKeyID(unchecked: try row.string("api_key_id"))] = KeyUsageTotals(
                calls: Int(try row.decode(column: "calls", as: Int64.self)),
                errors: Int(try row.decode(column: "errors", as: Int64.self)))
        }
        return totals
    }

    public func lastCall(of key: APIKeyID, before date: Date) async throws -> Date? {
        try await database.withConnection { db in
            // The key's rows are the first part of the primary key: the newest one is found
            // reading the index backwards, without a scan.
            try await db.raw(
                """
                SELECT minute_start FROM usage_minutes
                WHERE api_key_id = \(bind: key.rawValue) AND minute_start < \(bind: date.unixMilliseconds)
                ORDER BY minute_start DESC LIMIT 1
                """
            ).first()?.date("minute_start")
        }
    }

    public func record(_ alert: KeyAlert, unlessRaisedSince quietSince: Date) async throws -> Bool {
        let key = alert.apiKeyID.rawValue
        let kind = alert.kind.rawValue
        let raisedAt = alert.createdAt.unixMilliseconds
        return try await database.withTransaction { db -> Bool in
            // The key's first alert of the kind: the insert that creates the row wins.
            let created = try await db.raw(
                """
                INSERT INTO key_alert_raises (api_key_id, kind, raised_at)
                VALUES (\(bind: key), \(bind: kind), \(bind: raisedAt))
                ON CONFLICT (api_key_id, kind) DO NOTHING
                RETURNING api_key_id
                """
            ).first()
            if created == nil {
                // Otherwise only the update that finds the last one older than `quietSince`. A
                // second instance's update waits for the first's row lock and then reads the row
                // the first left (PostgreSQL re-checks the condition; SQLite runs one at a time).
                let moved = try await db.raw(
                    """
                    UPDATE key_alert_raises SET raised_at = \(bind: raisedAt)
                    WHERE api_key_id = \(bind: key) AND kind = \(bind: kind)
                        AND raised_at < \(bind: quietSince.unixMilliseconds)
                    RETURNING api_key_id
                    """
                ).first()
                guard moved != nil else { return false }
            }
            // The window's unique index still stands, should clocks disagree.
            return try await db.raw(
                """
                INSERT INTO key_alerts (id, api_key_id, organization_id, project_id, kind, window_start, observed,
                    baseline, idle_since, created_at, dismissed_at)
                VALUES (\(bind: alert.id.rawValue), \(bind: key),
                    \(bind: alert.organizationID.rawValue), \(bind: alert.projectID?.rawValue),
                    \(bind: kind), \(bind: alert.windowStart.unixMilliseconds),
                    \(bind: Int64(alert.observed)), \(bind: Int64(alert.baseline)),
                    \(bind: alert.idleSince?.unixMilliseconds), \(bind: raisedAt),
                    \(bind: alert.dismissedAt?.unixMilliseconds))
                ON CONFLICT (api_key_id, kind, window_start) DO NOTHING
                RETURNING id
                """
            ).first() != nil
        }
    }

    public func alerts(
        in organization: OrganizationID, since: Date, includeDismissed: Bool, limit: Int
    ) async throws -> [KeyAlert] {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT \(unsafeRaw: Self.columns)
                FROM key_alerts a JOIN api_keys k ON k.id = a.api_key_id
                WHERE a.organization_id = \(bind: organization.rawValue)
                    AND a.created_at >= \(bind: since.unixMilliseconds)
                    AND (\(bind: includeDismissed ? 1 : 0) = 1 OR a.dismissed_at IS NULL)
                ORDER BY a.created_at DESC, a.id DESC LIMIT \(literal: max(limit, 1))
                """
            ).all().map { try $0.keyAlert() }
        }
    }

    public func alert(_ id: KeyAlertID, in organization: OrganizationID) async throws -> KeyAlert? {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT \(unsafeRaw: Self.columns)
                FROM key_alerts a JOIN api_keys k ON k.id = a.api_key_id
                WHERE a.id = \(bind: id.rawValue) AND a.organization_id = \(bind: organization.rawValue)
                """
            ).first()?.keyAlert()
        }
    }

    public func dismiss(_ id: KeyAlertID, in organization: OrganizationID, at now: Date) async throws -> Bool {
        try await database.withConnection { db in
            try await db.raw(
                """
                UPDATE key_alerts SET dismissed_at = \(bind: now.unixMilliseconds)
                WHERE id = \(bind: id.rawValue) AND organization_id = \(bind: organization.rawValue)
                    AND dismissed_at IS NULL
                RETURNING id
                """
            ).first() != nil
        }
    }
}

extension SQLRow {
    /// A row read with ``SQLKeyAlertRepository/columns``.
    func keyAlert() throws -> KeyAlert {
        let rawKind = try string("kind")
        guard let kind = KeyAlert.Kind(rawValue: rawKind) else {
            throw StorageError.corruptRow("unknown key alert kind '\(rawKind)'")
        }
        return KeyAlert(
            id: KeyAlertID(unchecked: try string("id")),
            apiKeyID: APIKeyID(unchecked: try string("api_key_id")),
            organizationID: OrganizationID(unchecked: try string("organization_id")),
            projectID: try decode(column: "project_id", as: String?.self).map(ProjectID.init(unchecked:)),
            kind: kind, windowStart: try date("window_start"),
            observed: Int(try decode(column: "observed", as: Int64.self)),
            baseline: Int(try decode(column: "baseline", as: Int64.self)),
            idleSince: try optionalDate("idle_since"), createdAt: try date("created_at"),
            dismissedAt: try optionalDate("dismissed_at"), keyName: try string("key_name"),
            redactedValue: try string("key_redacted_value"))
    }
}
