import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// `GET /v1/organization/usage/completions` in OpenAI's bucket shape, and each project's rate
/// limits (`GET`/`POST /v1/organization/projects/{project_id}/rate_limits`).
public struct UsageController: Sendable {
    let usage: any UsageRepository
    let meter: UsageMeter
    let limits: RateLimitPolicy
    let projects: ProjectService
    /// What costs are reported in.
    let currency: BillingCurrency
    let clock: Clock

    /// Creates the controller.
    public init(
        usage: any UsageRepository, meter: UsageMeter, limits: RateLimitPolicy, projects: ProjectService,
        currency: BillingCurrency = .usd, clock: Clock
    ) {
        self.currency = currency
        self.usage = usage
        self.meter = meter
        self.limits = limits
        self.projects = projects
        self.clock = clock
    }

    /// Registers the routes.
    public func addRoutes(to router: CatalogingRouter<KeywardenRequestContext>) {
        let organization = router.group("/v1/organization", context: OrganizationContext.self)
        organization.get("usage/completions", use: completions)
        organization.get("costs", use: costs)
        organization.get("projects/{project_id}/rate_limits", use: showLimits)
        organization.post("projects/{project_id}/rate_limits", use: modifyLimits)
    }

    // MARK: Usage

    /// Bucket widths, their default and largest bucket counts per page.
    static let widths: [String: (seconds: Int, defaultLimit: Int, maxLimit: Int)] = [
        "1m": (60, 60, 1440), "1h": (3600, 24, 168), "1d": (86_400, 7, 31),
    ]

    /// The buckets a usage or costs page covers.
    struct BucketRange {
        let width: Int
        let first: Int
        let pageEnd: Int
        let count: Int
        let hasMore: Bool

        var start: Date { Date(timeIntervalSince1970: TimeInterval(first)) }
        var end: Date { Date(timeIntervalSince1970: TimeInterval(pageEnd)) }

        /// The page's buckets, each with the results `make` gives for its index.
        func buckets<Result>(_ make: (Int) -> [Result]) -> [Bucket<Result>] {
            (0..<count).map { index in
                Bucket(
                    startTime: first + index * width, endTime: min(pageEnd, first + (index + 1) * width),
                    results: make(index))
            }
        }
    }

    /// Reads `start_time`, `end_time`, `bucket_width`, `limit` and `page` as OpenAI's usage and
    /// costs endpoints take them.
    func bucketRange(
        _ request: Request, widths: [String: (seconds: Int, defaultLimit: Int, maxLimit: Int)], defaultWidth: String
    ) throws -> BucketRange {
        guard let start = try request.unixTimeQuery("start_time") else {
            throw DomainError.invalidField("start_time", "'start_time' (Unix seconds, inclusive) is required.")
        }
        let widthName = request.textQuery("bucket_width") ?? defaultWidth
        guard let width = widths[widthName] else {
            let names = widths.keys.sorted { widths[$0]!.seconds < widths[$1]!.seconds }
            throw DomainError.invalidField(
                "bucket_width", "'bucket_width' must be \(names.joined(separator: " or ")).")
        }
        // Both ends are bounded to year 9999, so the bucket arithmetic below stays far from overflow.
        let end = try request.unixTimeQuery("end_time")
        if let end, end <= start {
            throw DomainError.invalidField("end_time", "'end_time' must be after 'start_time'.")
        }
        let limit = try request.integerQuery("limit", in: 1...width.maxLimit) ?? width.defaultLimit
        var first = start
        if let page = request.textQuery("page") {
            guard let decoded = Self.decodePage(page), decoded >= start, decoded < (end ?? UnixTime.range.upperBound)
            else {
                throw DomainError.invalidField("page", "'page' must be a next_page value from an earlier answer.")
            }
            first = decoded
        }
        let now = Int(clock.now().timeIntervalSince1970)
        let rangeEnd = end ?? (max(now, first) / width.seconds + 1) * width.seconds
        let count = max(0, min(limit, (rangeEnd - first + width.seconds - 1) / width.seconds))
        let pageEnd = min(rangeEnd, first + count * width.seconds)
        return BucketRange(
            width: width.seconds, first: first, pageEnd: pageEnd, count: count, hasMore: pageEnd < rangeEnd)
    }

