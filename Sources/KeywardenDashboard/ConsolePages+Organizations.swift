import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// Organizations: the search, and one organization's detail with its actions (suspend or
/// unsuspend, reset verification, set the tier, grant credits), each a form of its own.
extension ConsolePages {
    static let organizationsPath = "/admin/organizations"

    func addOrganizationRoutes(to signedIn: RouterGroup<PageContext>) {
        let one = Self.organizationsPath + "/{organization_id}"
        get(Self.organizationsPath, in: signedIn, use: searchOrganizations)
        get(one, in: signedIn, use: organizationDetail)
        post(one + "/suspend", in: signedIn, use: suspend)
        post(one + "/unsuspend", in: signedIn, use: unsuspend)
        post(one + "/reset-verification", in: signedIn, use: resetVerification)
        post(one + "/tier", in: signedIn, use: setTier)
        post(one + "/credits", in: signedIn, use: grantCredits)
    }

    // MARK: Search

    @Sendable func searchOrganizations(_ request: Request, context: OperatorContext) async throws -> Response {
        let query = request.formQuery("q")
        var rows: [OrganizationRow] = []
        var queryError: String?
        var status = HTTPResponse.Status.ok
        do {
            rows = try await console.search(query).map(OrganizationRow.init)
        } catch let refusal as DomainError where refusal.kind == .invalidRequest {
            queryError = PageSentences.sentence(for: refusal)
            status = .badRequest
        }
        let frame = try await dashboard.consoleFrame("Organizations", request: request, console: context)
        let view = SearchView(
            layout: frame.layout, query: query, queryError: queryError, rows: rows, hasRows: !rows.isEmpty)
        return dashboard.page("admin-organizations", view, frame: frame, status: status)
    }

    // MARK: Detail

    @Sendable func organizationDetail(_ request: Request, context: OperatorContext) async throws -> Response {
        try await renderDetail(request, context: context)
    }

    /// Renders the detail page; a refused action shows its form again with what it held.
    func renderDetail(
        _ request: Request, context: OperatorContext, refused: ActionRefusal? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let id = try context.page.parameters.require("organization_id")
        let detail = try await console.detail(id)
        let organization = detail.organization
        let currency = console.currency
        let now = dashboard.services.clock.now()
        let pinned = detail.pinnedTier
        let chosenTier = refused?.typed("tier", in: .setTier) ?? pinned ?? Self.earnedTier
        let frame = try await dashboard.consoleFrame(organization.name, request: request, console: context)
        let view = DetailView(
            layout: frame.layout, id: organization.id.rawValue, name: organization.name,
            created: UTCTime.minutes(organization.createdAt),
            verification: VerificationFacts(organization.verification),
            suspended: organization.suspension != nil,
            suspendedAt: organization.suspension.map { UTCTime.minutes($0.suspendedAt) },
            suspendedBecause: organization.suspension?.reason, tierName: SettingsPages.tierTitle(detail.tier),
            tierPinned: pinned != nil, members: detail.members.map(MemberRow.init),
            keys: detail.keys.map { KeyRow($0, now: now) }, hasKeys: !detail.keys.isEmpty, requests: detail.requests,
            tokens: detail.tokens, cost: currency.format(micros: detail.costNanos / 1000),
            balance: currency.format(micros: detail.balanceMicros), sharingNumber: detail.organizationsSharingNumber,
            sharingCard: detail.organizationsSharingCard,
            supportRequests: detail.supportRequests.map(SupportPages.RequestRow.init),
            hasSupportRequests: !detail.supportRequests.isEmpty,
            suspendForm: ReasonForm(
                reason: refused?.typed("reason", in: .suspend) ?? "", error: refused?.error("reason", in: .suspend)),
            resetForm: ReasonForm(
                reason: refused?.typed("reason", in: .resetVerification) ?? "",
                error: refused?.error("reason", in: .resetVerification)),
            tiers: console.tierNames.map {
                TierChoice(value: $0, label: SettingsPages.tierTitle($0), selected: $0 == chosenTier)
            },
            tierEarned: chosenTier == Self.earnedTier, tierError: refused?.error("tier", in: .setTier),
            creditsForm: CreditsForm(
                amount: refused?.typed("amount", in: .grantCredits) ?? "",
                reason: refused?.typed("reason", in: .grantCredits) ?? "",
                amountError: refused?.error("amount", in: .grantCredits),
                reasonError: refused?.error("reason", in: .grantCredits)),
            pageError: refused?.errors.form)
        return dashboard.page("admin-organization", view, frame: frame, status: status)
    }

