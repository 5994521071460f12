import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// The operator console (`/admin`): the support queue, organizations, verification insights, the
/// prefix guard and the audit log of every organization, in the dashboard's layout with a nav of
/// its own. Every page and form first lets ``OperatorContext`` check the operator role and
/// two-factor authentication; every action is audited with the operator and their address.
struct ConsolePages: Sendable {
    let dashboard: Dashboard

    /// What a console page does once the person is known to be an operator.
    typealias Handler = @Sendable (Request, OperatorContext) async throws -> Response

    var console: ConsoleService { dashboard.services.console }

    func addRoutes(to signedIn: RouterGroup<PageContext>) {
        get("/admin", in: signedIn) { _, _ in PageMiddleware.redirect(to: Self.queuePath) }
        get(Self.queuePath, in: signedIn, use: supportQueue)
        post(Self.queuePath + "/{request_id}/approve", in: signedIn, use: approve)
        post(Self.queuePath + "/{request_id}/decline", in: signedIn, use: decline)
        addOrganizationRoutes(to: signedIn)
        addInsightRoutes(to: signedIn)
        addPrefixGuardRoutes(to: signedIn)
        addAuditLogRoutes(to: signedIn)
    }

    // MARK: Opening the console

    /// Registers a console page.
    func get(_ path: String, in group: RouterGroup<PageContext>, use handler: @escaping Handler) {
        group.get(RouterPath(path)) { request, context -> Response in
            try await admit(request, context: context, handler)
        }
    }

    /// Registers a console form's action.
    func post(_ path: String, in group: RouterGroup<PageContext>, use handler: @escaping Handler) {
        group.post(RouterPath(path)) { request, context -> Response in
            try await admit(request, context: context, handler)
        }
    }

    /// Runs `handler` for an operator with two-factor authentication on. Anyone else gets the
    /// refusal's sentence (403, from ``PageMiddleware``); an operator without two-factor
    /// authentication gets the page that says to turn it on.
    func admit(_ request: Request, context: PageContext, _ handler: Handler) async throws -> Response {
        let operatorContext: OperatorContext
        do {
            operatorContext = try await OperatorContext.authorize(context, console: console)
        } catch let refusal as DomainError where refusal.code == .mfaRequired {
            return try await twoFactorNeeded(request, context: context)
        }
        return try await handler(request, operatorContext)
    }

    /// The page of an operator who has not turned two-factor authentication on.
    struct TwoFactorNeededView: Sendable {
        let layout: Layout
        let securityPath: String
    }

    func twoFactorNeeded(_ request: Request, context: PageContext) async throws -> Response {
        let frame = try await dashboard.frame("Operator console", request: request, context: context, isOperator: true)
        let view = TwoFactorNeededView(layout: frame.layout, securityPath: SecurityPages.path)
        return dashboard.page("admin-two-factor", view, frame: frame, status: .forbidden)
    }

    // MARK: Support queue

    static let queuePath = "/admin/support"
    /// Requests on one page of the queue.
    static let queuePageSize = 50

    /// One request in the queue.
    struct QueueRow: Sendable {
        let id: String
        let organizationID: String
        let organizationName: String
        let email: String
        let reasonLabel: String
        let details: String
        let filed: String
        let open: Bool
        /// Who decided it, and why it was declined.
        let decidedBy: String?
        let declineReason: String?
        /// What the decline field holds, and why a decline was refused.
        let declineTyped: String
        let declineError: String?
    }

    /// The Support queue page.
    struct QueueView: Sendable {
        let layout: Layout
        /// Which status the queue shows (its filter link is marked current).
        let showingOpen: Bool
        let showingApproved: Bool
        let showingDeclined: Bool
        let rows: [QueueRow]
        let hasRows: Bool
        /// The status shown, for the empty list's sentence.
        let statusName: String
        let nextHref: String?
        let pageError: String?
    }

    /// A decline the page refused: of which request, what was typed, and why.
    struct DeclineRefusal: Sendable {
        let id: String
        let typed: String
        let errors: FieldErrors
    }

    @Sendable func supportQueue(_ request: Request, context: OperatorContext) async throws -> Response {
        try await renderQueue(request, context: context)
    }

