import Foundation
import KeywardenCore
import KeywardenStorage
import Testing

@Suite("SpendRepository contract, usage costs and debits")
struct SpendRepositoryTests {
    /// An organization stored in the database, with `micros` of granted credit.
    func storedOrganization(
        _ email: String, credit micros: Int64, on database: DatabaseClient
    ) async throws -> OrganizationID {
        let account = try makeAccount(email: email)
        try await SQLAccountRepository(database: database).createAccount(account)
        if micros != 0 {
            _ = try await SQLBillingRepository(database: database).append(
                LedgerEntry(
                    organizationID: account.organization.id, kind: .grant, amountMicros: micros,
                    description: "Credit granted", reference: UUID().uuidString, createdAt: epoch))
        }
        return account.organization.id
    }

    func priced(
        _ organization: OrganizationID, project: String = "proj_a", at date: Date, model: String = "gpt-4o",
        input: Int64, output: Int64 = 0, category: UsageCategory = .completions
    ) -> UsageRecord {
        UsageRecord(
            apiKeyID: "key_a", projectID: project, organizationID: organization.rawValue, minute: date,
            category: category, model: model, requests: 1, promptTokens: 10, completionTokens: 5,
            inputCostNanos: input, outputCostNanos: output)
    }

    func lease(
        _ organization: OrganizationID, holder: String, want: Int64, limits: [SpendLimitKind: Int64] = [:],
        balance: Bool = true, at now: Date = epoch
    ) -> SpendLeaseRequest {
        SpendLeaseRequest(
            scope: SpendLeaseScope.organization(organization.rawValue, month: SpendLeaseScope.month(of: now)),
            holder: holder, organizationID: organization, monthStart: epoch, want: want, limits: limits,
            includeBalance: balance, now: now, expiresAt: now.addingTimeInterval(60))
    }

