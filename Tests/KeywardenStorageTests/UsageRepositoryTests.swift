import Foundation
import KeywardenCore
import KeywardenStorage
import Testing

@Suite("UsageRepository and RateLimitSettingsRepository contracts")
struct UsageRepositoryTests {
    func minute(_ index: Int) -> Date { epoch.addingTimeInterval(TimeInterval(60 * index)) }

    func record(_ key: String, _ project: String, minute index: Int, requests: Int = 1, prompt: Int = 0) -> UsageRecord
    {
        UsageRecord(
            apiKeyID: key, projectID: project, organizationID: "org_a", minute: minute(index), requests: requests,
            errors: requests > 1 ? 1 : 0, promptTokens: prompt, completionTokens: 2 * prompt)
    }

    @Test(arguments: Backend.available)
    func addsAccumulateIntoOneRowPerKeyAndMinute(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let usage = SQLUsageRepository(database: database)
            try await usage.add([record("key_a", "proj_a", minute: 0, prompt: 5)])
            try await usage.add([record("key_a", "proj_a", minute: 0, requests: 2, prompt: 7)])
            let totals = try await usage.totals(
                UsageQuery(organizationID: "org_a", start: epoch, end: minute(60), bucketWidth: 3600))
            #expect(totals == [UsageTotal(bucket: 0, requests: 3, errors: 1, promptTokens: 12, completionTokens: 24)])
        }
    }

    @Test(arguments: Backend.available)
    func totalsAreCutIntoBucketsAndGroups(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let usage = SQLUsageRepository(database: database)
            try await usage.add([
                record("key_a", "proj_a", minute: 0, prompt: 1),
                record("key_b", "proj_a", minute: 1, prompt: 2),
                record("key_c", "proj_b", minute: 1, prompt: 4),
                record("key_a", "proj_a", minute: 3, prompt: 8),
                record("key_a", "proj_a", minute: 9, prompt: 100),
                UsageRecord(
                    apiKeyID: "key_x", projectID: "proj_x", organizationID: "org_other", minute: minute(1), requests: 9),
            ])
            let byTwoMinutes = try await usage.totals(
                UsageQuery(organizationID: "org_a", start: epoch, end: minute(9), bucketWidth: 120))
            #expect(byTwoMinutes.map(\.bucket) == [0, 1])
            #expect(byTwoMinutes.map(\.promptTokens) == [7, 8])
            #expect(byTwoMinutes.map(\.requests) == [3, 1])

            let byProject = try await usage.totals(
                UsageQuery(
                    organizationID: "org_a", start: epoch, end: minute(9), bucketWidth: 3600, groupByProject: true))
            #expect(byProject.map(\.projectID) == ["proj_a", "proj_b"])
            #expect(byProject.map(\.promptTokens) == [11, 4])
            #expect(byProject.allSatisfy { $0.apiKeyID == nil })

            let byKey = try await usage.totals(
                UsageQuery(
                    organizationID: "org_a", start: epoch, end: minute(9), bucketWidth: 3600, groupByAPIKey: true,
                    projectIDs: ["proj_a"]))
            #expect(byKey.map(\.apiKeyID) == ["key_a", "key_b"])
            #expect(byKey.map(\.promptTokens) == [9, 2])

            let oneKey = try await usage.totals(
                UsageQuery(
                    organizationID: "org_a", start: minute(1), end: minute(10), bucketWidth: 60, apiKeyIDs: ["key_a"]))
            #expect(oneKey.map(\.bucket) == [2, 8])
        }
    }

    @Test(arguments: Backend.available)
    func tiersAndProjectLimitsAreStoredAndCleared(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let settings = SQLRateLimitSettingsRepository(database: database)
            let organization = account.organization.id
            let project = account.defaultProject.id
            #expect(try await settings.tier(of: organization) == nil)
            try await settings.setTier("tier-2", of: organization, at: epoch)
            #expect(try await settings.tier(of: organization) == "tier-2")
            try await settings.setTier(nil, of: organization, at: epoch)
            #expect(try await settings.tier(of: organization) == nil)

            #expect(try await settings.limits(of: project) == ProjectRateLimits())
            let own = ProjectRateLimits(maxRequestsPerMinute: 10, maxTokensPerMinute: 5_000_000_000)
            try await settings.setLimits(own, of: project, in: organization, at: epoch)
            #expect(try await settings.limits(of: project) == own)
            try await settings.setLimits(
                ProjectRateLimits(maxTokensPerMinute: 3), of: project, in: organization, at: epoch)
            #expect(try await settings.limits(of: project) == ProjectRateLimits(maxTokensPerMinute: 3))
        }
    }
}

@Suite("RateLimitLeaseRepository contract")
struct RateLimitLeaseRepositoryTests {
    func lease(
        _ store: SQLRateLimitLeaseRepository, want: Double, giveBack: Double = 0, at seconds: Double = 0
    ) async throws -> LeaseGrant {
        try await store.lease(
            scope: "proj_a", requests: BucketLease(capacity: 60, giveBack: giveBack, want: want),
            tokens: BucketLease(capacity: 1000, giveBack: 0, want: 0),
            now: epoch.addingTimeInterval(seconds)
        ).requests
    }

    @Test(arguments: Backend.available)
    func leasesTakeWhatIsThereRefillOverTimeAndTakeBackWhatIsReturned(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let store = SQLRateLimitLeaseRepository(database: database)
            let grant1 = try await lease(store, want: 50)
            #expect(grant1 == LeaseGrant(granted: 50, available: 10))
            let grant2 = try await lease(store, want: 50)
            #expect(grant2 == LeaseGrant(granted: 10, available: 0))
            let grant3 = try await lease(store, want: 5)
            #expect(grant3 == LeaseGrant(granted: 0, available: 0))
            // One a second comes back.
            let grant4 = try await lease(store, want: 5, at: 3)
            #expect(grant4 == LeaseGrant(granted: 3, available: 0))
            let grant5 = try await lease(store, want: 0, giveBack: 20, at: 3)
            #expect(grant5 == LeaseGrant(granted: 0, available: 20))
            // Never more than the capacity.
            let grant6 = try await lease(store, want: 0, at: 3600)
            #expect(grant6 == LeaseGrant(granted: 0, available: 60))
        }
    }

    @Test(arguments: Backend.available)
    func concurrentLeasesNeverGrantMoreThanTheBucketHolds(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let store = SQLRateLimitLeaseRepository(database: database)
            let granted = try await withThrowingTaskGroup(of: Double.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await lease(store, want: 7).granted }
                }
                return try await group.reduce(0, +)
            }
            #expect(granted == 60)
        }
    }
}
