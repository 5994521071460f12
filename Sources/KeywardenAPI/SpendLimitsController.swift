import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// An organization's usage tier and monthly budgets: `GET`/`POST /v1/organization/spend_limits`
/// and `GET`/`POST /v1/organization/projects/{project_id}/spend_limits`.
public struct SpendLimitsController: Sendable {
    let spend: SpendService
    let projects: ProjectService

    /// Creates the controller.
    public init(spend: SpendService, projects: ProjectService) {
        self.spend = spend
        self.projects = projects
    }

    /// Registers the routes.
    public func addRoutes(to router: CatalogingRouter<KeywardenRequestContext>) {
        let organization = router.group("/v1/organization", context: OrganizationContext.self)
        organization.get("spend_limits", use: show)
        organization.post("spend_limits", use: modify)
        organization.get("projects/{project_id}/spend_limits", use: showProject)
        organization.post("projects/{project_id}/spend_limits", use: modifyProject)
    }

    /// `{"monthly_budget": cents or null, "hard_limit": true, "alert_thresholds": [50, 80, 100]}`.
    struct BudgetBody: JSONRequestBody {
        static let fields: Set<String> = ["monthly_budget", "hard_limit", "alert_thresholds"]
        static let nullableFields: Set<String> = ["monthly_budget"]
        /// Minor units; `nil` (given as null) removes the budget.
        let monthlyBudget: Int64?
        let hardLimit: Bool?
        let alertThresholds: [Int]?

        enum CodingKeys: String, CodingKey {
            case monthlyBudget = "monthly_budget"
            case hardLimit = "hard_limit"
            case alertThresholds = "alert_thresholds"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            guard container.contains(.monthlyBudget) else {
                throw DomainError(
                    .invalidRequest, code: .missingRequiredParameter,
                    message: "'monthly_budget' is required: an amount in minor units (cents), or null for no budget.",
                    param: "monthly_budget")
            }
            monthlyBudget =
                try container.decodeNil(forKey: .monthlyBudget)
                ? nil : try container.decode(Int64.self, forKey: .monthlyBudget)
            hardLimit = try container.decodeIfPresent(Bool.self, forKey: .hardLimit)
            alertThresholds = try container.decodeIfPresent([Int].self, forKey: .alertThresholds)
        }
    }

    /// The largest budget in minor units: ten million of the currency's units in cents.
    func budget(from body: BudgetBody) throws -> SpendBudget? {
        guard let minor = body.monthlyBudget else { return nil }
        let currency = spend.currency
        let largest = currency.minorUnits(micros: SpendBudget.maximumMicros)
        guard (1...largest).contains(minor), let micros = currency.micros(minorUnits: minor) else {
            throw DomainError.invalidField(
                "monthly_budget",
                "'monthly_budget' must be a whole number of \(currency.minorUnitName) from 1 to \(largest), or null.")
        }
        let thresholds = body.alertThresholds ?? SpendBudget.defaultAlertPercents
        guard thresholds.count <= 10, thresholds.allSatisfy({ (1...100).contains($0) }) else {
            throw DomainError.invalidField(
                "alert_thresholds", "'alert_thresholds' must be up to ten whole percentages from 1 to 100.")
        }
        return SpendBudget(monthlyMicros: micros, hardLimit: body.hardLimit ?? true, alertPercents: thresholds)
    }

    @Sendable func show(_ request: Request, context: OrganizationContext) async throws -> SpendLimitsObject {
        try await object(for: context.membership)
    }

    /// The summary, with only the projects the member may read.
    func object(for membership: Membership) async throws -> SpendLimitsObject {
        var summary = try await spend.summary(of: membership.organization.id)
        if let readable = try membership.readableProjects(among: []) {
            summary.projects = summary.projects.filter { readable.contains($0.key.rawValue) }
        }
        return SpendLimitsObject(summary)
    }

    @Sendable func modify(_ request: Request, context: OrganizationContext) async throws -> SpendLimitsObject {
        try context.membership.require(.manageBilling)
        let body = try await request.decodeBody(BudgetBody.self, context: context)
        try await spend.setBudget(try budget(from: body), for: context.membership, by: context.actor)
        return try await object(for: context.membership)
    }

    @Sendable func showProject(_ request: Request, context: OrganizationContext) async throws -> ProjectSpendObject {
        let project = try await projects.project(try context.parameters.require("project_id"), in: context.membership)
        return try await object(for: project)
    }

    @Sendable func modifyProject(_ request: Request, context: OrganizationContext) async throws -> ProjectSpendObject {
        let projectID = try context.parameters.require("project_id")
        try context.membership.require(.manage, in: projectID)
        let body = try await request.decodeBody(BudgetBody.self, context: context)
        let project = try await projects.project(projectID, in: context.membership)
        try await spend.setBudget(try budget(from: body), of: project, by: context.actor)
        return try await object(for: project)
    }

    func object(for project: Project) async throws -> ProjectSpendObject {
        let summary = try await spend.summary(of: project.organizationID)
        return ProjectSpendObject(
            project.id, budget: summary.projects[project.id]?.budget,
            spentMicros: try await spend.spentThisMonth(by: project), currency: summary.currency)
    }
}

