import Foundation
import KeywardenCore
import SQLKit

/// Verification events counted per hour, country and event name in SQL: one row per hour,
/// country and event, bumped by an upsert.
public struct SQLVerificationStatsRepository: VerificationStatsRepository {
    let database: DatabaseClient

    /// Creates the repository over a database.
    public init(database: DatabaseClient) {
        self.database = database
    }

    /// Milliseconds in the hour the counts are kept by.
    static let hour: Int64 = 3_600_000

    /// The start of the UTC hour `date` falls in, in Unix milliseconds.
    static func hourStart(of date: Date) -> Int64 {
        let milliseconds = date.unixMilliseconds
        // Rounded down, also before 1970, where `%` would round toward zero.
        return milliseconds - ((milliseconds % hour) + hour) % hour
    }

    public func count(_ event: VerificationEvent, country: String, at now: Date) async throws {
        try await database.withConnection { db in
            // One atomic statement on both backends: concurrent counts are never lost.
            try await db.raw(
                """
                INSERT INTO verification_stats (hour_start, country, event, count)
                VALUES (\(bind: Self.hourStart(of: now)), \(bind: country), \(bind: event.name), 1)
                ON CONFLICT (hour_start, country, event) DO UPDATE SET count = verification_stats.count + 1
                """
            ).run()
        }
    }

    public func counts(from: Date) async throws -> [String: [String: Int]] {
        try await database.withConnection { db in
            var counts: [String: [String: Int]] = [:]
            for row in try await db.raw(
                """
                SELECT country, event, CAST(SUM(count) AS BIGINT) AS total FROM verification_stats
                WHERE hour_start >= \(bind: Self.hourStart(of: from))
                GROUP BY country, event
                """
            ).all() {
                let country = try row.string("country")
                let event = try row.string("event")
                counts[country, default: [:]][event] = Int(try row.decode(column: "total", as: Int64.self))
            }
            return counts
        }
    }
}
