import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// The Limits page's usage tier and monthly budgets: what the tier allows and what the next one
/// takes, and the forms that set the organization's and each project's budget (as
/// `POST /v1/organization/spend_limits` and `.../projects/{id}/spend_limits` do).
extension SettingsPages {
    func addBudgetRoutes(to signedIn: RouterGroup<PageContext>) {
        signedIn.post("/settings/organization/budget", use: saveOrganizationBudget)
        signedIn.post("/settings/organization/budget/remove", use: removeOrganizationBudget)
        signedIn.post("/settings/organization/limits/{project_id}/budget", use: saveProjectBudget)
    }

    /// The organization's usage tier as the page shows it.
    struct UsageTierView: Sendable {
        /// `Free`, `Tier 1`, or the configured name.
        let tierName: String
        /// The operator set the tier; payments do not change it.
        let pinned: Bool
        /// What the tier allows a month, when it limits the month.
        let monthlyLimit: String?
        let spentThisMonth: String
        /// When the month's limits start again.
        let resets: String
        /// What the next tier takes; `nil` at the top and when pinned.
        let next: NextTierView?
        /// Not pinned, and no tier above.
        let highest: Bool
    }

    /// What the next tier takes, in the parts its sentence is built from.
    struct NextTierView: Sendable {
        let nextName: String
        /// What the tier needs paid in all, when it needs a payment.
        let paidNeeded: String?
        /// What the organization has paid.
        let paid: String
        /// What is still to pay, when anything is.
        let paidMissing: String?
        /// The days since the first payment the tier needs, when it needs any.
        let days: String?
        let oneDay: Bool
        /// The day those days have passed, when that is still to come.
        let daysFrom: String?
        /// The days cannot start counting: there has been no payment.
        let needsFirstPayment: Bool
        /// The days have already passed.
        let daysPassed: Bool
        /// The tier needs both a payment and days.
        let both: Bool
        /// Nothing more is needed: the organization moves up at its next look-up.
        let ready: Bool

        init(_ tier: UsageTier, progress: TierProgress, paidMicros: Int64, currency: BillingCurrency) {
            nextName = SettingsPages.tierTitle(tier.name)
            let needed = tier.qualifyingPaidMicros ?? 0
            paidNeeded = needed > 0 ? currency.format(micros: needed) : nil
            paid = currency.format(micros: paidMicros)
            paidMissing = progress.paidMissingMicros > 0 ? currency.format(micros: progress.paidMissingMicros) : nil
            days = tier.qualifyingDays > 0 ? String(tier.qualifyingDays) : nil
            oneDay = tier.qualifyingDays == 1
            daysFrom = progress.daysMetAt.map(SettingsPages.dayText)
            needsFirstPayment = progress.needsFirstPayment
            daysPassed = tier.qualifyingDays > 0 && progress.daysMetAt == nil && !progress.needsFirstPayment
            both = paidNeeded != nil && days != nil
            ready = progress.paidMissingMicros == 0 && progress.daysMetAt == nil && !progress.needsFirstPayment
        }
    }

    /// The organization's budget: what it is and, for owners, the form.
    struct OrganizationBudgetView: Sendable {
        /// The budget as shown, when there is one.
        let budgetAmount: String?
        let budgetSpent: String
        /// Whether spending the budget stops API calls.
        let budgetStops: Bool
        /// The alert thresholds as shown (`50%, 80%, 100%`), when there are any.
        let budgetAlerts: String?
        /// The viewer is an owner of the organization.
        let canChangeBudget: Bool
        /// What the fields hold: the budget, or what was typed.
        let amountValue: String
        let hardLimitChecked: Bool
        let alertsValue: String
        let errors: FieldErrors
    }

    /// A budget form as it was sent: kept to show again when refused.
    struct TypedBudget: Sendable {
        let amount: String
        let hardLimit: Bool
        let alerts: String

        init(_ fields: FormFields) {
            amount = fields["monthly_budget"] ?? ""
            hardLimit = fields["hard_limit"] != nil
            alerts = fields["alert_thresholds"] ?? ""
        }
    }

    /// A budget change the page refused: whose (`nil` for the organization's), what was typed
    /// (`nil` when the form had no fields), and why.
    struct BudgetRefusal: Sendable {
        let project: String?
        let typed: TypedBudget?
        let errors: FieldErrors
    }

    // MARK: Handlers

