import Foundation
import Logging
import Synchronization

/// Why a priced call was refused, with what the sentence needs.
public struct SpendRefusal: Equatable, Sendable {
    public var kind: SpendLimitKind
    /// The monthly limit or budget that is spent, in micro-units (none for the balance).
    public var limitMicros: Int64?
    /// The organization's usage tier, for the monthly usage limit.
    public var tierName: String?
    /// When the month's limits start again.
    public var resetsAt: Date

    public init(kind: SpendLimitKind, limitMicros: Int64? = nil, tierName: String? = nil, resetsAt: Date) {
        self.kind = kind
        self.limitMicros = limitMicros
        self.tierName = tierName
        self.resetsAt = resetsAt
    }

    /// The refusal a client sees: 429 with OpenAI's `insufficient_quota` for the balance and
    /// the monthly usage limit, and Keywarden's own codes for the budgets.
    public func error(currency: BillingCurrency) -> DomainError {
        let limit = limitMicros.map { currency.format(micros: $0) } ?? ""
        let resets = UTCMonth.dayText(resetsAt)
        switch kind {
        case .balance:
            return DomainError(.quotaExceeded, code: .insufficientQuota, message: Self.quotaSentence)
        case .monthlyUsage:
            return DomainError(
                .quotaExceeded, code: .insufficientQuota,
                message:
                    "You exceeded your current quota: your organization's usage tier (\(tierName ?? "")) allows \(limit) of usage a month and this month's is used up. It starts again on \(resets); paying more moves the organization to a higher tier."
            )
        case .organizationBudget:
            return DomainError(
                .quotaExceeded, code: .organizationSpendLimitExceeded,
                message:
                    "Your organization reached its monthly spend limit of \(limit). An owner can raise it on the Limits page; it starts again on \(resets)."
            )
        case .unavailable:
            return DomainError(
                .unavailable, code: .databaseUnavailable,
                message:
                    "What this organization may still spend cannot be checked right now, so calls that spend are paused. Try again in a minute.",
                retryAfterSeconds: 5)
        case .projectBudget:
            return DomainError(
                .quotaExceeded, code: .projectSpendLimitExceeded,
                message:
                    "This project reached its monthly spend limit of \(limit). A project owner can raise it on the Limits page; it starts again on \(resets)."
            )
        }
    }

    /// OpenAI's sentence for a spent balance.
    public static let quotaSentence = "You exceeded your current quota, please check your plan and billing details."
}

/// Checks priced calls against the organization's credit balance, its usage tier's monthly
/// limit, its budget and its project's budget from memory.
///
/// Each instance leases slices of what may still be spent (``SpendRepository/lease(_:)``) and
/// spends them locally; the next slice is asked for in the background once half of one is
/// used, so a call waits on the database only when a slice runs out faster than it is
/// renewed. Across instances a limit is overspent by at most what each instance's last slice
/// and calls under way held. A refused organization is asked about again every
/// `recheckAfter` seconds, so a purchase or a raised budget lets calls through within that.
public final class SpendGuard: Sendable {
    struct Account {
        /// Nano-units this instance may still spend.
        var remaining: Int64 = 0
        /// When the lease ends.
        var expires: Date = .distantPast
        /// The limit that had nothing left, and until when that answer stands.
        var refused: (kind: SpendLimitKind, until: Date)?
        /// A lease under way.
        var renewal: Task<Void, Never>?
        /// The limits changed through this instance: lease again before the next call.
        var stale = false
        /// Leases in a row the database did not answer, each made up for by a local slice.
        var failedLeases = 0
        /// Counts the changes of limits made through this instance, so a lease under way when
        /// one is made does not mark the scope fresh.
        var generation = 0
    }

    /// Local slices given in one outage of the database before priced calls are refused: an
    /// outage costs at most this many slices per scope and instance.
    public static let slicesWithoutDatabase = 10

    /// What a call is held to.
    struct Limits: Sendable {
        var tier: UsageTier
        var organizationBudget: SpendBudget?
        var projectBudget: SpendBudget?
    }

