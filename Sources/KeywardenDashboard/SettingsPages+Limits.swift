import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

extension SettingsPages {
    /// Requests and tokens per minute of one scope, as shown.
    struct ScopeLimits: Sendable {
        let requests: String
        let tokens: String

        init(_ limits: MinuteLimits) {
            requests = SettingsPages.grouped(limits.requests)
            tokens = SettingsPages.grouped(limits.tokens)
        }
    }

    /// One active project on the Limits page: what applies, where it comes from, and the form.
    struct ProjectLimitsRow: Sendable {
        let id: String
        let name: String
        let requests: String
        let tokens: String
        /// The project's own requests per minute apply, not the tier's.
        let requestsOwn: Bool
        /// The project's own tokens per minute apply, not the tier's.
        let tokensOwn: Bool
        /// The viewer is an owner.
        let canChange: Bool
        /// What the fields hold: the project's own limits (empty for the tier's), or what was typed.
        let requestsValue: String
        let tokensValue: String
        let requestsError: String?
        let tokensError: String?
        /// A refusal of the change just posted that is about neither field.
        let rowError: String?
        /// The project's monthly budget as shown, when it has one.
        let budgetShown: String?
        /// What the project spent this month.
        let budgetSpent: String
        /// Whether spending the budget stops the project's API calls.
        let budgetStops: Bool
        /// What the budget fields hold: the budget (empty for none), or what was typed.
        let budgetValue: String
        let budgetHardLimit: Bool
        let budgetError: String?
    }

    /// The Limits page.
    struct LimitsView: Sendable {
        let layout: Layout
        /// The usage tier's name as shown (`Free`, `Tier 1`).
        let tier: String
        let usageTier: UsageTierView
        let organizationBudget: OrganizationBudgetView
        let organization: ScopeLimits
        /// What each project gets from the tier unless it has its own.
        let projectDefault: ScopeLimits
        let perKey: ScopeLimits
        let projects: [ProjectLimitsRow]
        let isOwner: Bool
        /// A refusal about a project this page does not list.
        let pageError: String?
    }

    /// A per-minute limit as the form sent it.
    enum TypedLimit: Equatable {
        /// The field was not sent: unchanged.
        case absent
        /// Left empty: back to the tier's.
        case tier
        /// A whole number in range.
        case own(Int)
        /// Anything else.
        case invalid

        /// Reads a field: trimmed; empty for the tier's; otherwise digits only, 1 to 10^12.
        init(_ raw: String?) {
            guard let raw else {
                self = .absent
                return
            }
            let text = raw.trimmingCharacters(in: .whitespaces)
            if text.isEmpty {
                self = .tier
            } else if text.count <= 13, text.allSatisfy({ $0 >= "0" && $0 <= "9" }), let value = Int(text),
                (1...1_000_000_000_000).contains(value)
            {
                self = .own(value)
            } else {
                self = .invalid
            }
        }

        /// The change for ``RateLimitPolicy/updateProjectLimits(of:requests:tokens:by:)``.
        var change: Int?? {
            switch self {
            case .absent, .invalid: return .none
            case .tier: return .some(nil)
            case .own(let value): return .some(value)
            }
        }
    }

    /// A change the Limits page refused, with what was typed.
    struct LimitsRefusal: Sendable {
        let project: String
        let requests: String
        let tokens: String
        /// Sentences by field (`requests`, `tokens`).
        let fields: [String: String]
        /// A sentence about neither field.
        let form: String?
    }

    @Sendable func limitsPage(_ request: Request, context: PageContext) async throws -> Response {
        try await renderLimits(request, context: context)
    }

    @Sendable func updateLimits(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let id = try context.parameters.require("project_id")
        let requests = TypedLimit(fields["requests"])
        let tokens = TypedLimit(fields["tokens"])
        func refused(_ fieldErrors: [String: String], form: String?) -> LimitsRefusal {
            LimitsRefusal(
                project: id, requests: fields["requests"] ?? "", tokens: fields["tokens"] ?? "", fields: fieldErrors,
                form: form)
        }
        do {
            // As `POST /v1/organization/projects/{id}/rate_limits`: project owners only.
            try context.membership.require(.manage, in: id)
            let project = try await services.projects.project(id, in: context.membership)
            var errors: [String: String] = [:]
            if requests == .invalid { errors["requests"] = PageSentences.perMinuteLimit }
            if tokens == .invalid { errors["tokens"] = PageSentences.perMinuteLimit }
            guard errors.isEmpty else {
                return try await renderLimits(
                    request, context: context, refused: refused(errors, form: nil), status: .badRequest)
            }
            try await services.rateLimits.updateProjectLimits(
                of: project, requests: requests.change, tokens: tokens.change, by: context.actor)
            throw PageRedirect.to("/settings/organization/limits", flash: "Limits saved.")
        } catch let refusal as DomainError where refusal.kind != .notFound {
            return try await renderLimits(
                request, context: context, refused: refused([:], form: PageSentences.sentence(for: refusal)),
                status: Self.status(for: refusal))
        }
    }

