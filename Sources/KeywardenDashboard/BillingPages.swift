import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// Settings → Billing: the balance, the saved cards ("Add payment method" on the provider's page,
/// "Remove"), "Add credits", auto-recharge and the history. Owners only, as the service decides:
/// a reader sees its refusal in words.
///
/// The person's return from the provider's card page lands here too (``setupReturn``): a card
/// saved for an unverified organization goes on to the phone step inside this flow (path A,
/// ``BillingPhoneStep``), and then, as for a verified one, to "Add credits".
struct BillingPages: Sendable {
    let dashboard: Dashboard

    /// The Billing page.
    static let path = "/settings/organization/billing"
    /// The "Add credits" step.
    static let creditsPath = "/settings/organization/billing/credits"
    /// Ledger entries on one page of the history.
    static let historyPageSize = 20

    /// The page an "Add credits" form was sent from (its `origin` field), where a refusal is shown.
    enum Origin: String {
        case billing
        case credits
    }

    var billing: BillingService { dashboard.services.billing }
    var currency: BillingCurrency { billing.settings.currency }

    func addRoutes(to signedIn: RouterGroup<PageContext>) {
        signedIn.get("/settings/organization/billing", use: billingPage)
        signedIn.post("/settings/organization/billing/payment-methods", use: addPaymentMethod)
        signedIn.post("/settings/organization/billing/payment-methods/{payment_method_id}/remove", use: removeCard)
        signedIn.get("/settings/organization/billing/return", use: setupReturn)
        signedIn.get("/settings/organization/billing/credits", use: creditsPage)
        signedIn.post("/settings/organization/billing/credits", use: buyCredits)
        signedIn.get("/settings/organization/billing/purchases/{purchase_id}/return", use: purchaseReturn)
        signedIn.post("/settings/organization/billing/auto-recharge", use: saveAutoRecharge)
        BillingPhoneStep(dashboard: dashboard).addRoutes(to: signedIn)
        if let provider = dashboard.services.testPayments {
            TestCheckoutPages(dashboard: dashboard, provider: provider).addRoutes(to: signedIn)
        }
    }

    // MARK: Cards

    /// The Billing page; `?canceled=` when the person left the card page without a card.
    @Sendable func billingPage(_ request: Request, context: PageContext) async throws -> Response {
        try await renderBilling(
            request, context: context, setup: SetupNotice(canceled: request.uri.queryParameters["canceled"] != nil))
    }

    /// "Add payment method": opens the provider's card page and sends the person there, at the
    /// absolute URL the provider gave.
    @Sendable func addPaymentMethod(_ request: Request, context: PageContext) async throws -> Response {
        _ = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let setup: BillingSetup
        do {
            setup = try await billing.startSetup(by: requester(context))
        } catch let refusal as DomainError where Self.isShown(refusal) {
            return try await renderBilling(
                request, context: context, setup: SetupNotice(error: sentence(for: refusal)), status: refusal.status)
        }
        return try await leave(
            to: setup.url, heading: "Add payment method",
            sentence: "Your card is entered on the payment provider's page; Keywarden never sees its number.",
            request: request, context: context)
    }

    /// The return from the card page: how the visit ended, and the next step of the flow.
    @Sendable func setupReturn(_ request: Request, context: PageContext) async throws -> Response {
        let id = request.uri.queryParameters["setup"].map(String.init) ?? ""
        let setup: BillingSetup
        do {
            setup = try await billing.finishSetup(id, by: requester(context))
        } catch let refusal as DomainError where Self.isShown(refusal) {
            return try await renderBilling(
                request, context: context, setup: SetupNotice(error: sentence(for: refusal)), status: refusal.status)
        }
        switch setup.status {
        case .complete:
            // Path A: an unverified organization verifies a phone number before it buys credits.
            if context.membership.organization.verification.status == .unverified {
                throw PageRedirect.to(BillingPhoneStep.pagePath, flash: nil)
            }
            throw PageRedirect.to(Self.creditsPath, flash: "Your card is saved.")
        case .failed:
            let refusal = Self.refusal(ending: setup, settings: billing.settings)
            return try await renderBilling(
                request, context: context,
                setup: SetupNotice(error: setup.failureMessage ?? sentence(for: refusal)), status: refusal.status)
        case .open:
            return try await renderBilling(request, context: context, setup: SetupNotice(openURL: setup.url))
        case .expired:
            return try await renderBilling(request, context: context, setup: SetupNotice(expired: true), status: .gone)
        }
    }