    /// "Approve": the organization becomes exempt (or, for an appeal, is no longer suspended).
    @Sendable func approve(_ request: Request, context: OperatorContext) async throws -> Response {
        _ = try await dashboard.forms.form(request, expectedToken: context.page.formToken)
        let id = try context.page.parameters.require("request_id")
        let decided: SupportRequest
        do {
            decided = try await console.support.approve(id, by: context.user, clientAddress: context.clientAddress)
        } catch let refusal as DomainError where refusal.kind != .internal && refusal.kind != .unavailable {
            return try await renderQueue(
                request, context: context, pageError: PageSentences.sentence(for: refusal),
                status: SettingsPages.status(for: refusal))
        }
        let name = try await console.organization(decided.organizationID.rawValue).name
        let flash =
            decided.reason == .suspensionAppeal
            ? "Approved: \(name) is no longer suspended." : "Approved: \(name) is exempt now."
        throw PageRedirect.to(Self.queuePath, flash: flash)
    }

    /// "Decline", with the reason the owners are told.
    @Sendable func decline(_ request: Request, context: OperatorContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.page.formToken)
        let id = try context.page.parameters.require("request_id")
        let typed = fields["reason"] ?? ""
        do {
            _ = try await console.support.decline(
                id, reason: typed, by: context.user, clientAddress: context.clientAddress)
        } catch let refusal as DomainError where refusal.kind != .internal && refusal.kind != .unavailable {
            let errors = FieldErrors(
                refusal, fields: ["reason"], whenMissing: ["reason": PageSentences.declineReasonMissing])
            return try await renderQueue(
                request, context: context, declined: DeclineRefusal(id: id, typed: typed, errors: errors),
                status: SettingsPages.status(for: refusal))
        }
        throw PageRedirect.to(Self.queuePath, flash: "Declined.")
    }

    /// The queue in the status the query names (open by default), a page at a time.
    func renderQueue(
        _ request: Request, context: OperatorContext, declined: DeclineRefusal? = nil, pageError: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let query = request.uri.queryParameters
        let rawStatus = query["status"].map { String($0) } ?? ""
        let rawAfter = query["after"].map { String($0) } ?? ""
        var status = status
        var pageError = pageError ?? declined?.errors.form
        var shown = SupportRequest.Status.open
        if !rawStatus.isEmpty {
            if let chosen = SupportRequest.Status(rawValue: rawStatus) {
                shown = chosen
            } else {
                pageError = PageSentences.queueStatus
                status = .badRequest
            }
        }
        var after: SupportRequestID?
        if !rawAfter.isEmpty {
            after = SupportRequestID(rawAfter)
            if after == nil {
                pageError = PageSentences.sentence(for: DomainError.unknownCursor)
                status = .badRequest
            }
        }
        var page = Page<SupportRequest>(items: [], hasMore: false)
        do {
            page = try await console.support.queue(status: shown, after: after, limit: Self.queuePageSize)
        } catch let refusal as DomainError where refusal.kind != .internal && refusal.kind != .unavailable {
            pageError = PageSentences.sentence(for: refusal)
            status = SettingsPages.status(for: refusal)
        }
        var names: [OrganizationID: String] = [:]
        for item in page.items where names[item.organizationID] == nil {
            names[item.organizationID] = (try? await console.organization(item.organizationID.rawValue))?.name
        }
        let rows = page.items.map { item in
            let refused = declined?.id == item.id.rawValue ? declined : nil
            return QueueRow(
                id: item.id.rawValue, organizationID: item.organizationID.rawValue,
                organizationName: names[item.organizationID] ?? item.organizationID.rawValue, email: item.email,
                reasonLabel: item.reason.label, details: item.details, filed: UTCTime.minutes(item.createdAt),
                open: item.status == .open, decidedBy: item.decidedBy, declineReason: item.declineReason,
                declineTyped: refused?.typed ?? "", declineError: refused?.errors.fields["reason"])
        }
        var next: String?
        if page.hasMore, let last = page.items.last {
            next =
                Self.queuePath + "?" + FormEncoding.encode([("status", shown.rawValue), ("after", last.id.rawValue)])
        }
        let frame = try await dashboard.consoleFrame("Support queue", request: request, console: context)
        let view = QueueView(
            layout: frame.layout, showingOpen: shown == .open, showingApproved: shown == .approved,
            showingDeclined: shown == .declined, rows: rows, hasRows: !rows.isEmpty, statusName: shown.rawValue,
            nextHref: next, pageError: pageError)
        return dashboard.page("admin-support", view, frame: frame, status: status)
    }
}
