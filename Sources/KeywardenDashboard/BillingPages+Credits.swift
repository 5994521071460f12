import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// "Add credits": the step after a card is saved (and the phone verified), the same form on the
/// Billing page, and the return from the bank's confirmation of a charge.
///
/// Every form carries an idempotency key made when it was shown, so sending it twice (a double
/// click, a reload) buys once; a refused purchase has ended, so the form shown again carries a
/// new key and sending it is a new attempt.
extension BillingPages {
    @Sendable func creditsPage(_ request: Request, context: PageContext) async throws -> Response {
        try await renderCredits(request, context: context)
    }

    /// "Add credits": charges the newest card. A charge the bank wants confirmed goes on at the
    /// provider's confirmation page; one that is declined is said above the form, and a refused
    /// amount next to the Amount field.
    @Sendable func buyCredits(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let typed = fields["amount"] ?? ""
        let origin = fields["origin"].flatMap(Origin.init(rawValue:)) ?? .credits
        func refused(_ errors: FieldErrors, status: HTTPResponse.Status) async throws -> Response {
            let form = CreditsForm(amount: typed, idempotencyKey: Self.newIdempotencyKey(), errors: errors)
            switch origin {
            case .billing: return try await renderBilling(request, context: context, credits: form, status: status)
            case .credits: return try await renderCredits(request, context: context, credits: form, status: status)
            }
        }
        guard let micros = currency.parse(typed) else {
            let example = fieldText(billing.settings.defaultPurchaseMicros)
            let errors = FieldErrors(field: "amount", sentence: PageSentences.moneyAmount(example: example))
            return try await refused(errors, status: .badRequest)
        }
        let purchase: CreditPurchase
        do {
            purchase = try await billing.buyCredits(
                amountMinorUnits: currency.minorUnits(micros: micros), paymentMethod: nil,
                idempotencyKey: fields["idempotency_key"].flatMap { $0.isEmpty ? nil : $0 }, by: requester(context))
        } catch let refusal as DomainError where Self.isShown(refusal) {
            return try await refused(self.errors(for: refusal, fields: ["amount"]), status: refusal.status)
        }
        switch purchase.status {
        case .succeeded:
            throw PageRedirect.to(Self.path, flash: purchasedFlash(purchase))
        case .requiresAction where purchase.actionURL != nil:
            return try await leave(
                to: purchase.actionURL ?? Self.path, heading: "Confirm the payment",
                sentence: "Your bank asks you to confirm this payment on its own page.", request: request,
                context: context)
        case .pending, .requiresAction:
            // The return page asks the provider again and says where the charge stands.
            throw PageRedirect.to(Self.returnPath(of: purchase), flash: nil)
        case .failed:
            // The same form sent again answers its purchase, which had failed.
            return try await refused(
                FieldErrors(form: purchase.failureMessage ?? PageSentences.cardDeclined), status: .paymentRequired)
        }
    }

    /// The return from the bank's confirmation of a charge: credited, declined, or still waiting.
    @Sendable func purchaseReturn(_ request: Request, context: PageContext) async throws -> Response {
        let id = try context.parameters.require("purchase_id")
        let purchase: CreditPurchase
        do {
            purchase = try await billing.finishPurchase(id, by: requester(context))
        } catch let refusal as DomainError where Self.isShown(refusal) {
            return try await renderBilling(
                request, context: context, credits: newCreditsForm(errors: FieldErrors(form: sentence(for: refusal))),
                status: refusal.status)
        }
        switch purchase.status {
        case .succeeded:
            throw PageRedirect.to(Self.path, flash: purchasedFlash(purchase))
        case .failed:
            return try await renderBilling(
                request, context: context,
                credits: newCreditsForm(
                    errors: FieldErrors(form: purchase.failureMessage ?? PageSentences.cardDeclined)),
                status: .paymentRequired)
        case .pending, .requiresAction:
            let notice = PurchaseNotice(
                amount: currency.format(micros: purchase.amountMicros),
                actionURL: purchase.status == .requiresAction ? purchase.actionURL : nil)
            return try await renderBilling(request, context: context, purchase: notice)
        }
    }

    /// The "Add credits" step: the balance, the card that is charged and the form.
    func renderCredits(
        _ request: Request, context: PageContext, credits: CreditsForm? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let overview: BillingOverview
        do {
            overview = try await billing.overview(for: context.membership)
        } catch let refusal as DomainError where refusal.code == .insufficientPermissions {
            // The Billing page says it in words.
            return try await renderBilling(request, context: context)
        }
        let frame = try await dashboard.frame("Add credits", request: request, context: context)
        let view = CreditsView(
            layout: frame.layout, testMode: overview.testMode, balance: currency.format(micros: overview.balanceMicros),
            card: overview.paymentMethods.last.map(PaymentMethodRow.init), credits: credits ?? newCreditsForm(),
            minimum: currency.format(micros: overview.minimumPurchaseMicros),
            maximum: currency.format(micros: overview.maximumPurchaseMicros))
        return dashboard.page("billing-credits", view, frame: frame, status: status)
    }

    /// Where the provider sends the person back after confirming a charge.
    static func returnPath(of purchase: CreditPurchase) -> String {
        "\(path)/purchases/\(FormEncoding.escape(purchase.id.rawValue))/return"
    }

    /// What the Billing page says once a purchase is credited.
    func purchasedFlash(_ purchase: CreditPurchase) -> String {
        "Added \(currency.format(micros: purchase.amountMicros)) of credit."
    }
}