    @Sendable func completions(_ request: Request, context: OrganizationContext) async throws -> UsagePage {
        let range = try bucketRange(request, widths: Self.widths, defaultWidth: "1d")
        var groupByProject = false
        var groupByKey = false
        var groupByModel = false
        for raw in Self.listQuery(request, "group_by") {
            switch raw {
            case "project_id": groupByProject = true
            case "api_key_id": groupByKey = true
            case "model": groupByModel = true
            default:
                throw DomainError.invalidField(
                    "group_by", "'group_by' may be project_id, api_key_id and model; '\(raw)' is not recorded.")
            }
        }
        // A reader's report covers the projects they were added to, and only those: `nil` is the
        // whole organization, an empty list no project at all.
        let readable = try context.membership.readableProjects(among: Self.listQuery(request, "project_ids"))
        // Calls counted in memory but not yet written are included, so a dashboard never lags.
        try await meter.flush(to: usage)
        var totals: [UsageTotal] = []
        if readable?.isEmpty != true {
            totals = try await usage.totals(
                UsageQuery(
                    organizationID: context.membership.organization.id.rawValue, start: range.start, end: range.end,
                    bucketWidth: range.width, groupByProject: groupByProject, groupByAPIKey: groupByKey,
                    groupByModel: groupByModel, projectIDs: readable ?? [],
                    apiKeyIDs: Self.listQuery(request, "api_key_ids"), models: Self.listQuery(request, "models"),
                    categories: [.completions]))
        }
        let buckets = range.buckets { index in
            totals.filter { $0.bucket == index }.map(UsageResult.init)
        }
        return UsagePage(
            data: buckets, hasMore: range.hasMore, nextPage: range.hasMore ? Self.encodePage(range.pageEnd) : nil)
    }

    // MARK: Costs

    /// OpenAI's costs endpoint takes daily buckets only, 7 by default and up to 180.
    static let costWidths: [String: (seconds: Int, defaultLimit: Int, maxLimit: Int)] = ["1d": (86_400, 7, 180)]

    @Sendable func costs(_ request: Request, context: OrganizationContext) async throws -> CostsPage {
        let range = try bucketRange(request, widths: Self.costWidths, defaultWidth: "1d")
        var groupByProject = false
        var groupByLineItem = false
        for raw in Self.listQuery(request, "group_by") {
            switch raw {
            case "project_id": groupByProject = true
            case "line_item": groupByLineItem = true
            default:
                throw DomainError.invalidField(
                    "group_by", "'group_by' may be project_id and line_item; '\(raw)' is not recorded.")
            }
        }
        let readable = try context.membership.readableProjects(among: Self.listQuery(request, "project_ids"))
        try await meter.flush(to: usage)
        var totals: [UsageTotal] = []
        if readable?.isEmpty != true {
            totals = try await usage.totals(
                UsageQuery(
                    organizationID: context.membership.organization.id.rawValue, start: range.start, end: range.end,
                    bucketWidth: range.width, groupByProject: groupByProject, groupByModel: groupByLineItem,
                    projectIDs: readable ?? []))
        }
        let buckets = range.buckets { index in
            CostResult.results(
                of: totals.filter { $0.bucket == index }, byLineItem: groupByLineItem, currency: currency.code)
        }
        return CostsPage(
            data: buckets, hasMore: range.hasMore, nextPage: range.hasMore ? Self.encodePage(range.pageEnd) : nil)
    }

    /// A query parameter given once, repeated, with `[]`, or as a comma-separated list.
    static func listQuery(_ request: Request, _ name: String) -> [String] {
        let values = request.queryValues(name) + request.queryValues(name + "[]")
        return values.flatMap { $0.split(separator: ",").map(String.init) }.filter { !$0.isEmpty }
    }

