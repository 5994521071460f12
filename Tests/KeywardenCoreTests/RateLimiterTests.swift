import Foundation
import KeywardenCore
import Synchronization
import Testing

@Suite("RateLimiter")
struct RateLimiterTests {
    let key = RateLimiter.Scope(.key, id: "key_a", limits: MinuteLimits(requests: 3, tokens: 1000))

    func admitted(_ decision: RateLimiter.Decision) -> RateLimiter.Status? {
        if case .admitted(let status) = decision { return status }
        return nil
    }

    @Test func remainingRequestsDecreaseWithEachCallAndRefuseAtZero() throws {
        let limiter = RateLimiter()
        let first = try #require(admitted(limiter.acquire([key], tokens: 10, now: 0)))
        #expect(first.limitRequests == 3)
        #expect(first.remainingRequests == 2)
        #expect(first.remainingTokens == 990)
        let second = try #require(admitted(limiter.acquire([key], tokens: 10, now: 0)))
        #expect(second.remainingRequests == 1)
        let third = try #require(admitted(limiter.acquire([key], tokens: 10, now: 0)))
        #expect(third.remainingRequests == 0)
        // Three used of three a minute: one comes back every 20 seconds.
        #expect(third.resetRequests == 60)
        guard
            case .refused(let status, let retryAfter, let exhausted, let tokens) = limiter.acquire(
                [key], tokens: 10, now: 0)
        else {
            Issue.record("a fourth call in the same instant must be refused")
            return
        }
        #expect(status.remainingRequests == 0)
        #expect(retryAfter == 20)
        #expect(exhausted.id == "key_a")
        #expect(tokens == false)
    }

    @Test func bucketsRefillContinuouslyAsTheWindowMoves() throws {
        let limiter = RateLimiter()
        for _ in 0..<3 { _ = limiter.acquire([key], tokens: 0, now: 100) }
        if case .admitted = limiter.acquire([key], tokens: 0, now: 119) { Issue.record("refilled too early") }
        let later = try #require(admitted(limiter.acquire([key], tokens: 0, now: 120)))
        #expect(later.remainingRequests == 0)
        let full = try #require(admitted(limiter.acquire([key], tokens: 0, now: 1000)))
        #expect(full.remainingRequests == 2)
    }

    @Test func aRefusedCallChargesNothing() throws {
        let limiter = RateLimiter()
        let organization = RateLimiter.Scope(
            .organization, id: "org_a", limits: MinuteLimits(requests: 100, tokens: 100))
        _ = limiter.acquire([organization, key], tokens: 90, now: 0)
        if case .admitted = limiter.acquire([organization, key], tokens: 50, now: 0) {
            Issue.record("tokens beyond the organization's minute must be refused")
        }
        guard case .refused(_, _, let exhausted, let tokens) = limiter.acquire([organization, key], tokens: 50, now: 0)
        else { return }
        #expect(exhausted.id == "org_a")
        #expect(tokens)
        // The key's request bucket was not charged by the two refusals.
        let status = try #require(admitted(limiter.acquire([key], tokens: 0, now: 0)))
        #expect(status.remainingRequests == 1)
    }

    @Test func theScopeNearestItsLimitIsReported() throws {
        let limiter = RateLimiter()
        let project = RateLimiter.Scope(.project, id: "proj_a", limits: MinuteLimits(requests: 100, tokens: 50))
        let status = try #require(admitted(limiter.acquire([project, key], tokens: 20, now: 0)))
        #expect(status.limitRequests == 3)
        #expect(status.remainingRequests == 2)
        #expect(status.limitTokens == 50)
        #expect(status.remainingTokens == 30)
    }

    @Test func anEstimateLargerThanAMinuteWaitsForAFullBucketInsteadOfFailingForever() throws {
        let limiter = RateLimiter()
        let status = try #require(admitted(limiter.acquire([key], tokens: 5000, now: 0)))
        #expect(status.remainingTokens == 0)
    }