    /// "Save" of the organization's budget. Owners only.
    @Sendable func saveOrganizationBudget(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let typed = TypedBudget(fields)
        func refused(_ errors: FieldErrors, status: HTTPResponse.Status) async throws -> Response {
            try await renderLimits(
                request, context: context, budgetRefused: BudgetRefusal(project: nil, typed: typed, errors: errors),
                status: status)
        }
        do {
            try context.membership.require(.manageBilling)
            var errors: [String: String] = [:]
            let micros = Self.budgetMicros(typed.amount, currency: currency)
            if micros == nil { errors["monthly_budget"] = PageSentences.budgetAmount(currency: currency) }
            let percents = Self.alertPercents(typed.alerts)
            if percents == nil { errors["alert_thresholds"] = PageSentences.alertThresholds }
            guard let micros, let percents, errors.isEmpty else {
                return try await refused(FieldErrors(sentences: errors), status: .badRequest)
            }
            let budget = SpendBudget(monthlyMicros: micros, hardLimit: typed.hardLimit, alertPercents: percents)
            try await services.spend.setBudget(budget, for: context.membership, by: context.actor)
            throw PageRedirect.to("/settings/organization/limits", flash: "Budget saved.")
        } catch let refusal as DomainError where refusal.kind != .notFound {
            return try await refused(
                FieldErrors(refusal, fields: ["monthly_budget", "alert_thresholds"]), status: Self.status(for: refusal))
        }
    }

    /// "Remove budget" of the organization. Owners only.
    @Sendable func removeOrganizationBudget(_ request: Request, context: PageContext) async throws -> Response {
        _ = try await dashboard.forms.form(request, expectedToken: context.formToken)
        do {
            try await services.spend.setBudget(nil, for: context.membership, by: context.actor)
            throw PageRedirect.to("/settings/organization/limits", flash: "Budget removed.")
        } catch let refusal as DomainError where refusal.kind != .notFound {
            return try await renderLimits(
                request, context: context,
                budgetRefused: BudgetRefusal(
                    project: nil, typed: nil, errors: FieldErrors(form: PageSentences.sentence(for: refusal))),
                status: Self.status(for: refusal))
        }
    }

    /// "Save budget" of a project: an amount, or nothing to remove the budget. Project owners
    /// only, as its rate limits. The project's alert thresholds stay as they were.
    @Sendable func saveProjectBudget(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let id = try context.parameters.require("project_id")
        let typed = TypedBudget(fields)
        func refused(_ errors: FieldErrors, status: HTTPResponse.Status) async throws -> Response {
            try await renderLimits(
                request, context: context, budgetRefused: BudgetRefusal(project: id, typed: typed, errors: errors),
                status: status)
        }
        do {
            try context.membership.require(.manage, in: id)
            let project = try await services.projects.project(id, in: context.membership)
            var budget: SpendBudget?
            if !typed.amount.trimmingCharacters(in: .whitespaces).isEmpty {
                guard let micros = Self.budgetMicros(typed.amount, currency: currency) else {
                    let sentence = PageSentences.budgetAmount(currency: currency)
                    return try await refused(
                        FieldErrors(field: "monthly_budget", sentence: sentence), status: .badRequest)
                }
                let summary = try await services.spend.summary(of: project.organizationID)
                let alerts = summary.projects[project.id]?.budget.alertPercents ?? SpendBudget.defaultAlertPercents
                budget = SpendBudget(monthlyMicros: micros, hardLimit: typed.hardLimit, alertPercents: alerts)
            }
            try await services.spend.setBudget(budget, of: project, by: context.actor)
            throw PageRedirect.to(
                "/settings/organization/limits", flash: budget == nil ? "Budget removed." : "Budget saved.")
        } catch let refusal as DomainError where refusal.kind != .notFound {
            return try await refused(
                FieldErrors(refusal, fields: ["monthly_budget"]), status: Self.status(for: refusal))
        }
    }

    // MARK: Reading and showing

    /// The currency budgets are set in.
    var currency: BillingCurrency { services.spend.currency }

    /// A typed budget: money from one minor unit (a cent) to ``SpendBudget/maximumMicros``.
    static func budgetMicros(_ text: String, currency: BillingCurrency) -> Int64? {
        guard let micros = currency.parse(text) else { return nil }
        return (currency.microsPerMinorUnit...SpendBudget.maximumMicros).contains(micros) ? micros : nil
    }

    /// Typed alert thresholds: whole percentages from 1 to 100 separated by commas, a `%` after
    /// each allowed; at most ten different ones. Empty means no alerts.
    static func alertPercents(_ text: String) -> [Int]? {
        var percents: Set<Int> = []
        for part in text.split(separator: ",") {
            var item = part.trimmingCharacters(in: .whitespaces)
            if item.hasSuffix("%") { item = String(item.dropLast()).trimmingCharacters(in: .whitespaces) }
            if item.isEmpty { continue }
            guard item.count <= 3, item.allSatisfy({ $0 >= "0" && $0 <= "9" }), let value = Int(item),
                (1...100).contains(value)
            else { return nil }
            percents.insert(value)
        }
        return percents.count <= 10 ? percents.sorted() : nil
    }

    /// An amount as a money field holds it: `50.00`.
    static func fieldText(_ micros: Int64, currency: BillingCurrency) -> String {
        let minor = currency.minorUnits(micros: micros).magnitude
        let sign = micros < 0 ? "-" : ""
        guard currency.minorDigits > 0 else { return sign + String(minor) }
        var scale: UInt64 = 1
        for _ in 0..<currency.minorDigits { scale *= 10 }
        let fraction = String(minor % scale)
        return sign + String(minor / scale) + "."
            + String(repeating: "0", count: currency.minorDigits - fraction.count) + fraction
    }

