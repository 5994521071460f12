import Foundation
import KeywardenCore

/// Fixed-window counters in memory, as `SQLRateCounterRepository` keeps them: one row per bucket
/// and window, added to atomically.
struct InMemoryRateCounterRepository: RateCounterRepository {
    let database: InMemoryDatabase

    func add(_ amount: Int, bucket: String, windowStart: Date, expiresAt: Date) async throws -> Int {
        await database.transaction { (tables) -> Int in
            // An upsert: a window's first add sets its expiry, later ones only count.
            guard
                let index = tables.counters.firstIndex(where: {
                    $0.bucket == bucket && $0.windowStart == windowStart
                })
            else {
                tables.counters.append(
                    InMemoryDatabase.CounterRow(
                        bucket: bucket, windowStart: windowStart, count: amount, expiresAt: expiresAt))
                return amount
            }
            tables.counters[index].count += amount
            return tables.counters[index].count
        }
    }

    func count(bucket: String, windowStart: Date) async throws -> Int {
        await database.transaction { tables in
            tables.counters.first { $0.bucket == bucket && $0.windowStart == windowStart }?.count ?? 0
        }
    }

    func purge(expiredBefore date: Date) async throws {
        await database.transaction { tables in tables.counters.removeAll { $0.expiresAt < date } }
    }
}
