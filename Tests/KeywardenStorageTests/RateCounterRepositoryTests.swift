import Foundation
import KeywardenCore
import KeywardenStorage
import Testing

@Suite("RateCounterRepository contract")
struct RateCounterRepositoryTests {
    @Test(arguments: Backend.available)
    func addReturnsTheRunningTotalPerBucketAndWindow(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let counters = SQLRateCounterRepository(database: database)
            let later = epoch.addingTimeInterval(60)
            let value1 = try await counters.add(1, bucket: "a", windowStart: epoch, expiresAt: later)
            #expect(value1 == 1)
            let value2 = try await counters.add(2, bucket: "a", windowStart: epoch, expiresAt: later)
            #expect(value2 == 3)
            let value3 = try await counters.add(1, bucket: "b", windowStart: epoch, expiresAt: later)
            #expect(value3 == 1)
            let value4 = try await counters.add(1, bucket: "a", windowStart: later, expiresAt: later)
            #expect(value4 == 1)
            let value5 = try await counters.count(bucket: "a", windowStart: epoch)
            #expect(value5 == 3)
            let value6 = try await counters.count(bucket: "missing", windowStart: epoch)
            #expect(value6 == 0)
        }
    }

    @Test(arguments: Backend.available)
    func concurrentAddsLoseNoCounts(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let counters = SQLRateCounterRepository(database: database)
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        try await counters.add(1, bucket: "race", windowStart: epoch, expiresAt: epoch)
                    }
                }
                try await group.waitForAll()
            }
            let value7 = try await counters.count(bucket: "race", windowStart: epoch)
            #expect(value7 == 40)
        }
    }

    @Test(arguments: Backend.available)
    func purgeRemovesOnlyExpiredWindows(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let counters = SQLRateCounterRepository(database: database)
            _ = try await counters.add(1, bucket: "old", windowStart: epoch, expiresAt: epoch.addingTimeInterval(10))
            _ = try await counters.add(1, bucket: "new", windowStart: epoch, expiresAt: epoch.addingTimeInterval(100))
            try await counters.purge(expiredBefore: epoch.addingTimeInterval(50))
            let value8 = try await counters.count(bucket: "old", windowStart: epoch)
            #expect(value8 == 0)
            let value9 = try await counters.count(bucket: "new", windowStart: epoch)
            #expect(value9 == 1)
        }
    }
}