    static func encodePage(_ start: Int) -> String {
        "page_" + Data("usage:\(start)".utf8).base64EncodedString()
    }

    static func decodePage(_ page: String) -> Int? {
        guard page.hasPrefix("page_"), let data = Data(base64Encoded: String(page.dropFirst(5))) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard text.hasPrefix("usage:"), let start = Int(text.dropFirst(6)), UnixTime.range.contains(start) else {
            return nil
        }
        return start
    }

    // MARK: Project rate limits

    @Sendable func showLimits(_ request: Request, context: OrganizationContext) async throws -> ProjectRateLimitsObject
    {
        let project = try await projects.project(try context.parameters.require("project_id"), in: context.membership)
        return try await object(for: project)
    }

    struct LimitsBody: JSONRequestBody {
        static let fields: Set<String> = ["max_requests_per_1_minute", "max_tokens_per_1_minute"]
        static let nullableFields = fields
        /// Absent: unchanged; `null`: back to the tier's; a number: the project's own.
        let requests: Int??
        let tokens: Int??

        enum CodingKeys: String, CodingKey {
            case requests = "max_requests_per_1_minute"
            case tokens = "max_tokens_per_1_minute"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            func read(_ key: CodingKeys) throws -> Int?? {
                guard container.contains(key) else { return .none }
                if try container.decodeNil(forKey: key) { return .some(nil) }
                let value = try container.decode(Int.self, forKey: key)
                guard (1...1_000_000_000_000).contains(value) else {
                    throw DomainError.invalidField(
                        key.rawValue, "'\(key.rawValue)' must be a positive integer or null.")
                }
                return .some(value)
            }
            requests = try read(.requests)
            tokens = try read(.tokens)
        }
    }

    @Sendable func modifyLimits(
        _ request: Request, context: OrganizationContext
    ) async throws -> ProjectRateLimitsObject {
        let projectID = try context.parameters.require("project_id")
        try context.membership.require(.manage, in: projectID)
        let body = try await request.decodeBody(LimitsBody.self, context: context)
        let project = try await projects.project(projectID, in: context.membership)
        try await limits.updateProjectLimits(
            of: project, requests: body.requests, tokens: body.tokens, by: context.actor)
        return try await object(for: project)
    }

    func object(for project: Project) async throws -> ProjectRateLimitsObject {
        let now = clock.now()
        let tier = await limits.tier(of: project.organizationID, now: now)
        let own = await limits.projectLimits(of: project.id, now: now)
        return ProjectRateLimitsObject(projectID: project.id.rawValue, tier: tier, own: own)
    }
}

/// One page of buckets, as OpenAI's usage and costs endpoints answer.
struct BucketPage<Result: Encodable & Sendable>: ResponseEncodable, Sendable {
    let object = "page"
    var data: [Bucket<Result>]
    var hasMore: Bool
    @ExplicitNull var nextPage: String?

    enum CodingKeys: String, CodingKey {
        case object, data
        case hasMore = "has_more"
        case nextPage = "next_page"
    }
}

/// One bucket of a page: its time range and a result per group.
struct Bucket<Result: Encodable & Sendable>: Encodable, Sendable {
    let object = "bucket"
    var startTime: Int
    var endTime: Int
    var results: [Result]

    enum CodingKeys: String, CodingKey {
        case object, results
        case startTime = "start_time"
        case endTime = "end_time"
    }
}

typealias UsagePage = BucketPage<UsageResult>
typealias CostsPage = BucketPage<CostResult>

/// `organization.usage.completions.result`, with Keywarden's `num_model_request_errors`.
struct UsageResult: Encodable, Sendable {
    let total: UsageTotal

    init(_ total: UsageTotal) {
        self.total = total
    }