    /// "Remove": the card is no longer charged. The browser's script confirms first and says so
    /// (`confirmed=yes`); without it, a confirmation page of its own comes first.
    @Sendable func removeCard(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let id = try context.parameters.require("payment_method_id")
        do {
            guard fields["confirmed"] == "yes" else {
                let overview = try await billing.overview(for: context.membership)
                guard let card = overview.paymentMethods.first(where: { $0.id.rawValue == id }) else {
                    throw DomainError.paymentMethodNotFound(id)
                }
                let frame = try await dashboard.frame("Remove card", request: request, context: context)
                let view = RemoveCardView(layout: frame.layout, card: PaymentMethodRow(card))
                return dashboard.page("billing-remove", view, frame: frame)
            }
            try await billing.removePaymentMethod(id, by: requester(context))
        } catch let refusal as DomainError where Self.isShown(refusal) {
            return try await renderBilling(
                request, context: context, setup: SetupNotice(error: sentence(for: refusal)), status: refusal.status)
        }
        throw PageRedirect.to(Self.path, flash: "Card removed.")
    }

    // MARK: Auto-recharge

    /// "Save auto-recharge": the checkbox and three amounts typed as money.
    @Sendable func saveAutoRecharge(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let enabled = fields["enabled"] != nil
        let typed = ["threshold", "amount", "monthly_cap"].map { ($0, fields[$0] ?? "") }
        func refused(_ errors: FieldErrors, status: HTTPResponse.Status) async throws -> Response {
            let values = Dictionary(uniqueKeysWithValues: typed)
            let form = AutoRechargeForm(
                enabled: enabled, threshold: values["threshold"] ?? "", amount: values["amount"] ?? "",
                monthlyCap: values["monthly_cap"] ?? "", custom: true, errors: errors)
            return try await renderBilling(request, context: context, autoRecharge: form, status: status)
        }
        var minorUnits: [String: Int64] = [:]
        var unreadable: [String: String] = [:]
        for (name, text) in typed {
            if let micros = currency.parse(text) {
                minorUnits[name] = currency.minorUnits(micros: micros)
            } else {
                unreadable[name] = PageSentences.moneyAmount(example: fieldText(billing.settings.minimumPurchaseMicros))
            }
        }
        guard unreadable.isEmpty else {
            return try await refused(FieldErrors(sentences: unreadable), status: .badRequest)
        }
        do {
            _ = try await billing.setAutoRecharge(
                enabled: enabled, thresholdMinorUnits: minorUnits["threshold"], amountMinorUnits: minorUnits["amount"],
                monthlyCapMinorUnits: minorUnits["monthly_cap"], by: requester(context))
        } catch let refusal as DomainError where Self.isShown(refusal) {
            return try await refused(
                self.errors(for: refusal, fields: ["threshold", "amount", "monthly_cap"]), status: refusal.status)
        }
        throw PageRedirect.to(Self.path, flash: "Auto-recharge saved.")
    }

    // MARK: The page