    /// The Limits page, with a refused change shown at its project (or at the organization's
    /// budget).
    func renderLimits(
        _ request: Request, context: PageContext, refused: LimitsRefusal? = nil,
        budgetRefused: BudgetRefusal? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let frame = try await dashboard.frame("Limits", request: request, context: context)
        let now = services.clock.now()
        let membership = context.membership
        let summary = try await services.spend.summary(of: membership.organization.id)
        let currency = summary.currency
        let tier = summary.tier.rateLimits
        let isOwner = membership.role == .owner
        let spent = try await projectSpend(of: membership.organization.id, now: now, until: summary.resetsAt)
        var rows: [ProjectLimitsRow] = []
        for project in try await allProjects(in: membership, includeArchived: false) {
            let own = await services.rateLimits.projectLimits(of: project.id, now: now)
            let applied = own.applied(to: tier)
            let here = refused?.project == project.id.rawValue ? refused : nil
            let budgetHere = budgetRefused?.project == project.id.rawValue ? budgetRefused : nil
            let budget = summary.projects[project.id]?.budget
            let budgetValue = budget.map { Self.fieldText($0.monthlyMicros, currency: currency) } ?? ""
            let budgetHardLimit: Bool = budgetHere?.typed?.hardLimit ?? budget?.hardLimit ?? true
            let budgetError: String? = budgetHere?.errors.fields["monthly_budget"]
            rows.append(
                ProjectLimitsRow(
                    id: project.id.rawValue, name: project.name, requests: Self.grouped(applied.requests),
                    tokens: Self.grouped(applied.tokens), requestsOwn: own.maxRequestsPerMinute != nil,
                    tokensOwn: own.maxTokensPerMinute != nil, canChange: membership.allows(.manage, in: project.id),
                    requestsValue: here?.requests ?? own.maxRequestsPerMinute.map(String.init) ?? "",
                    tokensValue: here?.tokens ?? own.maxTokensPerMinute.map(String.init) ?? "",
                    requestsError: here?.fields["requests"], tokensError: here?.fields["tokens"],
                    rowError: here?.form ?? budgetHere?.errors.form,
                    budgetShown: budget.map { currency.format(micros: $0.monthlyMicros) },
                    budgetSpent: currency.format(micros: spent[project.id.rawValue] ?? 0),
                    budgetStops: budget?.hardLimit ?? false,
                    budgetValue: budgetHere?.typed?.amount ?? budgetValue, budgetHardLimit: budgetHardLimit,
                    budgetError: budgetError))
        }
        let listed = rows.contains { $0.id == refused?.project }
        var pageError: String? =
            listed ? nil : refused.map { $0.form ?? $0.fields.values.sorted().joined(separator: " ") }
        // A budget refusal at a project this page does not list is said at the top of the page.
        if let budgetRefused, let project = budgetRefused.project, !rows.contains(where: { $0.id == project }) {
            let errors = budgetRefused.errors
            pageError = pageError ?? errors.form ?? errors.fields.values.sorted().joined(separator: " ")
        }
        let view = LimitsView(
            layout: frame.layout, tier: Self.tierTitle(summary.tier.name), usageTier: Self.tierView(summary),
            organizationBudget: Self.organizationBudgetView(
                summary, canChange: membership.allows(.manageBilling),
                refused: budgetRefused?.project == nil ? budgetRefused : nil),
            organization: ScopeLimits(tier.organization), projectDefault: ScopeLimits(tier.project),
            perKey: ScopeLimits(tier.key), projects: rows, isOwner: isOwner, pageError: pageError)
        return dashboard.page("settings-limits", view, frame: frame, status: status)
    }

    /// `1234567` as `1,234,567`.
    static func grouped(_ value: Int) -> String {
        let digits = Array(String(value))
        var text = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, digit != "-", digits[index - 1] != "-", (digits.count - index) % 3 == 0 { text.append(",") }
            text.append(digit)
        }
        return text
    }
}
