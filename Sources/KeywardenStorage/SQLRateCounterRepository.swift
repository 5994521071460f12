import Foundation
import KeywardenCore
import SQLKit

/// Fixed-window counters in SQL: one row per bucket and window, bumped by an upsert.
public struct SQLRateCounterRepository: RateCounterRepository {
    let database: DatabaseClient

    /// Creates the repository over a database.
    public init(database: DatabaseClient) {
        self.database = database
    }

    public func add(_ amount: Int, bucket: String, windowStart: Date, expiresAt: Date) async throws -> Int {
        try await database.withConnection { db in
            // The upsert is one atomic statement on both backends, so concurrent requests
            // (and instances) never lose a count.
            let row = try await db.raw(
                """
                INSERT INTO rate_counters (bucket, window_start, count, expires_at)
                VALUES (\(bind: bucket), \(bind: windowStart.unixMilliseconds), \(bind: Int64(amount)), \(bind: expiresAt.unixMilliseconds))
                ON CONFLICT (bucket, window_start) DO UPDATE SET count = rate_counters.count + excluded.count
                RETURNING count
                """
            ).first()
            guard let row else { throw StorageError.corruptRow("counter upsert returned no row") }
            return Int(try row.decode(column: "count", as: Int64.self))
        }
    }

    public func count(bucket: String, windowStart: Date) async throws -> Int {
        try await database.withConnection { db in
            let row = try await db.raw(
                """
                SELECT count FROM rate_counters
                WHERE bucket = \(bind: bucket) AND window_start = \(bind: windowStart.unixMilliseconds)
                """
            ).first()
            return Int(try row?.decode(column: "count", as: Int64.self) ?? 0)
        }
    }

    public func purge(expiredBefore date: Date) async throws {
        try await database.withConnection { db in
            try await db.raw("DELETE FROM rate_counters WHERE expires_at < \(bind: date.unixMilliseconds)").run()
        }
    }
}