    let repository: any SpendRepository
    /// This instance's name on its leases.
    public let holder: String
    /// Nano-units leased at a time.
    let slice: Int64
    let leaseLifetime: TimeInterval
    let recheckAfter: TimeInterval
    let budgetCacheLifetime: TimeInterval
    let tier: @Sendable (OrganizationID, Date) async -> UsageTier
    /// When leases end, for leases that failed (the calls' own `now` may be long past by then).
    let clock: Clock
    let logger: Logger
    private let accounts = Mutex<[String: Account]>([:])
    /// Nano-units charged per scope and not yet written with the usage: held back from leases.
    private let unwritten = Mutex<[String: Int64]>([:])
    private let budgetCache = Mutex<
        [OrganizationID: (budgets: (organization: SpendBudget?, projects: [ProjectID: SpendBudget]), expires: Date)]
    >([:])
    private let lastWarning = Mutex<Date?>(nil)

    /// Creates the guard.
    ///
    /// - Parameters:
    ///   - sliceMicros: what one lease takes, in micro-units.
    ///   - tier: the organization's usage tier now (cached by its owner).
    public init(
        repository: any SpendRepository, holder: String, sliceMicros: Int64, leaseLifetime: TimeInterval = 60,
        recheckAfter: TimeInterval = 2, budgetCacheLifetime: TimeInterval = 10,
        tier: @escaping @Sendable (OrganizationID, Date) async -> UsageTier, clock: Clock = .live,
        logger: Logger = Logger(label: "keywarden.spend")
    ) {
        self.clock = clock
        self.repository = repository
        self.holder = holder
        self.slice = sliceMicros.multipliedReportingOverflow(by: 1000).overflow ? .max : sliceMicros * 1000
        self.leaseLifetime = leaseLifetime
        self.recheckAfter = recheckAfter
        self.budgetCacheLifetime = budgetCacheLifetime
        self.tier = tier
        self.logger = logger
    }

    /// Admits a priced call, or answers why not.
    public func admit(organization: OrganizationID, project: ProjectID?, now: Date) async -> SpendRefusal? {
        let month = SpendLeaseScope.month(of: now)
        // Most calls find half a slice or more in hand: they are let through without building
        // a lease request or looking the tier up.
        let budgets = await budgets(of: organization, now: now)
        let projectBudget = project.flatMap { budgets.projects[$0] }.flatMap { $0.hardLimit ? $0 : nil }
        if hasRoom(SpendLeaseScope.organization(organization.rawValue, month: month), now: now),
            projectBudget == nil || hasRoom(SpendLeaseScope.project(project?.rawValue ?? "", month: month), now: now)
        {
            return nil
        }
        let limits = Limits(
            tier: await tier(organization, now), organizationBudget: budgets.organization,
            projectBudget: projectBudget)
        let monthStart = UTCMonth.firstInstant(year: month / 100, month: month % 100)
        let resets = UTCMonth.nextStart(after: now)
        var organizationLimits: [SpendLimitKind: Int64] = [:]
        if let monthly = limits.tier.monthlyLimitMicros { organizationLimits[.monthlyUsage] = Self.nanos(monthly) }
        if let budget = limits.organizationBudget, budget.hardLimit {
            organizationLimits[.organizationBudget] = Self.nanos(budget.monthlyMicros)
        }
        let organizationLease = SpendLeaseRequest(
            scope: SpendLeaseScope.organization(organization.rawValue, month: month), holder: holder,
            organizationID: organization, monthStart: monthStart, want: slice, limits: organizationLimits,
            includeBalance: true, now: now, expiresAt: now.addingTimeInterval(leaseLifetime))
        if let kind = await check(organizationLease) {
            let limit: Int64? =
                switch kind {
                case .monthlyUsage: limits.tier.monthlyLimitMicros
                case .organizationBudget: limits.organizationBudget?.monthlyMicros
                default: nil
                }
            return SpendRefusal(kind: kind, limitMicros: limit, tierName: limits.tier.name, resetsAt: resets)
        }
        if let project, let budget = limits.projectBudget {
            let projectLease = SpendLeaseRequest(
                scope: SpendLeaseScope.project(project.rawValue, month: month), holder: holder,
                organizationID: organization, projectID: project, monthStart: monthStart, want: slice,
                limits: [.projectBudget: Self.nanos(budget.monthlyMicros)], includeBalance: false, now: now,
                expiresAt: now.addingTimeInterval(leaseLifetime))
            if let kind = await check(projectLease) {
                return SpendRefusal(kind: kind, limitMicros: budget.monthlyMicros, resetsAt: resets)
            }
        }
        return nil
    }

