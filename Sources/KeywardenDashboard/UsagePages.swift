import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP
import NIOCore

/// The usage page: requests and tokens per UTC day as SVG charts with the same numbers and
/// their cost in a table, filtered by date range, project and key, and the same numbers as CSV.
///
/// It reads the store `GET /v1/organization/usage/completions` reads, with one bucket per day
/// and, as that endpoint, model calls only.
/// Calls the gateway has counted in memory reach the store when the usage flusher next runs.
struct UsagePages: Sendable {
    let dashboard: Dashboard

    /// The most keys listed per project in the key filter (pages of 100).
    static let maxKeyPages = 10

    /// One day's totals, as the table and the CSV show them.
    struct Day: Sendable {
        let date: String
        let requests: Int
        let promptTokens: Int
        let completionTokens: Int
        let totalTokens: Int
        /// What the day's calls cost, in nano-units.
        let costNanos: Int64
        /// The same, as shown (rounded down to the micro-unit).
        let cost: String
    }

    /// A project and its keys, as the key filter offers them.
    struct KeyGroup: Sendable {
        let project: Project
        let keys: [APIKey]
    }

    /// The page as it is shown.
    struct View: Sendable {
        /// One option of a select.
        struct Choice: Sendable {
            let id: String
            let name: String
            let selected: Bool
        }

        /// A project's keys, as an `<optgroup>`.
        struct KeyChoices: Sendable {
            let name: String
            let keys: [Choice]
        }

        let layout: Layout
        let from: String
        let to: String
        let allProjects: Bool
        let projects: [Choice]
        let allKeys: Bool
        let keyGroups: [KeyChoices]
        /// Sentences by field: `from`, `to`, `project`, `api_key`.
        let errors: [String: String]
        let days: [Day]
        let total: Day
        /// No request and no token in the whole range.
        let empty: Bool
        /// Server-built SVG (numbers and escaped labels only).
        let requestsChart: String
        let tokensChart: String
        let costChart: String
        let csvPath: String
    }

    func addRoutes(to signedIn: RouterGroup<PageContext>) {
        signedIn.get("/usage", use: usagePage)
        signedIn.get("/usage.csv", use: usageCSV)
    }

    @Sendable func usagePage(_ request: Request, context: PageContext) async throws -> Response {
        let frame = try await dashboard.frame("Usage", request: request, context: context)
        let (filter, groups) = try await checkedFilter(request, context: context, projects: frame.projects)
        let days = try await self.days(for: filter, context: context)
        let costNanos = days.reduce(Int64(0)) { $0.addingSaturated($1.costNanos) }
        let total = Day(
            date: "", requests: days.reduce(0) { $0 + $1.requests },
            promptTokens: days.reduce(0) { $0 + $1.promptTokens },
            completionTokens: days.reduce(0) { $0 + $1.completionTokens },
            totalTokens: days.reduce(0) { $0 + $1.totalTokens }, costNanos: costNanos,
            cost: Self.costText(costNanos, currency: currency))
        let range = "\(filter.from.text) to \(filter.to.text), UTC"
        let requestsChart = BarChart(
            title: "Requests per day, \(range)", series: ["requests"],
            bars: days.map { BarChart.Bar(label: $0.date, values: [$0.requests]) })
        let tokensChart = BarChart(
            title: "Prompt and completion tokens per day, \(range)", series: ["prompt tokens", "completion tokens"],
            bars: days.map { BarChart.Bar(label: $0.date, values: [$0.promptTokens, $0.completionTokens]) })
        let currency = currency
        // Drawn in micro-units, written as money on the axis and in each bar's title.
        let costChart = BarChart(
            title: "Cost per day, \(range)", series: ["cost"],
            bars: days.map { BarChart.Bar(label: $0.date, values: [Int(clamping: $0.costNanos / 1000)]) },
            valueText: { currency.format(micros: Int64($0)) })
        let view = View(
            layout: frame.layout, from: filter.from.text, to: filter.to.text, allProjects: filter.projectID == nil,
            projects: frame.projects.map {
                View.Choice(id: $0.id.rawValue, name: $0.name, selected: $0.id.rawValue == filter.projectID)
            },
            allKeys: filter.apiKeyID == nil,
            keyGroups: groups.map { group in
                View.KeyChoices(
                    name: group.project.name,
                    keys: group.keys.map {
                        View.Choice(
                            id: $0.id.rawValue, name: Self.keyName($0), selected: $0.id.rawValue == filter.apiKeyID)
                    })
            },
            errors: filter.errors, days: days, total: total,
            empty: total.requests == 0 && total.totalTokens == 0,
            requestsChart: requestsChart.svg, tokensChart: tokensChart.svg, costChart: costChart.svg,
            csvPath: "/usage.csv?" + filter.queryString)
        return dashboard.page("usage", view, frame: frame, status: filter.errors.isEmpty ? .ok : .badRequest)
    }