    @Test func realUsageCorrectsTheEstimateBothWays() throws {
        let limiter = RateLimiter()
        _ = limiter.acquire([key], tokens: 100, now: 0)
        limiter.adjustTokens(["key_a"], by: 400, now: 0)
        var status = try #require(admitted(limiter.acquire([key], tokens: 0, now: 0)))
        #expect(status.remainingTokens == 500)
        limiter.adjustTokens(["key_a"], by: -300, now: 0)
        status = try #require(admitted(limiter.acquire([key], tokens: 0, now: 0)))
        #expect(status.remainingTokens == 800)
        // Debt is bounded by one minute's tokens.
        limiter.adjustTokens(["key_a"], by: 1_000_000, now: 0)
        guard case .refused(_, let retryAfter, _, _) = limiter.acquire([key], tokens: 1, now: 0) else {
            Issue.record("a scope in debt must refuse")
            return
        }
        #expect(retryAfter <= 120.1)
    }

    @Test func aChangedLimitAppliesAtOnce() throws {
        let limiter = RateLimiter()
        _ = limiter.acquire([key], tokens: 0, now: 0)
        let raised = RateLimiter.Scope(.key, id: "key_a", limits: MinuteLimits(requests: 10, tokens: 1000))
        let status = try #require(admitted(limiter.acquire([raised], tokens: 0, now: 0)))
        #expect(status.limitRequests == 10)
        #expect(status.remainingRequests == 8)
    }

    @Test func sweepForgetsOnlyFullBuckets() {
        let limiter = RateLimiter()
        _ = limiter.acquire([key], tokens: 0, now: 0)
        _ = limiter.acquire([RateLimiter.Scope(.key, id: "key_b", limits: key.limits)], tokens: 0, now: 50)
        limiter.sweep(now: 10)
        #expect(limiter.scopeCount == 2)
        limiter.sweep(now: 60)
        #expect(limiter.scopeCount == 1)
    }

    @Test(arguments: [
        (0.0, "0s"), (0.0004, "1ms"), (0.02, "20ms"), (1, "1s"), (1.5, "1.5s"), (59.124, "59.124s"), (360, "6m0s"),
        (390.25, "6m30.25s"), (3723, "1h2m3s"),
    ])
    func durationsLookLikeOpenAIs(_ seconds: Double, _ text: String) {
        #expect(RateLimitDuration.format(seconds) == text)
    }
}

@Suite("RateLimitTiers")
struct RateLimitTierTests {
    @Test func theShippedTextParsesToTheShippedTiers() throws {
        let tiers = try RateLimitTiers.parseTiers(RateLimitTiers.standardText)
        #expect(tiers.map(\.name) == ["free", "tier-1", "tier-2", "tier-3"])
        #expect(RateLimitTiers.standard.tier(named: nil).organization == MinuteLimits(requests: 60, tokens: 100_000))
        #expect(RateLimitTiers.standard.tier(named: "tier-2").key == MinuteLimits(requests: 5_000, tokens: 2_000_000))
        #expect(RateLimitTiers.standard.tier(named: "gone").name == "free")
    }

    @Test func projectAndKeyLimitsDefaultDownwards() throws {
        let tier = try #require(
            try RateLimitTiers.parseTiers("small: rpm=100 tpm=1000 project_rpm=50 key_tpm=10").first)
        #expect(tier.organization == MinuteLimits(requests: 100, tokens: 1000))
        #expect(tier.project == MinuteLimits(requests: 50, tokens: 1000))
        #expect(tier.key == MinuteLimits(requests: 50, tokens: 10))
        let own = ProjectRateLimits(maxRequestsPerMinute: 7).applied(to: tier)
        #expect(own == MinuteLimits(requests: 7, tokens: 1000))
    }

    @Test(arguments: [
        "", "free rpm=1 tpm=1", "free: rpm=1", "free: rpm=0 tpm=1", "free: rpm=1 tpm=1 burst=3", "b@d: rpm=1 tpm=1",
    ])
    func malformedTiersAreRefused(_ text: String) {
        #expect(throws: TierSyntaxError.self) { try RateLimitTiers.parseTiers(text) }
    }
}

@Suite("UsageMeter")
struct UsageMeterTests {
    @Test func callsAreSummedPerKeyAndMinuteAndDrainedOnce() {
        let meter = UsageMeter()
        let start = Date(timeIntervalSince1970: 1_750_000_020)
        meter.record(
            apiKeyID: "key_a", projectID: "proj_a", organizationID: "org_a", at: start, failed: false, promptTokens: 3,
            completionTokens: 4)
        meter.record(
            apiKeyID: "key_a", projectID: "proj_a", organizationID: "org_a", at: start.addingTimeInterval(30),
            failed: true, promptTokens: 1, completionTokens: 0)
        meter.record(
            apiKeyID: "key_a", projectID: "proj_a", organizationID: "org_a", at: start.addingTimeInterval(70),
            failed: false, promptTokens: 1, completionTokens: 1)
        let records = meter.drain().sorted { $0.minute < $1.minute }
        #expect(records.count == 2)
        #expect(records[0].minute == start)
        #expect(records[0].requests == 2)
        #expect(records[0].errors == 1)
        #expect(records[0].promptTokens == 4)
        #expect(records[1].requests == 1)
        #expect(meter.drain().isEmpty)
        meter.restore(records)
        meter.restore([records[1]])
        let again = meter.drain().sorted { $0.minute < $1.minute }
        #expect(again[1].requests == 2)
    }
}