    /// Whether ``admit(organization:project:now:)`` would let the call through from memory alone:
    /// the budgets are cached and half a slice or more of a current lease is in hand for the
    /// organization (and for the project, when it has a hard budget). `false` means only that the
    /// waiting check must decide.
    public func admitsFromMemory(organization: OrganizationID, project: ProjectID?, now: Date) -> Bool {
        guard let cached = budgetCache.withLock({ $0[organization] }), cached.expires > now else { return false }
        let month = SpendLeaseScope.month(of: now)
        guard hasRoom(SpendLeaseScope.organization(organization.rawValue, month: month), now: now) else { return false }
        let projectBudget = project.flatMap { cached.budgets.projects[$0] }.flatMap { $0.hardLimit ? $0 : nil }
        return projectBudget == nil || hasRoom(SpendLeaseScope.project(project?.rawValue ?? "", month: month), now: now)
    }

    /// Takes a finished call's cost out of what this instance holds.
    public func charge(organization: OrganizationID, project: ProjectID?, nanos: Int64, now: Date) {
        guard nanos != 0 else { return }
        let month = SpendLeaseScope.month(of: now)
        let organizationScope = SpendLeaseScope.organization(organization.rawValue, month: month)
        let projectScope = project.map { SpendLeaseScope.project($0.rawValue, month: month) }
        accounts.withLock { accounts in
            accounts[organizationScope]?.remaining.subtractSaturated(nanos)
            if let projectScope { accounts[projectScope]?.remaining.subtractSaturated(nanos) }
        }
        unwritten.withLock { unwritten in
            unwritten[organizationScope, default: 0].addSaturated(nanos)
            if let projectScope { unwritten[projectScope, default: 0].addSaturated(nanos) }
        }
    }

    /// Whether this instance holds half a slice or more of a live, current lease on `scope`.
    func hasRoom(_ scope: String, now: Date) -> Bool {
        accounts.withLock { accounts in
            guard let account = accounts[scope] else { return false }
            return account.expires > now && !account.stale && account.remaining >= slice / 2
        }
    }

    /// Notes that `records` were written (their costs now count in the month's spend).
    public func written(_ records: [UsageRecord]) {
        let costs = SpendLeaseScope.costs(of: records)
        unwritten.withLock { unwritten in
            for (scope, nanos) in costs {
                let left = unwritten[scope, default: 0].subtractingSaturated(nanos)
                unwritten[scope] = left > 0 ? left : nil
            }
        }
    }

    /// Forgets what is known of the organization, so its next call leases afresh (after its
    /// budgets or balance changed through this instance).
    public func forget(_ organization: OrganizationID) {
        budgetCache.withLock { $0[organization] = nil }
        accounts.withLock { accounts in
            for scope in accounts.keys where scope.hasPrefix("org:\(organization.rawValue):") {
                accounts[scope]!.refused = nil
                accounts[scope]!.stale = true
                accounts[scope]!.generation += 1
            }
        }
    }

    /// Forgets the refusal of a project, so its next call leases afresh.
    public func forget(project: ProjectID, of organization: OrganizationID) {
        budgetCache.withLock { $0[organization] = nil }
        accounts.withLock { accounts in
            for scope in accounts.keys where scope.hasPrefix("proj:\(project.rawValue):") {
                accounts[scope]!.refused = nil
                accounts[scope]!.stale = true
                accounts[scope]!.generation += 1
            }
        }
    }

    /// Drops ended leases from memory.
    public func sweep(now: Date) {
        accounts.withLock { accounts in
            // A scope whose database is not answering keeps its count of local slices.
            accounts = accounts.filter {
                $0.value.expires > now || $0.value.renewal != nil || $0.value.failedLeases > 0
            }
        }
        budgetCache.withLock { cache in cache = cache.filter { $0.value.expires > now } }
    }