/// `organization.spend_limits`: the tier, what the next one takes, and the month's spend
/// against the organization's and its projects' budgets.
struct SpendLimitsObject: ResponseEncodable, Sendable {
    let summary: SpendSummary

    init(_ summary: SpendSummary) {
        self.summary = summary
    }

    enum CodingKeys: String, CodingKey {
        case object, tier, name, pinned, projects, paid
        case monthlyUsageLimit = "monthly_usage_limit"
        case nextTier = "next_tier"
        case paidNeeded = "paid_needed"
        case qualifiesAt = "days_met_at"
        case needsFirstPayment = "needs_first_payment"
        case qualifyingDays = "qualifying_days"
        case firstPaymentAt = "first_payment_at"
        case spentThisMonth = "spent_this_month"
        case monthlyBudget = "monthly_budget"
        case hardLimit = "hard_limit"
        case alertThresholds = "alert_thresholds"
        case resetsAt = "resets_at"
        case rateLimits = "rate_limits"
        case requests = "max_requests_per_1_minute"
        case tokens = "max_tokens_per_1_minute"
    }

    func encode(to encoder: any Encoder) throws {
        let currency = summary.currency
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("organization.spend_limits", forKey: .object)
        var tier = container.nestedContainer(keyedBy: CodingKeys.self, forKey: .tier)
        try tier.encode(summary.tier.name, forKey: .name)
        try tier.encode(summary.pinned, forKey: .pinned)
        try tier.encode(
            summary.tier.monthlyLimitMicros.map { MoneyObject($0, in: currency) }, forKey: .monthlyUsageLimit)
        var rates = tier.nestedContainer(keyedBy: CodingKeys.self, forKey: .rateLimits)
        try rates.encode(summary.tier.rateLimits.organization.requests, forKey: .requests)
        try rates.encode(summary.tier.rateLimits.organization.tokens, forKey: .tokens)
        if let next = summary.next {
            var nested = container.nestedContainer(keyedBy: CodingKeys.self, forKey: .nextTier)
            try nested.encode(next.tier.name, forKey: .name)
            try nested.encode(next.tier.qualifyingPaidMicros.map { MoneyObject($0, in: currency) }, forKey: .paid)
            try nested.encode(next.tier.qualifyingDays, forKey: .qualifyingDays)
            try nested.encode(MoneyObject(next.progress.paidMissingMicros, in: currency), forKey: .paidNeeded)
            try nested.encode(next.progress.daysMetAt.map(\.unixSeconds), forKey: .qualifiesAt)
            try nested.encode(next.progress.needsFirstPayment, forKey: .needsFirstPayment)
        } else {
            try container.encodeNil(forKey: .nextTier)
        }
        try container.encode(MoneyObject(summary.standing.paidMicros, in: currency), forKey: .paid)
        try container.encode(summary.standing.firstPaymentAt.map(\.unixSeconds), forKey: .firstPaymentAt)
        try container.encode(MoneyObject(summary.spentMicros, in: currency), forKey: .spentThisMonth)
        try container.encode(summary.budget.map { MoneyObject($0.monthlyMicros, in: currency) }, forKey: .monthlyBudget)
        try container.encode(summary.budget?.hardLimit ?? false, forKey: .hardLimit)
        try container.encode(summary.budget?.alertPercents ?? [], forKey: .alertThresholds)
        try container.encode(summary.resetsAt.unixSeconds, forKey: .resetsAt)
        let projects = summary.projects.sorted { $0.key.rawValue < $1.key.rawValue }.map { id, entry in
            ProjectSpendObject(id, budget: entry.budget, spentMicros: entry.spentMicros, currency: currency)
        }
        try container.encode(projects, forKey: .projects)
    }
}

/// `project.spend_limits`: a project's budget and the month's spend against it.
struct ProjectSpendObject: ResponseEncodable, Sendable {
    let projectID: ProjectID
    let budget: SpendBudget?
    let spentMicros: Int64?
    let currency: BillingCurrency

    init(_ projectID: ProjectID, budget: SpendBudget?, spentMicros: Int64?, currency: BillingCurrency) {
        self.projectID = projectID
        self.budget = budget
        self.spentMicros = spentMicros
        self.currency = currency
    }

    enum CodingKeys: String, CodingKey {
        case object
        case projectID = "project_id"
        case monthlyBudget = "monthly_budget"
        case hardLimit = "hard_limit"
        case alertThresholds = "alert_thresholds"
        case spentThisMonth = "spent_this_month"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("project.spend_limits", forKey: .object)
        try container.encode(projectID.rawValue, forKey: .projectID)
        try container.encode(budget.map { MoneyObject($0.monthlyMicros, in: currency) }, forKey: .monthlyBudget)
        try container.encode(budget?.hardLimit ?? false, forKey: .hardLimit)
        try container.encode(budget?.alertPercents ?? [], forKey: .alertThresholds)
        try container.encode(spentMicros.map { MoneyObject($0, in: currency) }, forKey: .spentThisMonth)
    }
}
