import Foundation
import Synchronization
import Testing

@testable import KeywardenCore

/// Keeps every batch written, or refuses them all.
final class RecordingUsageRepository: UsageRepository {
    let batches = Mutex<[UsageBatch]>([])
    let failing = Mutex(false)

    struct Refused: Error {}

    func add(_ batch: UsageBatch) async throws {
        if failing.withLock({ $0 }) { throw Refused() }
        batches.withLock { $0.append(batch) }
    }

    func totals(_ query: UsageQuery) async throws -> [UsageTotal] { [] }

    var debits: [UsageDebit] { batches.withLock { $0.flatMap(\.debits) } }
}

@Suite("Usage meter: rows per model, costs and debits")
struct UsageMeterCostTests {
    let midnight = Date(timeIntervalSince1970: 1_751_328_000)  // 2025-07-01 00:00 UTC

    func call(model: String = "gpt-4o", organization: String = "org_a", cost: Int64) -> MeteredCall {
        MeteredCall(
            apiKeyID: "key_a", projectID: "proj_a", organizationID: organization, model: model, failed: false,
            promptTokens: 10, completionTokens: 5, inputCostNanos: cost)
    }

    @Test func callsAreCountedPerModelAndMinute() async throws {
        let meter = UsageMeter(leaseHolder: "inst_a")
        let repository = RecordingUsageRepository()
        meter.record(call(cost: 1), at: midnight)
        meter.record(call(cost: 2), at: midnight.addingTimeInterval(30))
        meter.record(call(model: "gpt-4o-mini", cost: 4), at: midnight)
        meter.record(call(cost: 8), at: midnight.addingTimeInterval(60))
        try await meter.flush(to: repository)
        let records = repository.batches.withLock { $0.flatMap(\.records) }
        #expect(records.count == 3)
        let first = records.first { $0.model == "gpt-4o" && $0.minute == midnight }
        #expect(first?.requests == 2 && first?.inputCostNanos == 3 && first?.promptTokens == 20)
        #expect(repository.batches.withLock { $0.allSatisfy { $0.leaseHolder == "inst_a" } })
    }

    @Test func debitsAreWholeMicroUnitsPerOrganizationAndDayAndTheRestIsCarried() async throws {
        let meter = UsageMeter()
        let repository = RecordingUsageRepository()
        // 1.5 micro-units before midnight, 0.7 after it, for one organization; 2 for another.
        meter.record(call(cost: 1_500), at: midnight.addingTimeInterval(-10))
        meter.record(call(cost: 700), at: midnight.addingTimeInterval(10))
        meter.record(call(organization: "org_b", cost: 2_000), at: midnight)
        try await meter.flush(to: repository)
        let first = repository.debits.sorted { ($0.organizationID, $0.day) < ($1.organizationID, $1.day) }
        #expect(first.map(\.micros) == [1, 2])
        #expect(first[0].day == midnight.addingTimeInterval(-86_400))
        // What was carried joins the next costs of the same day.
        meter.record(call(cost: 300), at: midnight.addingTimeInterval(20))
        meter.record(call(cost: 500), at: midnight.addingTimeInterval(-5))
        try await meter.flush(to: repository)
        let second = Array(repository.debits.dropFirst(2)).sorted { $0.day < $1.day }
        #expect(second.map(\.micros) == [1, 1])
        #expect(second.map(\.day) == [midnight.addingTimeInterval(-86_400), midnight])
    }

    @Test func aFailedWriteKeepsTheCallsAndTheirRemaindersForTheNext() async throws {
        let meter = UsageMeter()
        let repository = RecordingUsageRepository()
        meter.record(call(cost: 1_400), at: midnight)
        try await meter.flush(to: repository)
        repository.failing.withLock { $0 = true }
        meter.record(call(cost: 1_400), at: midnight)
        await #expect(throws: RecordingUsageRepository.Refused.self) { try await meter.flush(to: repository) }
        repository.failing.withLock { $0 = false }
        try await meter.flush(to: repository)
        // 2.8 micro-units in all: 1 then 1 (0.4 + 1.4 = 1.8), with 0.8 still carried.
        #expect(repository.debits.map(\.micros) == [1, 1])
        let records = repository.batches.withLock { $0.flatMap(\.records) }
        #expect(records.map(\.inputCostNanos).reduce(0, +) == 2_800)
    }
}

