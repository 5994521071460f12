import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// The audit log of every organization and of the console itself, newest first, filtered by
/// organization and event type, a page at a time.
extension ConsolePages {
    static let auditLogPath = "/admin/audit-log"
    /// Events on one page.
    static let auditPageSize = 50

    func addAuditLogRoutes(to signedIn: RouterGroup<PageContext>) {
        get(Self.auditLogPath, in: signedIn, use: consoleAuditLog)
    }

    /// One event as the table shows it.
    struct ConsoleEventRow: Sendable {
        let time: String
        /// The time for `<time datetime>`.
        let timestamp: String
        /// `nil` for the console's own events.
        let organizationID: String?
        let type: String
        /// The actor's email address, or their user id, or the key's id.
        let actorName: String?
        let byPerson: Bool
        let byOperator: Bool
        let bySystem: Bool
        let byAPIKey: Bool
        /// An actor type this version has no words for.
        let actorOther: String?
        let details: [SettingsPages.Detail]

        init(_ event: ConsoleAuditEvent) {
            let shown = UTCTime.seconds(event.effectiveAt)
            time = shown
            timestamp = shown.replacingOccurrences(of: " ", with: "T") + "Z"
            organizationID = event.organizationID?.rawValue
            type = event.type
            let actor = event.actor
            actorName = actor.email ?? actor.userID
            byPerson = actor.type == "session"
            byOperator = actor.type == "operator"
            bySystem = actor.type == "system"
            byAPIKey = actor.type == "api_key"
            actorOther = ["session", "operator", "system", "api_key"].contains(actor.type) ? nil : actor.type
            details = event.details.sorted { $0.key < $1.key }.map {
                SettingsPages.Detail(key: $0.key, value: $0.value)
            }
        }
    }

    /// The console's Audit log page.
    struct ConsoleAuditLogView: Sendable {
        let layout: Layout
        /// The filters as typed (named apart from the rows' fields, which a row without an
        /// organization would otherwise find here).
        let organizationFilter: String
        let typeFilter: String
        /// Sentences next to the filter fields (`organization_id`, `type`).
        let fieldErrors: [String: String]
        /// A sentence about no one field, such as a cursor that names nothing.
        let formError: String?
        let events: [ConsoleEventRow]
        let hasEvents: Bool
        /// The filters were refused, so no events are shown.
        let refused: Bool
        /// The next page's link, when older events follow.
        let olderHref: String?
        /// The first page's link, on a later page.
        let newestHref: String?
    }

    @Sendable func consoleAuditLog(_ request: Request, context: OperatorContext) async throws -> Response {
        func text(_ name: String) -> String {
            request.formQuery(name).trimmingWhitespace()
        }
        let organization = text("organization_id")
        let type = text("type")
        let after = text("after")
        var fieldErrors: [String: String] = [:]
        var formError: String?
        var status = HTTPResponse.Status.ok
        var events: [ConsoleEventRow] = []
        var older: String?
        do {
            let page = try await console.auditLog(
                organization: organization, type: type, after: after, limit: Self.auditPageSize)
            events = page.items.map(ConsoleEventRow.init)
            if page.hasMore, let last = page.items.last {
                older = Self.auditLogPath + Self.auditQuery(organization, type, after: last.id.rawValue)
            }
        } catch let refusal as DomainError where refusal.kind != .internal && refusal.kind != .unavailable {
            switch refusal.param {
            case "organization_id"?: fieldErrors["organization_id"] = PageSentences.organizationIDFilter
            case "type"?: fieldErrors["type"] = PageSentences.sentence(for: refusal)
            default: formError = PageSentences.sentence(for: refusal)
            }
            status = SettingsPages.status(for: refusal)
        }
        let frame = try await dashboard.consoleFrame("Audit log", request: request, console: context)
        let view = ConsoleAuditLogView(
            layout: frame.layout, organizationFilter: organization, typeFilter: type, fieldErrors: fieldErrors,
            formError: formError, events: events, hasEvents: !events.isEmpty, refused: status != .ok,
            olderHref: older,
            newestHref: after.isEmpty ? nil : Self.auditLogPath + Self.auditQuery(organization, type))
        return dashboard.page("admin-audit-log", view, frame: frame, status: status)
    }

    /// The query string of the filters, with `after` when given.
    static func auditQuery(_ organization: String, _ type: String, after: String? = nil) -> String {
        var fields: [(String, String)] = []
        if !organization.isEmpty { fields.append(("organization_id", organization)) }
        if !type.isEmpty { fields.append(("type", type)) }
        if let after { fields.append(("after", after)) }
        return fields.isEmpty ? "" : "?" + FormEncoding.encode(fields)
    }
}
