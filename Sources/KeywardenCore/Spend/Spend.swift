import Foundation

/// A monthly budget of an organization or a project.
public struct SpendBudget: Equatable, Sendable {
    /// What may be spent per UTC calendar month, in micro-units.
    public var monthlyMicros: Int64
    /// Whether calls are refused once the month's spend reaches the budget; otherwise the budget
    /// only alerts.
    public var hardLimit: Bool
    /// Percentages of the budget at which the owners are mailed, once each per month.
    public var alertPercents: [Int]

    /// The thresholds mailed unless the owners choose others.
    public static let defaultAlertPercents = [50, 80, 100]
    /// The largest budget: ten million units of the currency.
    public static let maximumMicros: Int64 = 10_000_000 * 1_000_000

    public init(monthlyMicros: Int64, hardLimit: Bool = true, alertPercents: [Int] = SpendBudget.defaultAlertPercents) {
        self.monthlyMicros = monthlyMicros
        self.hardLimit = hardLimit
        self.alertPercents = Array(Set(alertPercents)).sorted()
    }

    /// The thresholds as stored: `50,80,100`.
    public var alertText: String { alertPercents.map(String.init).joined(separator: ",") }

    /// Thresholds read back from ``alertText``; anything unreadable is dropped.
    public static func alertPercents(from text: String) -> [Int] {
        text.split(separator: ",").compactMap { Int($0) }.filter { (1...1000).contains($0) }
    }
}

/// What a call's spend was refused by.
public enum SpendLimitKind: String, Sendable, Equatable {
    /// The credit balance is spent.
    case balance
    /// The usage tier's monthly usage limit is spent.
    case monthlyUsage = "monthly_usage"
    /// The organization's monthly budget (a hard limit) is spent.
    case organizationBudget = "organization_budget"
    /// The project's monthly budget (a hard limit) is spent.
    case projectBudget = "project_budget"
    /// The database has not answered for longer than local slices cover.
    case unavailable
}

/// One ask for a slice of what an organization or project may still spend.
public struct SpendLeaseRequest: Equatable, Sendable {
    /// The lease's scope, from ``SpendLeaseScope``.
    public var scope: String
    /// The instance asking.
    public var holder: String
    public var organizationID: OrganizationID
    /// Set for a project's lease: the month's spend is the project's.
    public var projectID: ProjectID?
    /// The first instant of the month the lease is for.
    public var monthStart: Date
    /// Nano-units wanted.
    public var want: Int64
    /// What the holder spent under this scope and has not written yet: it stays held, and
    /// what the holder had left of its lease is given back, the grant taking its place.
    public var unwritten: Int64
    /// Monthly limits in nano-units the month's spend is held to, by what they are.
    public var limits: [SpendLimitKind: Int64]
    /// Whether the organization's credit balance also bounds the lease.
    public var includeBalance: Bool
    public var now: Date
    /// Until when the slice is held; after that other instances may count it as free.
    public var expiresAt: Date

    public init(
        scope: String, holder: String, organizationID: OrganizationID, projectID: ProjectID? = nil, monthStart: Date,
        want: Int64, unwritten: Int64 = 0, limits: [SpendLimitKind: Int64], includeBalance: Bool, now: Date,
        expiresAt: Date
    ) {
        self.unwritten = unwritten
        self.scope = scope
        self.holder = holder
        self.organizationID = organizationID
        self.projectID = projectID
        self.monthStart = monthStart
        self.want = want
        self.limits = limits
        self.includeBalance = includeBalance
        self.now = now
        self.expiresAt = expiresAt
    }
}

/// What a lease gave.
public struct SpendLeaseGrant: Equatable, Sendable {
    /// Nano-units granted (0 when nothing is left).
    public var granted: Int64
    /// When nothing was granted: the limit that has nothing left.
    public var exhausted: SpendLimitKind?

    public init(granted: Int64, exhausted: SpendLimitKind? = nil) {
        self.granted = granted
        self.exhausted = exhausted
    }

    /// The grant a lease answers for what is left under each limit: as much of `want` as the
    /// tightest limit leaves, or nothing and the limit that has nothing left.
    public static func deciding(want: Int64, headroom: [SpendLimitKind: Int64]) -> SpendLeaseGrant {
        // Checked in a fixed order, so the reason given does not depend on dictionary order.
        let order: [SpendLimitKind] = [.balance, .monthlyUsage, .organizationBudget, .projectBudget]
        var least = want
        for kind in order {
            guard let left = headroom[kind] else { continue }
            if left <= 0 { return SpendLeaseGrant(granted: 0, exhausted: kind) }
            least = min(least, left)
        }
        return SpendLeaseGrant(granted: max(0, least))
    }
}

/// Names of spend leases: one per organization or project and month.
public enum SpendLeaseScope {
    /// The lease on an organization's balance, monthly usage limit and budget.
    public static func organization(_ id: String, month: Int) -> String { "org:\(id):\(month)" }

    /// The lease on a project's budget.
    public static func project(_ id: String, month: Int) -> String { "proj:\(id):\(month)" }

    /// The month `date` falls in, as `yyyymm` (UTC).
    public static func month(of date: Date) -> Int {
        let (year, month) = UTCMonth.yearAndMonth(of: date)
        return year * 100 + month
    }

    /// What `records` cost per lease scope, for settling the leases they were spent from.
    public static func costs(of records: [UsageRecord]) -> [(scope: String, nanos: Int64)] {
        var costs: [String: Int64] = [:]
        for record in records where record.costNanos != 0 {
            let month = month(of: record.minute)
            let organization = organization(record.organizationID, month: month)
            costs[organization, default: 0] = costs[organization, default: 0].addingSaturated(record.costNanos)
            if !record.projectID.isEmpty {
                let project = project(record.projectID, month: month)
                costs[project, default: 0] = costs[project, default: 0].addingSaturated(record.costNanos)
            }
        }
        return costs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

/// Budgets, the month's spend, leases of what may still be spent, and the alerts sent.
public protocol SpendRepository: Sendable {
    /// The organization's own budget and those of its projects.
    func budgets(
        of organization: OrganizationID
    ) async throws -> (
        organization: SpendBudget?, projects: [ProjectID: SpendBudget]
    )
    /// Sets (or with `nil` removes) the budget of the organization, or of its project.
    func setBudget(
        _ budget: SpendBudget?, organization: OrganizationID, project: ProjectID?, at now: Date
    ) async throws
    /// Every budget that alerts, after `after` (a scope), at most `limit`, in scope order.
    func budgetsWithAlerts(
        after: String?, limit: Int
    ) async throws -> [(
        scope: String, organization: OrganizationID, project: ProjectID?, budget: SpendBudget
    )]
    /// Nano-units the organization (or its project) spent in `month` (`yyyymm`, UTC), as written.
    func spent(organization: OrganizationID, project: ProjectID?, month: Int) async throws -> Int64
    /// Atomically, against every instance: works out what is left under each limit (the limit,
    /// less the month's spend as written, less what other unexpired leases hold and what the
    /// holder spent and has not written), and leases up to `want` of it to the holder in place
    /// of what its lease held.
    func lease(_ request: SpendLeaseRequest) async throws -> SpendLeaseGrant
    /// Notes that the threshold was mailed for the month; `false` when it already was.
    func recordAlert(scope: String, month: Int, percent: Int, at now: Date) async throws -> Bool
}
