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
    let clock: Clock

    /// Creates the controller.
    public init(
        usage: any UsageRepository, meter: UsageMeter, limits: RateLimitPolicy, projects: ProjectService, clock: Clock
    ) {
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
        organization.get("projects/{project_id}/rate_limits", use: showLimits)
        organization.post("projects/{project_id}/rate_limits", use: modifyLimits)
    }

    // MARK: Usage

    /// Bucket widths, their default and largest bucket counts per page.
    static let widths: [String: (seconds: Int, defaultLimit: Int, maxLimit: Int)] = [
        "1m": (60, 60, 1440), "1h": (3600, 24, 168), "1d": (86_400, 7, 31),
    ]

    @Sendable func completions(_ request: Request, context: OrganizationContext) async throws -> UsagePage {
        guard let start = try request.unixTimeQuery("start_time") else {
            throw DomainError.invalidField("start_time", "'start_time' (Unix seconds, inclusive) is required.")
        }
        let widthName = request.textQuery("bucket_width") ?? "1d"
        guard let width = Self.widths[widthName] else {
            throw DomainError.invalidField("bucket_width", "'bucket_width' must be 1m, 1h or 1d.")
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
        var groupByProject = false
        var groupByKey = false
        for raw in Self.listQuery(request, "group_by") {
            switch raw {
            case "project_id": groupByProject = true
            case "api_key_id": groupByKey = true
            default:
                throw DomainError.invalidField(
                    "group_by", "'group_by' may be project_id and api_key_id; '\(raw)' is not recorded.")
            }
        }
        // A reader's report covers the projects they were added to, and only those: `nil` is the
        // whole organization, an empty list no project at all.
        let readable = try context.membership.readableProjects(among: Self.listQuery(request, "project_ids"))
        // Calls counted in memory but not yet written are included, so a dashboard never lags.
        try await meter.flush(to: usage)

        let now = Int(clock.now().timeIntervalSince1970)
        let rangeEnd = end ?? (max(now, first) / width.seconds + 1) * width.seconds
        let bucketCount = max(0, min(limit, (rangeEnd - first + width.seconds - 1) / width.seconds))
        let pageEnd = min(rangeEnd, first + bucketCount * width.seconds)
        var totals: [UsageTotal] = []
        if readable?.isEmpty != true {
            totals = try await usage.totals(
                UsageQuery(
                    organizationID: context.membership.organization.id.rawValue,
                    start: Date(timeIntervalSince1970: TimeInterval(first)),
                    end: Date(timeIntervalSince1970: TimeInterval(pageEnd)), bucketWidth: width.seconds,
                    groupByProject: groupByProject, groupByAPIKey: groupByKey,
                    projectIDs: readable ?? [], apiKeyIDs: Self.listQuery(request, "api_key_ids")))
        }
        var buckets = (0..<bucketCount).map { index in
            UsageBucket(
                startTime: first + index * width.seconds, endTime: min(pageEnd, first + (index + 1) * width.seconds),
                results: [])
        }
        for total in totals where buckets.indices.contains(total.bucket) {
            buckets[total.bucket].results.append(UsageResult(total))
        }
        let hasMore = pageEnd < rangeEnd
        return UsagePage(data: buckets, hasMore: hasMore, nextPage: hasMore ? Self.encodePage(pageEnd) : nil)
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

/// One page of usage buckets.
struct UsagePage: ResponseEncodable, Sendable {
    let object = "page"
    var data: [UsageBucket]
    var hasMore: Bool
    @ExplicitNull var nextPage: String?

    enum CodingKeys: String, CodingKey {
        case object, data
        case hasMore = "has_more"
        case nextPage = "next_page"
    }
}

struct UsageBucket: Encodable, Sendable {
    let object = "bucket"
    var startTime: Int
    var endTime: Int
    var results: [UsageResult]

    enum CodingKeys: String, CodingKey {
        case object, results
        case startTime = "start_time"
        case endTime = "end_time"
    }
}

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
        try container.encodeNil(forKey: .model)
        try container.encodeNil(forKey: .batch)
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