@Suite("RateLimitPolicy under storage trouble")
struct RateLimitPolicyOutageTests {
    struct Outage: Error {}

    /// Settings that answer until `failing` is set.
    final class FlakySettings: RateLimitSettingsRepository {
        let failing = Mutex(false)

        func tier(of organization: OrganizationID) async throws -> String? {
            if failing.withLock({ $0 }) { throw Outage() }
            return "big"
        }
        func setTier(_ tier: String?, of organization: OrganizationID, at date: Date) async throws {}
        func limits(of project: ProjectID) async throws -> ProjectRateLimits {
            if failing.withLock({ $0 }) { throw Outage() }
            return ProjectRateLimits(maxRequestsPerMinute: 7)
        }
        func setLimits(
            _ limits: ProjectRateLimits, of project: ProjectID, in organization: OrganizationID, at date: Date
        ) async throws {}
    }

    /// An audit log these tests never change settings through: writing or reading it fails.
    struct UnexpectedAuditLog: AuditLogRepository {
        func append(_ event: AuditEvent) async throws {
            Issue.record("unexpected audit event \(event.type)")
            throw Outage()
        }
        func events(
            in organization: OrganizationID, types: [AuditEventType]?, from: Date?, until: Date?,
            after: AuditEventID?, limit: Int
        ) async throws -> Page<AuditEvent> {
            Issue.record("unexpected audit log read")
            throw Outage()
        }
    }

    struct DownStore: RateLimitLeaseRepository {
        func lease(
            scope: String, requests: BucketLease, tokens: BucketLease, now: Date
        ) async throws
            -> (requests: LeaseGrant, tokens: LeaseGrant)
        { throw Outage() }
    }

    let tiers = RateLimitTiers(
        tiers: [
            RateLimitTier(name: "free", organization: MinuteLimits(requests: 1, tokens: 1)),
            RateLimitTier(name: "big", organization: MinuteLimits(requests: 100, tokens: 1000)),
        ], defaultTier: "free")!

    func key() -> APIKey {
        APIKey(
            id: .generate(), kind: .project, organizationID: .generate(), projectID: .generate(), name: "k",
            owner: .user(.generate()), permissions: .all, digest: "d", redactedValue: "r", createdAt: Date())
    }

    @Test func unreadableSettingsKeepTheLastKnownLimits() async {
        let settings = FlakySettings()
        let policy = RateLimitPolicy(
            tiers: tiers, settings: settings, audit: UnexpectedAuditLog(), clock: .live, cacheLifetime: 1)
        let key = key()
        let now = Date(timeIntervalSince1970: 1000)
        let before = await policy.scopes(for: key, now: now)
        settings.failing.withLock { $0 = true }
        let during = await policy.scopes(for: key, now: now.addingTimeInterval(5))
        #expect(during.map(\.limits) == before.map(\.limits))
        #expect(during[1].limits.requests == 7)
        // With nothing known, the default tier applies.
        let stranger = await policy.scopes(for: self.key(), now: now)
        #expect(stranger[0].limits == MinuteLimits(requests: 1, tokens: 1))
    }

    @Test func unreachableSharedBucketsFallBackToThisInstancesOwn() async {
        let policy = RateLimitPolicy(
            tiers: tiers, settings: FlakySettings(), audit: UnexpectedAuditLog(), clock: .live,
            shared: SharedRateLimiter(store: DownStore()))
        let scope = RateLimiter.Scope(.project, id: "proj_x", limits: MinuteLimits(requests: 2, tokens: 100))
        let now = Date(timeIntervalSince1970: 1000)
        var admitted = 0
        for _ in 0..<3 {
            if case .admitted = await policy.acquire([scope], tokens: 1, now: now) { admitted += 1 }
        }
        #expect(admitted == 2)
    }
}