    /// The tier form's value for "Earned by payment": no pinned tier.
    static let earnedTier = "default"

    // MARK: Actions

    @Sendable func suspend(_ request: Request, context: OperatorContext) async throws -> Response {
        try await act(request, context: context, .suspend) { fields, id in
            let organization = try await console.suspend(
                id, reason: fields["reason"], by: context.user, clientAddress: context.clientAddress)
            return "Suspended: \(organization.name). Its API keys are refused from their next call."
        }
    }

    @Sendable func unsuspend(_ request: Request, context: OperatorContext) async throws -> Response {
        try await act(request, context: context, .unsuspend) { _, id in
            let organization = try await console.unsuspend(id, by: context.user, clientAddress: context.clientAddress)
            return "Unsuspended: \(organization.name). Its API keys work again."
        }
    }

    @Sendable func resetVerification(_ request: Request, context: OperatorContext) async throws -> Response {
        try await act(request, context: context, .resetVerification) { fields, id in
            try await console.resetVerification(
                id, reason: fields["reason"], by: context.user, clientAddress: context.clientAddress)
            return "Verification reset: the organization is unverified."
        }
    }

    @Sendable func setTier(_ request: Request, context: OperatorContext) async throws -> Response {
        try await act(request, context: context, .setTier) { fields, id in
            try await console.setTier(id, tier: fields["tier"], by: context.user, clientAddress: context.clientAddress)
            return "Tier saved."
        }
    }

    @Sendable func grantCredits(_ request: Request, context: OperatorContext) async throws -> Response {
        try await act(request, context: context, .grantCredits) { fields, id in
            let entry = try await console.grantCredits(
                id, amount: fields["amount"], reason: fields["reason"], by: context.user,
                clientAddress: context.clientAddress)
            return "Granted \(console.currency.format(micros: entry.amountMicros))."
        }
    }

    /// Reads the form, runs `body` on the organization in the path and goes back to its page with
    /// the flash `body` returns; a refusal shows the page again, the sentence next to its field.
    func act(
        _ request: Request, context: OperatorContext, _ action: Action,
        _ body: (FormFields, String) async throws -> String
    ) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.page.formToken)
        let id = try context.page.parameters.require("organization_id")
        let flash: String
        do {
            flash = try await body(fields, id)
        } catch let refusal as DomainError
            where refusal.kind != .internal && refusal.kind != .unavailable && refusal.kind != .notFound
        {
            return try await renderDetail(
                request, context: context,
                refused: ActionRefusal(action: action, fields: fields, errors: Self.errors(refusal, of: action)),
                status: SettingsPages.status(for: refusal))
        }
        throw PageRedirect.to(Self.organizationsPath + "/" + FormEncoding.escape(id), flash: flash)
    }

    /// Where the refusal of `action` is said.
    static func errors(_ refusal: DomainError, of action: Action) -> FieldErrors {
        switch action {
        case .suspend:
            return FieldErrors(
                refusal, fields: ["reason"], whenMissing: ["reason": PageSentences.suspendReasonMissing])
        case .unsuspend:
            return FieldErrors(form: PageSentences.sentence(for: refusal))
        case .resetVerification:
            return FieldErrors(refusal, fields: ["reason"])
        case .setTier:
            // The tier is the form's one field, so a tier that is not configured is said beside it.
            if refusal.code == .unknownTier {
                return FieldErrors(field: "tier", sentence: PageSentences.tierChoice)
            }
            return FieldErrors(refusal, fields: ["tier"])
        case .grantCredits:
            return FieldErrors(
                refusal, fields: ["amount", "reason"], whenMissing: ["amount": PageSentences.grantAmountMissing])
        }
    }
}
