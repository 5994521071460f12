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
    }

    /// The Limits page.
    struct LimitsView: Sendable {
        let layout: Layout
        let tier: String
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

    /// The Limits page, with a refused change shown at its project.
    func renderLimits(
        _ request: Request, context: PageContext, refused: LimitsRefusal? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let frame = try await dashboard.frame("Limits", request: request, context: context)
        let now = services.clock.now()
        let tier = await services.rateLimits.tier(of: context.membership.organization.id, now: now)
        let isOwner = context.membership.role == .owner
        var rows: [ProjectLimitsRow] = []
        let membership = context.membership
        for project in try await allProjects(in: context.membership, includeArchived: false) {
            let own = await services.rateLimits.projectLimits(of: project.id, now: now)
            let applied = own.applied(to: tier)
            let here = refused?.project == project.id.rawValue ? refused : nil
            rows.append(
                ProjectLimitsRow(
                    id: project.id.rawValue, name: project.name, requests: Self.grouped(applied.requests),
                    tokens: Self.grouped(applied.tokens), requestsOwn: own.maxRequestsPerMinute != nil,
                    tokensOwn: own.maxTokensPerMinute != nil, canChange: membership.allows(.manage, in: project.id),
                    requestsValue: here?.requests ?? own.maxRequestsPerMinute.map(String.init) ?? "",
                    tokensValue: here?.tokens ?? own.maxTokensPerMinute.map(String.init) ?? "",
                    requestsError: here?.fields["requests"], tokensError: here?.fields["tokens"],
                    rowError: here?.form))
        }
        let listed = rows.contains { $0.id == refused?.project }
        let view = LimitsView(
            layout: frame.layout, tier: tier.name, organization: ScopeLimits(tier.organization),
            projectDefault: ScopeLimits(tier.project), perKey: ScopeLimits(tier.key), projects: rows,
            isOwner: isOwner,
            pageError: listed ? nil : refused.map { $0.form ?? $0.fields.values.sorted().joined(separator: " ") })
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