    /// `nil` when the call may go ahead under the lease's scope, else the spent limit.
    func check(_ request: SpendLeaseRequest) async -> SpendLimitKind? {
        let now = request.now
        enum Next {
            case admit
            case refuse(SpendLimitKind)
            case wait(Task<Void, Never>)
        }
        let next: Next = accounts.withLock { accounts in
            var account = accounts[request.scope] ?? Account()
            let live = account.expires > now
            if !live { account.remaining = 0 }
            if live, !account.stale, account.remaining > 0 {
                if account.remaining < slice / 2, account.renewal == nil {
                    account.renewal = renew(request, unspent: account.remaining, generation: account.generation)
                    accounts[request.scope] = account
                }
                return .admit
            }
            if live, !account.stale, let refused = account.refused, refused.until > now { return .refuse(refused.kind) }
            if let renewal = account.renewal { return .wait(renewal) }
            let renewal = renew(request, unspent: account.remaining, generation: account.generation)
            account.renewal = renewal
            accounts[request.scope] = account
            return .wait(renewal)
        }
        switch next {
        case .admit: return nil
        case .refuse(let kind): return kind
        case .wait(let renewal):
            await renewal.value
            // Refused only when the lease found nothing left: a grant spent at once by calls
            // under way still lets this one through.
            return accounts.withLock { $0[request.scope]?.refused?.kind }
        }
    }

    /// Leases a fresh slice in a task of its own, so calls that do not need it go on: what this
    /// instance had unspent when it asked is given back and the grant takes its place.
    ///
    /// Called with `accounts` locked: `unspent` and `generation` are the scope's as the caller saw them.
    func renew(_ request: SpendLeaseRequest, unspent: Int64, generation: Int) -> Task<Void, Never> {
        let repository = repository
        var request = request
        request.unwritten = unwritten.withLock { $0[request.scope] ?? 0 }
        return Task { [request] in
            var grant: SpendLeaseGrant
            var expires = request.expiresAt
            var failed = false
            do {
                grant = try await repository.lease(request)
            } catch {
                // Without the database calls go ahead on a short local slice rather than every
                // priced call being refused, up to a few slices an outage; the next lease is
                // asked for soon after.
                self.warn(error, now: request.now)
                grant = SpendLeaseGrant(granted: self.slice)
                failed = true
            }
            // A lease that failed slowly must not leave a slice or a refusal that has already ended.
            let finished = max(request.now, self.clock.now())
            if failed { expires = finished.addingTimeInterval(self.recheckAfter) }
            self.accounts.withLock { accounts in
                var account = accounts[request.scope] ?? Account()
                account.failedLeases = failed ? account.failedLeases + 1 : 0
                if account.failedLeases > Self.slicesWithoutDatabase {
                    grant = SpendLeaseGrant(granted: 0, exhausted: .unavailable)
                }
                // What was spent while the lease was asked for comes off the new grant. (What was
                // spent before, beyond the old lease too, was sent as unwritten and is held.)
                let spentMeanwhile = max(0, unspent.subtractingSaturated(account.remaining))
                account.remaining = grant.granted.subtractingSaturated(spentMeanwhile)
                account.expires = expires
                // A limit changed while the lease was under way: the next call leases again.
                let changed = account.generation != generation
                if let kind = grant.exhausted, account.remaining <= 0, !changed {
                    account.refused = (kind, finished.addingTimeInterval(self.recheckAfter))
                } else {
                    account.refused = nil
                }
                account.stale = changed
                account.renewal = nil
                accounts[request.scope] = account
            }
        }
    }

    /// The organization's budgets, read at most once per `budgetCacheLifetime`; the last known
    /// ones (or none) while storage does not answer.
    func budgets(
        of organization: OrganizationID, now: Date
    ) async -> (organization: SpendBudget?, projects: [ProjectID: SpendBudget]) {
        let cached = budgetCache.withLock { $0[organization] }
        if let cached, cached.expires > now { return cached.budgets }
        do {
            let budgets = try await repository.budgets(of: organization)
            budgetCache.withLock { $0[organization] = (budgets, now.addingTimeInterval(budgetCacheLifetime)) }
            return budgets
        } catch {
            warn(error, now: now)
            return cached?.budgets ?? (nil, [:])
        }
    }

    func warn(_ error: any Error, now: Date) {
        let due = lastWarning.withLock { last in
            guard last.map({ now.timeIntervalSince($0) >= 10 }) ?? true else { return false }
            last = now
            return true
        }
        if due {
            logger.warning(
                "spend limits unreadable; admitting priced calls on local slices",
                metadata: ["error.type": "\(type(of: error))"])
        }
    }

    static func nanos(_ micros: Int64) -> Int64 {
        let (product, overflow) = micros.multipliedReportingOverflow(by: 1000)
        return overflow ? .max : product
    }
}