@Suite("UTC months without a calendar")
struct UTCMonthTests {
    @Test func monthsAndTheirBoundariesMatchTheGregorianCalendar() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        // Every day from 1999 to 2101 at 00:00:00 and 23:59:59, leap years and centuries included.
        var day = try #require(calendar.date(from: DateComponents(year: 1999, month: 1, day: 1)))
        let end = try #require(calendar.date(from: DateComponents(year: 2101, month: 3, day: 2)))
        while day < end {
            for instant in [day, day.addingTimeInterval(86_399)] {
                let parts = calendar.dateComponents([.year, .month], from: instant)
                #expect(SpendLeaseScope.month(of: instant) == (parts.year ?? 0) * 100 + (parts.month ?? 0))
                let start = try #require(calendar.date(from: parts))
                #expect(UTCMonth.start(of: instant) == start)
                #expect(UTCMonth.nextStart(after: instant) == calendar.date(byAdding: .month, value: 1, to: start))
            }
            day = day.addingTimeInterval(86_400)
        }
    }
}

/// A spend store whose database never answers.
struct UnreachableSpendRepository: SpendRepository {
    struct Down: Error {}

    func budgets(
        of organization: OrganizationID
    ) async throws -> (
        organization: SpendBudget?, projects: [ProjectID: SpendBudget]
    ) { throw Down() }
    func setBudget(
        _ budget: SpendBudget?, organization: OrganizationID, project: ProjectID?, at now: Date
    )
        async throws
    { throw Down() }
    func budgetsWithAlerts(
        after: String?, limit: Int
    ) async throws -> [(
        scope: String, organization: OrganizationID, project: ProjectID?, budget: SpendBudget
    )] { throw Down() }
    func spent(organization: OrganizationID, project: ProjectID?, month: Int) async throws -> Int64 { throw Down() }
    func lease(_ request: SpendLeaseRequest) async throws -> SpendLeaseGrant { throw Down() }
    func recordAlert(scope: String, month: Int, percent: Int, at now: Date) async throws -> Bool { throw Down() }
}

@Suite("Spend checks without the database")
struct SpendGuardOutageTests {
    @Test func anOutageIsBridgedByAFewLocalSlicesAndThenPricedCallsArePaused() async throws {
        let tier = UsageTier(
            name: "free", qualifyingPaidMicros: 0, monthlyLimitMicros: nil,
            rateLimits: RateLimitTier(name: "free", organization: MinuteLimits(requests: 1, tokens: 1)))
        let time = Mutex(Date(timeIntervalSince1970: 1_750_000_000))
        let spendGuard = SpendGuard(
            repository: UnreachableSpendRepository(), holder: "inst_a", sliceMicros: 1, recheckAfter: 1,
            tier: { _, _ in tier }, clock: Clock(now: { time.withLock { $0 } }))
        let organization = OrganizationID(unchecked: "org_outage")
        var now = time.withLock { $0 }
        var admitted = 0
        var refusal: SpendRefusal?
        for _ in 0..<20 {
            // Each local slice lasts a second; the next call after it asks the database again.
            now = now.addingTimeInterval(1.5)
            time.withLock { $0 = now }
            // Sweeping between calls does not reset the count of slices given in the outage.
            spendGuard.sweep(now: now)
            if let refused = await spendGuard.admit(organization: organization, project: nil, now: now) {
                refusal = refused
                break
            }
            admitted += 1
            spendGuard.charge(organization: organization, project: nil, nanos: 1_000, now: now)
        }
        #expect(admitted == SpendGuard.slicesWithoutDatabase)
        #expect(refusal?.kind == .unavailable)
        #expect(refusal?.error(currency: .usd).kind == .unavailable)
    }
}

@Suite("Which gateway calls are model calls")
struct UsageCategoryTests {
    func category(_ path: String) -> UsageCategory {
        UsageCategory(creating: ArraySlice(path.split(separator: "/").map(String.init)))
    }

    @Test func onlyPostsThatCreateACallArePricedNotThoseOnStoredOnes() {
        #expect(category("chat/completions") == .completions)
        #expect(category("completions") == .completions)
        #expect(category("responses") == .completions)
        #expect(category("embeddings") == .embeddings)
        #expect(category("moderations") == .moderations)
        #expect(category("images/generations") == .images)
        #expect(category("audio/transcriptions") == .audio)
        // Updating, cancelling or counting on stored calls is not a model call.
        #expect(category("chat/completions/chatcmpl-1") == .other)
        #expect(category("responses/resp_1/cancel") == .other)
        #expect(category("responses/input_tokens") == .other)
        #expect(category("chat") == .other)
        #expect(category("batches") == .other)
        #expect(category("images") == .other)
    }
}