    /// The Billing page, with what a refused form typed and a refusal where it belongs.
    func renderBilling(
        _ request: Request, context: PageContext, credits: CreditsForm? = nil, autoRecharge: AutoRechargeForm? = nil,
        setup: SetupNotice = SetupNotice(), purchase: PurchaseNotice? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let frame = try await dashboard.frame("Billing", request: request, context: context)
        let overview: BillingOverview
        do {
            overview = try await billing.overview(for: context.membership)
        } catch let refusal as DomainError where refusal.code == .insufficientPermissions {
            let view = BillingView(layout: frame.layout, refusal: sentence(for: refusal), billing: nil)
            return dashboard.page("settings-billing", view, frame: frame, status: refusal.status)
        }
        let after = request.uri.queryParameters["after"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        var history = Page<LedgerEntry>(items: [], hasMore: false)
        var historyError: String?
        do {
            history = try await billing.transactions(
                for: context.membership, after: after, limit: Self.historyPageSize)
        } catch let refusal as DomainError where Self.isShown(refusal) {
            historyError = sentence(for: refusal)
        }
        let next = history.hasMore ? history.items.last.map { Self.historyPath(after: $0.id) } : nil
        let auto = overview.autoRecharge
        let summary = BillingSummary(
            testMode: overview.testMode, balance: currency.format(micros: overview.balanceMicros),
            paymentMethods: overview.paymentMethods.map(PaymentMethodRow.init),
            hasPaymentMethods: !overview.paymentMethods.isEmpty, setup: setup, purchase: purchase,
            credits: credits ?? newCreditsForm(), minimum: currency.format(micros: overview.minimumPurchaseMicros),
            maximum: currency.format(micros: overview.maximumPurchaseMicros),
            autoRecharge: autoRecharge
                ?? AutoRechargeForm(
                    enabled: auto.enabled, threshold: fieldText(auto.thresholdMicros),
                    amount: fieldText(auto.amountMicros), monthlyCap: fieldText(auto.monthlyCapMicros),
                    custom: overview.autoRechargeIsCustom, errors: FieldErrors()),
            history: history.items.map { HistoryRow($0, currency: currency) }, hasHistory: !history.items.isEmpty,
            historyError: historyError, nextHref: next, firstHref: after == nil ? nil : Self.path + "#history")
        let view = BillingView(layout: frame.layout, refusal: nil, billing: summary)
        return dashboard.page("settings-billing", view, frame: frame, status: status)
    }

    // MARK: Helpers

    /// The history's page after the entry `id`.
    static func historyPath(after id: LedgerEntryID) -> String {
        path + "?after=" + FormEncoding.escape(id.rawValue) + "#history"
    }

    /// Whether a refusal is shown on the page in words: every one but a failure of ours, and
    /// those "Confirm it's you" answers.
    static func isShown(_ refusal: DomainError) -> Bool {
        refusal.kind != .internal && !refusal.needsStepUp
    }

    /// The refusal a failed card setup ended with, as the API answers it: the card limit, or the
    /// card refused.
    static func refusal(ending setup: BillingSetup, settings: BillingSettings) -> DomainError {
        if setup.failureCode == DomainError.Code.paymentMethodLimitReached.rawValue {
            return .paymentMethodLimitReached(settings.maxOrganizationsPerCard)
        }
        return .paymentMethodRefused(setup.failureMessage ?? PageSentences.cardNotSaved)
    }

    /// The sentence a billing page shows for `refusal`.
    func sentence(for refusal: DomainError) -> String {
        PageSentences.billing(refusal, settings: billing.settings)
    }

    /// `refusal` next to the field its `param` names when that is one of `names`, else above the form.
    func errors(for refusal: DomainError, fields names: Set<String>) -> FieldErrors {
        if let param = refusal.param, names.contains(param) {
            return FieldErrors(field: param, sentence: sentence(for: refusal))
        }
        return FieldErrors(form: sentence(for: refusal))
    }

    /// An "Add credits" form holding the default purchase, with a key of its own.
    func newCreditsForm(errors: FieldErrors = FieldErrors()) -> CreditsForm {
        CreditsForm(
            amount: fieldText(billing.settings.defaultPurchaseMicros), idempotencyKey: Self.newIdempotencyKey(),
            errors: errors)
    }

    /// A fresh idempotency key for a form that buys: the same form sent twice buys once.
    static func newIdempotencyKey() -> String {
        SecureRandom.base62(length: 24)
    }

    /// An amount as a form field holds it, such as `10.00`: no currency sign and no grouping, so
    /// the currency reads it back as it was.
    func fieldText(_ micros: Int64) -> String {
        let minor = currency.minorUnits(micros: micros)
        let sign = minor < 0 ? "-" : ""
        guard currency.minorDigits > 0 else { return sign + String(minor.magnitude) }
        var scale: UInt64 = 1
        for _ in 0..<currency.minorDigits { scale *= 10 }
        let fraction = String(minor.magnitude % scale)
        return sign + String(minor.magnitude / scale) + "."
            + String(repeating: "0", count: currency.minorDigits - fraction.count) + fraction
    }

    /// Who asks, as the JSON API's billing routes build it.
    func requester(_ context: PageContext) -> BillingService.Requester {
        BillingService.Requester(
            membership: context.membership, user: context.identity.user, clientAddress: context.clientAddress)
    }
}