    @Test(arguments: Backend.available)
    func usageRowsAreKeptPerModelAndCategoryWithTheirCosts(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let usage = SQLUsageRepository(database: database)
            let organization = try await storedOrganization("a@example.com", credit: 0, on: database)
            try await usage.add([
                priced(organization, at: epoch, input: 1_000, output: 2_000),
                priced(organization, at: epoch, input: 1_000, output: 2_000),
                priced(organization, at: epoch, model: "gpt-4o-mini", input: 7, output: 0),
                priced(organization, at: epoch, model: "", input: 0, category: .other),
            ])
            let byModel = try await usage.totals(
                UsageQuery(
                    organizationID: organization.rawValue, start: epoch, end: epoch.addingTimeInterval(3600),
                    bucketWidth: 3600, groupByModel: true, categories: [.completions]))
            #expect(byModel.map(\.model) == ["gpt-4o", "gpt-4o-mini"])
            #expect(byModel.map(\.requests) == [2, 1])
            #expect(byModel.map(\.inputCostNanos) == [2_000, 7])
            #expect(byModel.map(\.outputCostNanos) == [4_000, 0])
            let everything = try await usage.totals(
                UsageQuery(
                    organizationID: organization.rawValue, start: epoch, end: epoch.addingTimeInterval(3600),
                    bucketWidth: 3600))
            #expect(everything.map(\.requests) == [4])
            #expect(everything.map(\.costNanos) == [6_007])
        }
    }

    @Test(arguments: Backend.available)
    func debitsMakeOneUsageEntryPerOrganizationAndDayThatGrows(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let usage = SQLUsageRepository(database: database)
            let billing = SQLBillingRepository(database: database)
            let organization = try await storedOrganization("a@example.com", credit: 5_000_000, on: database)
            let day = epoch.addingTimeInterval(86_400 * 3)
            func debit(_ micros: Int64, on day: Date) -> UsageDebit {
                UsageDebit(organizationID: organization.rawValue, day: day, micros: micros)
            }
            try await usage.add(UsageBatch(records: [], debits: [debit(1_250, on: day)]))
            try await usage.add(UsageBatch(records: [], debits: [debit(750, on: day)]))
            try await usage.add(UsageBatch(records: [], debits: [debit(1, on: day.addingTimeInterval(86_400))]))
            #expect(try await billing.balance(of: organization) == 5_000_000 - 2_001)
            let entries = try await billing.entries(of: organization, after: nil, limit: 10).items
            let debits = entries.filter { $0.kind == .usage }
            #expect(debits.map(\.amountMicros).sorted() == [-2_000, -1])
            #expect(debits.allSatisfy { $0.description.hasPrefix("API usage on ") })
        }
    }

    @Test(arguments: Backend.available)
    func leasesShareWhatIsLeftAndNameTheLimitThatRanOut(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let spend = SQLSpendRepository(database: database)
            // One dollar of credit is a billion nano-units.
            let organization = try await storedOrganization("a@example.com", credit: 1_000_000, on: database)
            #expect(try await spend.lease(lease(organization, holder: "a", want: 400_000_000)).granted == 400_000_000)
            #expect(try await spend.lease(lease(organization, holder: "b", want: 400_000_000)).granted == 400_000_000)
            #expect(try await spend.lease(lease(organization, holder: "c", want: 400_000_000)).granted == 200_000_000)
            #expect(
                try await spend.lease(lease(organization, holder: "d", want: 400_000_000))
                    == SpendLeaseGrant(granted: 0, exhausted: .balance))
            // Asking again gives back what the holder's lease held unspent; what it spent and has
            // not written stays held.
            var again = lease(organization, holder: "a", want: 400_000_000)
            again.unwritten = 100_000_000
            #expect(try await spend.lease(again).granted == 300_000_000)
            again.unwritten = 0
            #expect(try await spend.lease(again).granted == 400_000_000)
            // A lease past its end no longer holds anything.
            let later = epoch.addingTimeInterval(61)
            #expect(
                try await spend.lease(lease(organization, holder: "e", want: 400_000_000, at: later)).granted
                    == 400_000_000)
            // A monthly limit counts what was spent this month as well as what is held.
            let other = try await storedOrganization("b@example.com", credit: 0, on: database)
            try await SQLUsageRepository(database: database).add([priced(other, at: epoch, input: 300_000_000)])
            #expect(
                try await spend.lease(
                    lease(other, holder: "a", want: 400_000_000, limits: [.monthlyUsage: 500_000_000], balance: false)
                ).granted == 200_000_000)
            #expect(
                try await spend.lease(
                    lease(other, holder: "b", want: 1, limits: [.monthlyUsage: 500_000_000], balance: false))
                    == SpendLeaseGrant(granted: 0, exhausted: .monthlyUsage))
        }
    }

    @Test(arguments: Backend.available)
    func writtenCostsComeOffTheLeaseTheyWereSpentFrom(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let spend = SQLSpendRepository(database: database)
            let usage = SQLUsageRepository(database: database)
            let organization = try await storedOrganization("a@example.com", credit: 0, on: database)
            let limit: [SpendLimitKind: Int64] = [.organizationBudget: 1_000_000_000]
            #expect(
                try await spend.lease(
                    lease(organization, holder: "a", want: 600_000_000, limits: limit, balance: false)
                )
                .granted == 600_000_000)
            // Half the lease is spent and written: the spend and the rest of the lease still add up to it.
            try await usage.add(
                UsageBatch(records: [priced(organization, at: epoch, input: 300_000_000)], leaseHolder: "a"))
            #expect(
                try await spend.lease(
                    lease(organization, holder: "b", want: 600_000_000, limits: limit, balance: false)
                )
                .granted == 400_000_000)
            #expect(
                try await spend.spent(organization: organization, project: nil, month: SpendLeaseScope.month(of: epoch))
                    == 300_000_000)
            #expect(
                try await spend.spent(
                    organization: organization, project: ProjectID(unchecked: "proj_a"),
                    month: SpendLeaseScope.month(of: epoch)) == 300_000_000)
            #expect(
                try await spend.spent(
                    organization: organization, project: ProjectID(unchecked: "proj_b"),
                    month: SpendLeaseScope.month(of: epoch)) == 0)
        }
    }

    @Test(arguments: Backend.available)
    func budgetsAreSetReadAndRemovedAndAlertsAreNotedOnce(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let spend = SQLSpendRepository(database: database)
            let organization = try await storedOrganization("a@example.com", credit: 0, on: database)
            let project = ProjectID(unchecked: "proj_a")
            try await spend.setBudget(
                SpendBudget(monthlyMicros: 50_000_000), organization: organization, project: nil, at: epoch)
            try await spend.setBudget(
                SpendBudget(monthlyMicros: 5_000_000, hardLimit: false, alertPercents: [90]),
                organization: organization, project: project, at: epoch)
            var budgets = try await spend.budgets(of: organization)
            #expect(budgets.organization == SpendBudget(monthlyMicros: 50_000_000))
            #expect(
                budgets.projects[project]
                    == SpendBudget(monthlyMicros: 5_000_000, hardLimit: false, alertPercents: [90]))
            #expect(try await spend.budgetsWithAlerts(after: nil, limit: 10).count == 2)
            try await spend.setBudget(nil, organization: organization, project: project, at: epoch)
            budgets = try await spend.budgets(of: organization)
            #expect(budgets.projects.isEmpty && budgets.organization != nil)

            #expect(try await spend.recordAlert(scope: "org_x", month: 202612, percent: 50, at: epoch))
            #expect(try await spend.recordAlert(scope: "org_x", month: 202612, percent: 50, at: epoch) == false)
            #expect(try await spend.recordAlert(scope: "org_x", month: 202701, percent: 50, at: epoch))
        }
    }

    /// Two instances on one database spend as fast as they can against a hard budget, each
    /// from its own slices: together they never pass the budget by more than a slice each.
    @Test(arguments: Backend.available)
    func twoInstancesNeverPassAHardBudgetByMoreThanTheirSlices(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLSpendRepository(database: database)
            let usage = SQLUsageRepository(database: database)
            let organization = try await storedOrganization("a@example.com", credit: 1_000_000_000, on: database)
            let budget: Int64 = 2_000_000  // $2.00
            try await repository.setBudget(
                SpendBudget(monthlyMicros: budget), organization: organization, project: nil, at: epoch)
            let slice: Int64 = 100_000  // $0.10
            let tier = UsageTier(
                name: "free", qualifyingPaidMicros: 0, monthlyLimitMicros: nil,
                rateLimits: RateLimitTier(name: "free", organization: MinuteLimits(requests: 1, tokens: 1)))
            let callCost: Int64 = 7_000_000  // 0.7 cents, in nano-units
            let spent = try await withThrowingTaskGroup(of: Int64.self) { group in
                for instance in ["one", "two"] {
                    group.addTask {
                        let meter = UsageMeter(leaseHolder: instance)
                        let spendGuard = SpendGuard(
                            repository: repository, holder: instance, sliceMicros: slice, recheckAfter: 0,
                            tier: { _, _ in tier }, clock: Clock(now: { epoch.addingTimeInterval(60) }))
                        meter.whenWritten { spendGuard.written($0) }
                        var admitted: Int64 = 0
                        var refusals = 0
                        while refusals < 3 {
                            let now = epoch.addingTimeInterval(60)
                            if await spendGuard.admit(organization: organization, project: nil, now: now) != nil {
                                refusals += 1
                                try await meter.flush(to: usage)
                                continue
                            }
                            admitted += callCost
                            spendGuard.charge(organization: organization, project: nil, nanos: callCost, now: now)
                            meter.record(
                                MeteredCall(
                                    apiKeyID: "key_\(instance)", projectID: "", organizationID: organization.rawValue,
                                    model: "m", failed: false, promptTokens: 1, inputCostNanos: callCost),
                                at: now)
                            if admitted % (callCost * 5) == 0 { try await meter.flush(to: usage) }
                        }
                        try await meter.flush(to: usage)
                        return admitted
                    }
                }
                return try await group.reduce(0, +)
            }
            let stored = try await repository.spent(
                organization: organization, project: nil, month: SpendLeaseScope.month(of: epoch))
            #expect(stored == spent)
            // Each may stop while the other still holds what it did not spend.
            #expect(
                spent >= budget * 1000 - 2 * slice * 1000 - 2 * callCost,
                "the instances stopped well short of the budget")
            #expect(
                spent <= budget * 1000 + 2 * slice * 1000, "together they passed the budget by more than two slices")
        }
    }
}
