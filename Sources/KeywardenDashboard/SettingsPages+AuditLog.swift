import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

extension SettingsPages {
    /// Events on one page of the audit log.
    static let auditPageSize = 50

    /// One choice of the "Event type" filter.
    struct EventTypeChoice: Sendable {
        let value: String
        let selected: Bool
    }

    /// One `key=value` of an event's details.
    struct Detail: Sendable {
        let key: String
        let value: String
    }

    /// One event as the table shows it.
    struct EventRow: Sendable {
        let time: String
        /// The time for `<time datetime>`.
        let timestamp: String
        let type: String
        /// A person's email address (or, without one, their user id).
        let actorEmail: String?
        let byOperator: Bool
        let bySystem: Bool
        let byAPIKey: Bool
        /// An actor type this version has no words for.
        let actorOther: String?
        let details: [Detail]

        init(_ event: AuditEvent) {
            let shown = UTCTime.seconds(event.effectiveAt)
            time = shown
            timestamp = shown.replacingOccurrences(of: " ", with: "T") + "Z"
            type = event.type.rawValue
            let actor = event.actor
            actorEmail = actor.type == "session" ? actor.email ?? actor.userID ?? "" : nil
            byOperator = actor.type == "operator"
            bySystem = actor.type == "system"
            byAPIKey = actor.type == "api_key"
            actorOther = ["session", "operator", "system", "api_key"].contains(actor.type) ? nil : actor.type
            details = event.details.sorted { $0.key < $1.key }.map { Detail(key: $0.key, value: $0.value) }
        }
    }

    /// The Audit log page.
    struct AuditLogView: Sendable {
        let layout: Layout
        let types: [EventTypeChoice]
        /// The filters as typed, for the form and the links.
        let from: String
        let to: String
        /// Sentences next to the filter fields (`type`, `from`, `to`).
        let fieldErrors: [String: String]
        /// A sentence about no one field, such as a cursor that names nothing.
        let formError: String?
        /// Whether the filters were refused, so no events are shown.
        let refused: Bool
        let events: [EventRow]
        /// The next page's link, when older events follow.
        let olderHref: String?
        /// The first page's link, on a later page.
        let newestHref: String?
    }

    /// The filters of the audit log as the form sent them (`type`, `from`, `to`) and the cursor (`after`).
    struct AuditFilters: Sendable {
        var type: String = ""
        var from: String = ""
        var to: String = ""

        /// The query string of these filters, with `after` when given.
        func query(after: String? = nil) -> String {
            var fields: [(String, String)] = []
            if !type.isEmpty { fields.append(("type", type)) }
            if !from.isEmpty { fields.append(("from", from)) }
            if !to.isEmpty { fields.append(("to", to)) }
            if let after { fields.append(("after", after)) }
            return fields.isEmpty ? "" : "?" + FormEncoding.encode(fields)
        }
    }

    @Sendable func auditLog(_ request: Request, context: PageContext) async throws -> Response {
        let query = request.uri.queryParameters
        func text(_ name: String) -> String {
            query[Substring(name)].map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
        }
        let filters = AuditFilters(type: text("type"), from: text("from"), to: text("to"))
        guard context.membership.allows(.readAuditLog) else {
            // As `GET /v1/organization/audit_logs`: the log names every project, so owners only.
            return try await renderAuditLog(
                request, context: context, filters: filters,
                formError: PageSentences.sentence(for: DomainError.insufficientRole("read the audit log")),
                status: .forbidden)
        }
        let after = text("after")
        var fieldErrors: [String: String] = [:]
        var type: AuditEventType?
        if !filters.type.isEmpty {
            type = AuditEventType(rawValue: filters.type)
            if type == nil { fieldErrors["type"] = PageSentences.eventType }
        }
        var start: Date?
        if !filters.from.isEmpty {
            start = UTCDay(parsing: filters.from)?.start
            if start == nil { fieldErrors["from"] = PageSentences.day }
        }
        var end: Date?
        if !filters.to.isEmpty {
            // The To day is included: events until the start of the day after it.
            end = UTCDay(parsing: filters.to)?.start.addingTimeInterval(TimeInterval(UTCDay.secondsPerDay))
            if end == nil {
                fieldErrors["to"] = PageSentences.day
            } else if let start, let end, end <= start {
                fieldErrors["to"] = PageSentences.dayOrder
            }
        }
        guard fieldErrors.isEmpty else {
            return try await renderAuditLog(
                request, context: context, filters: filters, fieldErrors: fieldErrors, status: .badRequest)
        }
        do {
            var cursor: AuditEventID?
            if !after.isEmpty {
                guard let id = AuditEventID(after) else { throw DomainError.unknownCursor }
                cursor = id
            }
            let page = try await services.audit.events(
                in: context.membership.organization.id, types: type.map { [$0] }, from: start, until: end,
                after: cursor, limit: Self.auditPageSize)
            let older = page.hasMore ? page.items.last.map { filters.query(after: $0.id.rawValue) } : nil
            return try await renderAuditLog(
                request, context: context, filters: filters, events: page.items.map(EventRow.init),
                olderHref: older.map { "/settings/organization/audit-log" + $0 },
                newestHref: cursor == nil ? nil : "/settings/organization/audit-log" + filters.query())
        } catch let refusal as DomainError {
            return try await renderAuditLog(
                request, context: context, filters: filters, formError: PageSentences.sentence(for: refusal),
                status: Self.status(for: refusal))
        }
    }

    func renderAuditLog(
        _ request: Request, context: PageContext, filters: AuditFilters, fieldErrors: [String: String] = [:],
        formError: String? = nil, events: [EventRow] = [], olderHref: String? = nil, newestHref: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let frame = try await dashboard.frame("Audit log", request: request, context: context)
        let types = AuditEventType.allCases.map {
            EventTypeChoice(value: $0.rawValue, selected: $0.rawValue == filters.type)
        }
        let view = AuditLogView(
            layout: frame.layout, types: types, from: filters.from, to: filters.to, fieldErrors: fieldErrors,
            formError: formError, refused: status != .ok, events: events, olderHref: olderHref,
            newestHref: newestHref)
        return dashboard.page("settings-audit-log", view, frame: frame, status: status)
    }
}
