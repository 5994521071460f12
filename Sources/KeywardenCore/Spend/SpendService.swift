import Foundation
import Logging

/// An organization's tier, what it still needs for the next, and its month's spend against its
/// budgets, as the Limits page and `GET /v1/organization/spend_limits` show them.
public struct SpendSummary: Sendable {
    public var tier: UsageTier
    /// Whether the operator pinned the tier (it is not earned by payment).
    public var pinned: Bool
    /// The next tier payments can reach, and what it still takes.
    public var next: (tier: UsageTier, progress: TierProgress)?
    public var standing: BillingStanding
    public var balanceMicros: Int64
    /// What the organization spent this month, in micro-units (rounded down).
    public var spentMicros: Int64
    public var budget: SpendBudget?
    /// Every project with a budget, with what it spent this month.
    public var projects: [ProjectID: (budget: SpendBudget, spentMicros: Int64)]
    public var currency: BillingCurrency
    /// When the month's limits start again.
    public var resetsAt: Date
}

/// Monthly budgets of organizations and projects, their alerts, and the tier standing shown
/// beside them.
public struct SpendService: Sendable {
    let repository: any SpendRepository
    let billing: any BillingRepository
    let accounts: any AccountRepository
    let audit: any AuditLogRepository
    let email: EmailSender
    let limits: RateLimitPolicy
    /// The gateway's spend checks in this instance, told when a budget changes.
    let spend: SpendGuard?
    public let currency: BillingCurrency
    let publicURL: String
    let clock: Clock
    let logger: Logger

    public init(
        repository: any SpendRepository, billing: any BillingRepository, accounts: any AccountRepository,
        audit: any AuditLogRepository, email: EmailSender, limits: RateLimitPolicy, spend: SpendGuard?,
        currency: BillingCurrency, publicURL: String, clock: Clock, logger: Logger = Logger(label: "keywarden.spend")
    ) {
        self.repository = repository
        self.billing = billing
        self.accounts = accounts
        self.audit = audit
        self.email = email
        self.limits = limits
        self.spend = spend
        self.currency = currency
        self.publicURL = publicURL
        self.clock = clock
        self.logger = logger
    }

    /// The organization's tier, standing, balance and budgets with this month's spend. Every
    /// member may read it (as the Limits page shows it to every member).
    public func summary(of organization: OrganizationID) async throws -> SpendSummary {
        let now = clock.now()
        let monthStart = UTCMonth.start(of: now)
        let tier = await limits.usageTier(of: organization, now: now)
        let standing = BillingStanding(
            paidMicros: try await billing.totalPaid(by: organization),
            firstPaymentAt: try await billing.firstPayment(of: organization))
        let next = limits.usageTiers.next(after: tier).map { next in
            (
                next,
                limits.usageTiers.progress(
                    to: next, paidMicros: standing.paidMicros, firstPaymentAt: standing.firstPaymentAt, now: now)
            )
        }
        let budgets = try await repository.budgets(of: organization)
        var projects: [ProjectID: (budget: SpendBudget, spentMicros: Int64)] = [:]
        for (project, budget) in budgets.projects {
            let spent = try await repository.spent(
                organization: organization, project: project, month: SpendLeaseScope.month(of: monthStart))
            projects[project] = (budget, spent / 1000)
        }
        return SpendSummary(
            tier: tier, pinned: await limits.pinnedTier(of: organization, now: now) != nil, next: next,
            standing: standing, balanceMicros: try await billing.balance(of: organization),
            spentMicros: try await repository.spent(
                organization: organization, project: nil, month: SpendLeaseScope.month(of: monthStart))
                / 1000,
            budget: budgets.organization, projects: projects, currency: currency,
            resetsAt: UTCMonth.nextStart(after: now))
    }

    /// What the project spent this month, in micro-units (rounded down).
    public func spentThisMonth(by project: Project) async throws -> Int64 {
        try await repository.spent(
            organization: project.organizationID, project: project.id, month: SpendLeaseScope.month(of: clock.now()))
            / 1000
    }

    /// Sets or removes the organization's monthly budget. Owners only.
    ///
    /// - Throws: `DomainError` `forbidden` for anyone else.
    public func setBudget(_ budget: SpendBudget?, for membership: Membership, by actor: AuditActor) async throws {
        try membership.require(.manageBilling)
        let organization = membership.organization.id
        try await save(budget, organization: organization, project: nil, by: actor)
        spend?.forget(organization)
    }

    /// Sets or removes a project's monthly budget. Project owners only.
    public func setBudget(_ budget: SpendBudget?, of project: Project, by actor: AuditActor) async throws {
        try await save(budget, organization: project.organizationID, project: project.id, by: actor)
        spend?.forget(project: project.id, of: project.organizationID)
    }

