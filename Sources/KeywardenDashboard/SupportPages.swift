import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// Support: the organization's support requests and where each one is, and for an owner the form
/// that asks an operator for help: "Can't verify your phone?" while the organization is
/// unverified, "Appeal the suspension" while it is suspended. One request may be open at a time;
/// every member sees them.
struct SupportPages: Sendable {
    let dashboard: Dashboard

    static let path = "/support"

    var support: SupportService { dashboard.services.support }

    func addRoutes(to signedIn: RouterGroup<PageContext>) {
        signedIn.get(RouterPath(Self.path), use: show)
        signedIn.post(RouterPath(Self.path), use: file)
    }

    // MARK: Views

    /// One request as the members see it.
    struct RequestRow: Sendable {
        let id: String
        let open: Bool
        let approved: Bool
        let declined: Bool
        /// The reason as the form offered it.
        let reasonLabel: String
        let details: String
        /// When it was filed, in UTC.
        let filed: String
        /// What the operator wrote when declining it.
        let declineReason: String?

        init(_ request: SupportRequest) {
            id = request.id.rawValue
            open = request.status == .open
            approved = request.status == .approved
            declined = request.status == .declined
            reasonLabel = request.reason.label
            details = request.details
            filed = UTCTime.minutes(request.createdAt)
            declineReason = request.declineReason
        }
    }

    /// One choice of the form's "Reason".
    struct ReasonChoice: Sendable {
        let value: String
        let label: String
        let selected: Bool
    }

    /// The form, with what was typed and why it was refused.
    struct FilingForm: Sendable {
        /// The form appeals a suspension rather than asking to be let through without a phone.
        let appeal: Bool
        let reasons: [ReasonChoice]
        let details: String
        let errors: FieldErrors
    }

    /// The Support page.
    struct SupportView: Sendable {
        let layout: Layout
        /// Newest first.
        let requests: [RequestRow]
        let hasRequests: Bool
        /// A request is open: nothing more can be filed until an operator answers it.
        let hasOpenRequest: Bool
        /// The form, for an owner, when there is something to ask and no request is open.
        let form: FilingForm?
        /// There is something to ask, but only an owner may ask it.
        let ownerNeeded: Bool
        /// The organization can create keys and is not suspended, and nothing is open.
        let nothingToAsk: Bool
        /// A refusal about no one field.
        let pageError: String?
    }

    /// The form as it was sent.
    struct Typed: Sendable {
        let reason: String
        let details: String
    }

    // MARK: Handlers

    @Sendable func show(_ request: Request, context: PageContext) async throws -> Response {
        try await render(request, context: context)
    }

    /// "Send request": files the request, or shows the form again with what was typed and the
    /// refusal next to its field; nothing is saved then.
    @Sendable func file(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let typed = Typed(reason: fields["reason"] ?? "", details: fields["details"] ?? "")
        if SupportReason(rawValue: typed.reason) == nil {
            return try await render(
                request, context: context, typed: typed,
                errors: FieldErrors(field: "reason", sentence: PageSentences.supportReason), status: .badRequest)
        }
        let length = typed.details.trimmingWhitespace().count
        if length > SupportRequest.maxDetailsLength {
            return try await render(
                request, context: context, typed: typed,
                errors: FieldErrors(field: "details", sentence: PageSentences.supportDetailsTooLong(count: length)),
                status: .badRequest)
        }
        do {
            _ = try await support.file(
                reason: typed.reason, details: typed.details, membership: context.membership,
                user: context.identity.user, clientAddress: context.clientAddress)
        } catch let refusal as DomainError where refusal.kind != .internal && refusal.kind != .unavailable {
            return try await render(
                request, context: context, typed: typed,
                errors: FieldErrors(
                    refusal, fields: ["reason", "details"], whenMissing: ["reason": PageSentences.supportReason]),
                status: SettingsPages.status(for: refusal))
        }
        throw PageRedirect.to(Self.path, flash: "Your request was sent. An operator will answer by email.")
    }

    /// Renders the page; a refused form shows `typed` again with `errors`.
    func render(
        _ request: Request, context: PageContext, typed: Typed? = nil, errors: FieldErrors = FieldErrors(),
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let frame = try await dashboard.frame("Support", request: request, context: context)
        let requests = try await support.requests(for: context.membership)
        let organization = context.membership.organization
        let hasOpen = requests.contains { $0.status == .open }
        let appeal = organization.suspension != nil
        let askable = appeal || organization.verification.status == .unverified
        let owner = context.membership.allows(.verifyPhone)
        var form: FilingForm?
        if askable, !hasOpen, owner {
            // A suspended organization can only appeal; keys would be refused whatever its phone.
            let offered = appeal ? [SupportReason.suspensionAppeal] : SupportReason.verificationReasons
            let chosen = typed?.reason ?? offered[0].rawValue
            form = FilingForm(
                appeal: appeal,
                reasons: offered.map {
                    ReasonChoice(value: $0.rawValue, label: $0.label, selected: $0.rawValue == chosen)
                },
                details: typed?.details ?? "", errors: errors)
        }
        // A refusal with no form left to show it beside (a request opened meanwhile, a reader).
        let pageError = form == nil ? errors.form ?? errors.fields.values.first : nil
        let view = SupportView(
            layout: frame.layout, requests: requests.map(RequestRow.init), hasRequests: !requests.isEmpty,
            hasOpenRequest: hasOpen, form: form, ownerNeeded: askable && !hasOpen && !owner,
            nothingToAsk: !askable && !hasOpen, pageError: pageError)
        return dashboard.page("support", view, frame: frame, status: status)
    }
}