    /// The same days as CSV, one row per day. A refused filter gets its sentences as plain text
    /// (400) rather than numbers for another range than the one asked for.
    @Sendable func usageCSV(_ request: Request, context: PageContext) async throws -> Response {
        let projects = try await dashboard.services.projects.list(
            in: context.membership, after: nil, limit: PageLimit.maximum, includeArchived: false
        ).items
        let (filter, _) = try await checkedFilter(request, context: context, projects: projects)
        var headers = HTTPFields()
        headers[.cacheControl] = "no-store"
        guard filter.errors.isEmpty else {
            headers[.contentType] = "text/plain; charset=utf-8"
            let text = UsageFilter.fields.compactMap { filter.errors[$0] }.joined(separator: "\n") + "\n"
            return Response(status: .badRequest, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        let days = try await self.days(for: filter, context: context)
        var csv = "date,requests,prompt_tokens,completion_tokens,total_tokens,cost\r\n"
        for day in days {
            csv += "\(day.date),\(day.requests),\(day.promptTokens),\(day.completionTokens),\(day.totalTokens),"
            csv += Self.decimal(micros: day.costNanos / 1000, minorDigits: currency.minorDigits) + "\r\n"
        }
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"usage-\(filter.from.text)-\(filter.to.text).csv\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: csv)))
    }

    /// The request's filters, the project and key checked against this organization's active
    /// `projects` and their keys, and the keys the key filter offers: the chosen project's only, so
    /// a page reads one project's keys at most (under "All projects" there is no key to choose).
    func checkedFilter(
        _ request: Request, context: PageContext, projects: [Project]
    ) async throws -> (UsageFilter, [KeyGroup]) {
        let query = request.uri.queryParameters
        var filter = UsageFilter(
            from: query["from"].map(String.init), to: query["to"].map(String.init),
            today: UTCDay(containing: dashboard.services.clock.now()))
        filter.chooseProject(query["project"].map(String.init), among: projects)
        let offered = projects.filter { $0.id.rawValue == filter.projectID }
        var groups: [KeyGroup] = []
        for project in offered {
            let projectKeys = try await self.keys(of: project, in: context.membership)
            groups.append(KeyGroup(project: project, keys: projectKeys))
        }
        filter.chooseKey(query["api_key"].map(String.init), among: groups.flatMap(\.keys))
        return (filter, groups)
    }

    /// The keys of `project`, up to ``maxKeyPages`` pages of 100.
    func keys(of project: Project, in membership: Membership) async throws -> [APIKey] {
        try await readPages(maximumPages: Self.maxKeyPages, cursor: \.id.rawValue) {
            try await dashboard.services.keys.projectKeys(
                project: project.id.rawValue, membership: membership, after: $0, limit: PageLimit.maximum)
        }.items
    }

    /// Every day of the filter's range with its totals, zero where nothing was used.
    func days(for filter: UsageFilter, context: PageContext) async throws -> [Day] {
        // What the gateway counted and has not written yet counts too, as on the JSON endpoint.
        try await dashboard.services.meter.flush(to: dashboard.services.usage)
        let days = filter.days
        var query = filter.query(organizationID: context.membership.organization.id.rawValue)
        // A reader's usage is that of the projects they were added to: `nil` is every project.
        let readable = try context.membership.readableProjects(among: query.projectIDs)
        query.projectIDs = readable ?? query.projectIDs
        var totals: [UsageTotal] = []
        if readable?.isEmpty != true { totals = try await dashboard.services.usage.totals(query) }
        var sums = Array(repeating: (requests: 0, prompt: 0, completion: 0, cost: Int64(0)), count: days.count)
        for total in totals where sums.indices.contains(total.bucket) {
            sums[total.bucket].requests += total.requests
            sums[total.bucket].prompt += total.promptTokens
            sums[total.bucket].completion += total.completionTokens
            sums[total.bucket].cost.addSaturated(total.costNanos)
        }
        let currency = self.currency
        return zip(days, sums).map { day, sum in
            Day(
                date: day.text, requests: sum.requests, promptTokens: sum.prompt, completionTokens: sum.completion,
                totalTokens: sum.prompt + sum.completion, costNanos: sum.cost,
                cost: Self.costText(sum.cost, currency: currency))
        }
    }

    /// The currency costs are shown in.
    var currency: BillingCurrency { dashboard.services.spend.currency }

    /// A cost in nano-units as shown: whole micro-units, rounded down.
    /// An amount as a plain decimal for a spreadsheet, with the minor unit's digits and any
    /// sub-cent ones: `0.00`, `0.0215`, `12.50`.
    static func decimal(micros: Int64, minorDigits: Int) -> String {
        let magnitude = micros.magnitude
        var fraction = String(magnitude % 1_000_000)
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.count > minorDigits, fraction.hasSuffix("0") { fraction.removeLast() }
        return (micros < 0 ? "-" : "") + String(magnitude / 1_000_000) + (fraction.isEmpty ? "" : "." + fraction)
    }

    static func costText(_ nanos: Int64, currency: BillingCurrency) -> String {
        currency.format(micros: nanos / 1000)
    }

    /// A key as the filter lists it: its name and redacted value.
    static func keyName(_ key: APIKey) -> String {
        key.name.isEmpty ? key.redactedValue : "\(key.name) (\(key.redactedValue))"
    }
}