    /// `50%, 80%, 100%`; `nil` for none.
    static func alertsText(_ percents: [Int]) -> String? {
        percents.isEmpty ? nil : percents.map { "\($0)%" }.joined(separator: ", ")
    }

    /// `free` as `Free`, `tier-1` as `Tier 1`; any other name as it is.
    static func tierTitle(_ name: String) -> String {
        if name == "free" { return "Free" }
        let number = name.dropFirst("tier-".count)
        if name.hasPrefix("tier-"), !number.isEmpty, number.allSatisfy({ $0 >= "0" && $0 <= "9" }) {
            return "Tier \(number)"
        }
        return name
    }

    /// `22 June 2025` (UTC).
    static func dayText(_ date: Date) -> String {
        let (year, month, day) = UTCDay.civil(fromDays: UTCDay(containing: date).number)
        return "\(day) \(monthNames[(month - 1) % 12]) \(year)"
    }

    static let monthNames = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
        "December",
    ]

    /// The first instant of the UTC month `date` falls in.
    static func monthStart(of date: Date) -> Date {
        let (year, month, _) = UTCDay.civil(fromDays: UTCDay(containing: date).number)
        return UTCDay(number: UTCDay.daysFromCivil(year: year, month: month, day: 1)).start
    }

    /// What each project of the organization spent from the month's start until `end`, in
    /// micro-units (rounded down), read in one query.
    func projectSpend(of organization: OrganizationID, now: Date, until end: Date) async throws -> [String: Int64] {
        let start = Self.monthStart(of: now)
        // One bucket wider than any month, so each project has one total.
        let query = UsageQuery(
            organizationID: organization.rawValue, start: start, end: max(end, start),
            bucketWidth: 32 * UTCDay.secondsPerDay, groupByProject: true)
        var nanos: [String: Int64] = [:]
        for total in try await services.usage.totals(query) {
            guard let project = total.projectID else { continue }
            nanos[project, default: 0].addSaturated(total.costNanos)
        }
        return nanos.mapValues { $0 / 1000 }
    }

    /// The usage tier part of the page.
    static func tierView(_ summary: SpendSummary) -> UsageTierView {
        let currency = summary.currency
        // A pinned tier is not left by paying more, so no next tier is offered.
        var next: NextTierView?
        if !summary.pinned, let upcoming = summary.next {
            next = NextTierView(
                upcoming.tier, progress: upcoming.progress, paidMicros: summary.standing.paidMicros,
                currency: currency)
        }
        return UsageTierView(
            tierName: tierTitle(summary.tier.name), pinned: summary.pinned,
            monthlyLimit: summary.tier.monthlyLimitMicros.map { currency.format(micros: $0) },
            spentThisMonth: currency.format(micros: summary.spentMicros), resets: dayText(summary.resetsAt),
            next: next, highest: !summary.pinned && summary.next == nil)
    }

    /// The organization's budget part of the page, with a refused change's typed values.
    static func organizationBudgetView(
        _ summary: SpendSummary, canChange: Bool, refused: BudgetRefusal?
    ) -> OrganizationBudgetView {
        let currency = summary.currency
        let budget = summary.budget
        let typed = refused?.typed
        let percents = budget?.alertPercents ?? SpendBudget.defaultAlertPercents
        let shownAmount: String? = budget.map { currency.format(micros: $0.monthlyMicros) }
        let amountValue: String = budget.map { fieldText($0.monthlyMicros, currency: currency) } ?? ""
        let hardLimit: Bool = budget?.hardLimit ?? true
        let alertsValue: String = percents.map { String($0) }.joined(separator: ", ")
        return OrganizationBudgetView(
            budgetAmount: shownAmount, budgetSpent: currency.format(micros: summary.spentMicros),
            budgetStops: budget?.hardLimit ?? false, budgetAlerts: budget.flatMap { alertsText($0.alertPercents) },
            canChangeBudget: canChange, amountValue: typed?.amount ?? amountValue,
            hardLimitChecked: typed?.hardLimit ?? hardLimit, alertsValue: typed?.alerts ?? alertsValue,
            errors: refused?.errors ?? FieldErrors())
    }
}

/// What the budget forms check themselves, in words.
extension PageSentences {
    /// A budget that is not money, or is out of range.
    static func budgetAmount(currency: BillingCurrency) -> String {
        let least = currency.format(micros: currency.microsPerMinorUnit)
        let most = currency.format(micros: SpendBudget.maximumMicros)
        return "Enter the monthly budget as an amount from \(least) to \(most), such as 50.00."
    }

    /// Alert thresholds that are not whole percentages.
    static let alertThresholds =
        "Enter up to ten whole percentages from 1 to 100, separated by commas, such as 50, 80, 100; "
        + "or leave the field empty for no alert emails."
}