    enum CodingKeys: String, CodingKey {
        case object
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case inputCachedTokens = "input_cached_tokens"
        case inputAudioTokens = "input_audio_tokens"
        case outputAudioTokens = "output_audio_tokens"
        case requests = "num_model_requests"
        case errors = "num_model_request_errors"
        case projectID = "project_id"
        case userID = "user_id"
        case apiKeyID = "api_key_id"
        case model, batch
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("organization.usage.completions.result", forKey: .object)
        try container.encode(total.promptTokens, forKey: .inputTokens)
        try container.encode(total.completionTokens, forKey: .outputTokens)
        try container.encode(0, forKey: .inputCachedTokens)
        try container.encode(0, forKey: .inputAudioTokens)
        try container.encode(0, forKey: .outputAudioTokens)
        try container.encode(total.requests, forKey: .requests)
        try container.encode(total.errors, forKey: .errors)
        try container.encode(total.projectID, forKey: .projectID)
        try container.encodeNil(forKey: .userID)
        try container.encode(total.apiKeyID, forKey: .apiKeyID)
        try container.encode(total.model, forKey: .model)
        try container.encodeNil(forKey: .batch)
    }
}

/// `organization.costs.result`: an amount, and the project and line item it is for when grouped.
struct CostResult: Encodable, Sendable {
    let nanos: Int64
    let currency: String
    let lineItem: String?
    let projectID: String?

    enum CodingKeys: String, CodingKey {
        case object, amount, value, currency
        case lineItem = "line_item"
        case projectID = "project_id"
    }

    /// The bucket's results: one per project (when grouped), split into each model's input and
    /// output (when grouped by line item); groups that cost nothing are left out.
    static func results(of totals: [UsageTotal], byLineItem: Bool, currency: String) -> [CostResult] {
        var results: [CostResult] = []
        for total in totals {
            if byLineItem {
                let model = total.model.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown model"
                for (part, nanos) in [("input", total.inputCostNanos), ("output", total.outputCostNanos)]
                where nanos != 0 {
                    results.append(
                        CostResult(
                            nanos: nanos, currency: currency, lineItem: "\(model), \(part)", projectID: total.projectID)
                    )
                }
            } else if total.costNanos != 0 {
                results.append(
                    CostResult(nanos: total.costNanos, currency: currency, lineItem: nil, projectID: total.projectID))
            }
        }
        return results
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("organization.costs.result", forKey: .object)
        var amount = container.nestedContainer(keyedBy: CodingKeys.self, forKey: .amount)
        // Exact to the nano-unit: a decimal, never a sum of floating-point values.
        try amount.encode(
            Decimal(sign: nanos < 0 ? .minus : .plus, exponent: -9, significand: Decimal(nanos.magnitude)),
            forKey: .value)
        try amount.encode(currency, forKey: .currency)
        try container.encode(lineItem, forKey: .lineItem)
        try container.encode(projectID, forKey: .projectID)
    }
}

/// A project's limits: what applies, where it comes from.
struct ProjectRateLimitsObject: ResponseEncodable, Sendable {
    let projectID: String
    let tier: RateLimitTier
    let own: ProjectRateLimits

    enum CodingKeys: String, CodingKey {
        case object, tier, organization
        case projectID = "project_id"
        case requests = "max_requests_per_1_minute"
        case tokens = "max_tokens_per_1_minute"
        case override = "project_override"
        case perKey = "per_key"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("project.rate_limits", forKey: .object)
        try container.encode(projectID, forKey: .projectID)
        try container.encode(tier.name, forKey: .tier)
        let applied = own.applied(to: tier)
        try container.encode(applied.requests, forKey: .requests)
        try container.encode(applied.tokens, forKey: .tokens)
        var override = container.nestedContainer(keyedBy: CodingKeys.self, forKey: .override)
        try override.encode(own.maxRequestsPerMinute, forKey: .requests)
        try override.encode(own.maxTokensPerMinute, forKey: .tokens)
        var organization = container.nestedContainer(keyedBy: CodingKeys.self, forKey: .organization)
        try organization.encode(tier.organization.requests, forKey: .requests)
        try organization.encode(tier.organization.tokens, forKey: .tokens)
        var key = container.nestedContainer(keyedBy: CodingKeys.self, forKey: .perKey)
        try key.encode(tier.key.requests, forKey: .requests)
        try key.encode(tier.key.tokens, forKey: .tokens)
    }
}
