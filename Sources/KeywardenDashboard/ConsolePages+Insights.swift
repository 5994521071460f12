import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP
import PhoneNumbers

/// Verification insights: each country's funnel over the last 24 hours, 7 days or 30 days
/// (started, codes sent, approved, the conversion, refused, the estimated SMS spend), and the
/// refusals by country and reason.
extension ConsolePages {
    static let insightsPath = "/admin/insights"

    func addInsightRoutes(to signedIn: RouterGroup<PageContext>) {
        get(Self.insightsPath, in: signedIn, use: insights)
    }

    /// One country's row of the funnel.
    struct CountryRow: Sendable {
        let country: String
        /// The country's English name, or "Unknown" for numbers that could not be read.
        let countryName: String
        let started: Int
        let sent: Int
        let approved: Int
        /// `42%`; `nil` when none started.
        let conversion: String?
        let refused: Int
        /// The estimate; `nil` without a price for the country.
        let spend: String?

        init(_ insight: CountryInsight, currency: BillingCurrency) {
            country = insight.country
            countryName = Self.name(of: insight.country)
            started = insight.started
            sent = insight.sentTotal
            approved = insight.approved
            conversion = insight.conversionPercent.map { "\($0)%" }
            refused = insight.refusedTotal
            spend = insight.estimatedSpendMicros.map { currency.format(micros: $0) }
        }
    }

    /// One country and refusal code with its count.
    struct RefusalRow: Sendable {
        let country: String
        let code: String
        let count: Int
    }

    /// The Verification insights page.
    struct InsightsView: Sendable {
        let layout: Layout
        /// Which window is shown (its link is marked current).
        let showingDay: Bool
        let showingWeek: Bool
        let showingMonth: Bool
        /// The window's label, for the table's caption.
        let windowLabel: String
        let rows: [CountryRow]
        let hasRows: Bool
        let refusals: [RefusalRow]
        let hasRefusals: Bool
        /// No price is configured for any country, so no spend is estimated.
        let noPrices: Bool
        let pageError: String?
    }

    @Sendable func insights(_ request: Request, context: OperatorContext) async throws -> Response {
        let raw = request.uri.queryParameters["window"].map { String($0) } ?? ""
        let window: InsightWindow? = raw.isEmpty ? .day : InsightWindow(rawValue: raw)
        let frame = try await dashboard.consoleFrame("Verification insights", request: request, console: context)
        let prices = console.messagePrices
        let noPrices = prices.byCountry.isEmpty && prices.fallback == nil
        guard let window else {
            // An unknown window is said on the page, with the links to the three that exist.
            let view = InsightsView(
                layout: frame.layout, showingDay: false, showingWeek: false, showingMonth: false, windowLabel: "",
                rows: [], hasRows: false, refusals: [], hasRefusals: false, noPrices: noPrices,
                pageError: PageSentences.insightWindow)
            return dashboard.page("admin-insights", view, frame: frame, status: .badRequest)
        }
        let insights = try await console.insights(window)
        let refusals = insights.flatMap { insight in
            insight.refusals.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map {
                RefusalRow(country: insight.country, code: $0.key, count: $0.value)
            }
        }
        let view = InsightsView(
            layout: frame.layout, showingDay: window == .day, showingWeek: window == .week,
            showingMonth: window == .month, windowLabel: window.label,
            rows: insights.map { CountryRow($0, currency: console.currency) }, hasRows: !insights.isEmpty,
            refusals: refusals, hasRefusals: !refusals.isEmpty, noPrices: noPrices, pageError: nil)
        return dashboard.page("admin-insights", view, frame: frame)
    }
}

extension ConsolePages.CountryRow {
    /// The English name of an ISO code the metadata knows; "Unknown" otherwise (`ZZ`).
    static func name(of code: String) -> String {
        PhoneNumbers.regions.first { $0.code == code }?.name ?? "Unknown"
    }
}