    func save(
        _ budget: SpendBudget?, organization: OrganizationID, project: ProjectID?, by actor: AuditActor
    ) async throws {
        if let budget {
            guard (1...SpendBudget.maximumMicros).contains(budget.monthlyMicros) else {
                throw DomainError.invalidField(
                    "monthly_budget",
                    "The monthly budget must be more than zero and at most \(currency.format(micros: SpendBudget.maximumMicros))."
                )
            }
            guard budget.alertPercents.count <= 10, budget.alertPercents.allSatisfy({ (1...100).contains($0) }) else {
                throw DomainError.invalidField(
                    "alert_thresholds", "Alert thresholds are up to ten whole percentages from 1 to 100.")
            }
        }
        let now = clock.now()
        try await repository.setBudget(budget, organization: organization, project: project, at: now)
        var details = [
            "monthly_budget_micros": budget.map { String($0.monthlyMicros) } ?? "none",
            "hard_limit": budget.map { $0.hardLimit ? "true" : "false" } ?? "false",
            "alert_percents": budget?.alertText ?? "",
        ]
        if let project { details["project_id"] = project.rawValue }
        try await audit.append(
            AuditEvent(
                organizationID: organization, type: .spendLimitUpdated, effectiveAt: now, actor: actor,
                details: details))
    }

    /// Mails the owners of every organization whose month's spend passed one of its budget's
    /// alert thresholds, once per threshold and month however many instances run this.
    ///
    /// - Returns: how many alerts were sent.
    @discardableResult
    public func sendAlerts() async throws -> Int {
        let now = clock.now()
        let month = SpendLeaseScope.month(of: now)
        let monthStart = UTCMonth.start(of: now)
        var sent = 0
        var after: String?
        while true {
            let page = try await repository.budgetsWithAlerts(after: after, limit: 200)
            for entry in page {
                let spent =
                    try await repository.spent(
                        organization: entry.organization, project: entry.project,
                        month: SpendLeaseScope.month(of: monthStart)) / 1000
                // Only the highest threshold passed is mailed; lower ones are noted as sent with it.
                let passed = entry.budget.alertPercents.filter { percent in
                    spent >= Self.share(of: entry.budget.monthlyMicros, percent: percent)
                }
                var fresh: [Int] = []
                for percent in passed
                where try await repository.recordAlert(scope: entry.scope, month: month, percent: percent, at: now) {
                    fresh.append(percent)
                }
                guard let percent = fresh.max() else { continue }
                await alert(
                    entry.organization, project: entry.project, budget: entry.budget, percent: percent,
                    spentMicros: spent, now: now)
                sent += 1
            }
            guard page.count == 200, let last = page.last else { break }
            after = last.scope
        }
        return sent
    }

    /// `percent` of `micros`, without overflow.
    static func share(of micros: Int64, percent: Int) -> Int64 {
        micros / 100 * Int64(percent) + micros % 100 * Int64(percent) / 100
    }

    func alert(
        _ organization: OrganizationID, project: ProjectID?, budget: SpendBudget, percent: Int, spentMicros: Int64,
        now: Date
    ) async {
        let whose = project.map { "Project \($0.rawValue)" } ?? "Your organization"
        let stops =
            budget.hardLimit
            ? "Calls are refused once the budget is spent, until \(UTCMonth.dayText(UTCMonth.nextStart(after: now)))."
            : "The budget only alerts: calls go on."
        let text = """
            \(whose) has spent \(currency.format(micros: spentMicros)) this month, \(percent)% of its monthly \
            budget of \(currency.format(micros: budget.monthlyMicros)).

            \(stops)

            Limits: \(publicURL)/settings/organization/limits
            """
        var details = [
            "percent": String(percent), "spent_micros": String(spentMicros),
            "monthly_budget_micros": String(budget.monthlyMicros),
        ]
        if let project { details["project_id"] = project.rawValue }
        do {
            try await audit.append(
                AuditEvent(
                    organizationID: organization, type: .spendAlertSent, effectiveAt: now, actor: .system,
                    details: details))
        } catch {
            logger.warning("spend alert not audited", metadata: ["organization_id": .string(organization.rawValue)])
        }
        guard let members = try? await accounts.members(of: organization) else { return }
        for member in members where member.role == .owner {
            do {
                try await email.send(
                    EmailMessage(
                        to: member.user.email, subject: "\(percent)% of your monthly budget is spent", text: text))
            } catch {
                logger.warning(
                    "spend alert email not sent",
                    metadata: ["organization_id": .string(organization.rawValue), "error.type": "\(type(of: error))"])
            }
        }
    }
}
