import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// The built-in test provider's own pages, standing in for a payment provider's checkout: the
/// card page (with the confirmation step of the cards that ask for one) and the confirmation page
/// of a charge. They exist only with the test provider, answer only the owners of the
/// organization whose setup or purchase they are for (anyone else gets 404, as for an unknown
/// reference), and say on every screen that no real card is charged. They send the person back to the absolute URLs
/// Keywarden gave the provider.
///
/// A card number is never shown back and never put in a URL or a log: a refused card is asked for
/// again in an empty field, forms post it, and the request log names only the method and path.
struct TestCheckoutPages: Sendable {
    let dashboard: Dashboard
    let provider: TestPaymentProvider

    /// The card form, while the page waits for a card.
    struct CardForm: Sendable {
        /// The expiry as typed (the number and security code are never shown back).
        let expiry: String
        let errors: FieldErrors
    }

    /// The confirmation step of a card that asks for one.
    struct ConfirmationStep: Sendable {
        let last4: String
        let errors: FieldErrors
    }

    /// The card page.
    struct CardView: Sendable {
        let layout: Layout
        let reference: String
        let cancelURL: String
        let card: CardForm?
        let confirming: ConfirmationStep?
    }

    /// A charge's confirmation page.
    struct PaymentView: Sendable {
        let layout: Layout
        let reference: String
        let amount: String
        let last4: String
        let errors: FieldErrors
    }

    func addRoutes(to signedIn: RouterGroup<PageContext>) {
        signedIn.get("/test-checkout/payments/{reference}", use: paymentPage)
        signedIn.post("/test-checkout/payments/{reference}", use: answerPayment)
        signedIn.get("/test-checkout/{reference}", use: cardPage)
        signedIn.post("/test-checkout/{reference}", use: submitCard)
        signedIn.post("/test-checkout/{reference}/confirm", use: confirmCard)
    }

    // MARK: The card page

    /// The card form, or the confirmation step; a finished page sends the person back.
    @Sendable func cardPage(_ request: Request, context: PageContext) async throws -> Response {
        let reference = try context.parameters.require("reference")
        guard let checkout = provider.checkout(reference), try await isOwn(checkout, context) else {
            return notFound(request)
        }
        switch checkout.stage {
        case .finished:
            throw PageRedirect.to(checkout.returnURL, flash: nil)
        case .enteringCard:
            return render(checkout, context: context, card: CardForm(expiry: "", errors: FieldErrors()))
        case .confirming(let last4):
            return render(checkout, context: context, confirming: ConfirmationStep(last4: last4, errors: FieldErrors()))
        }
    }

    /// "Save card": a card the page cannot take is asked for again, the sentence next to its
    /// field; otherwise back to Keywarden, or on to the confirmation step.
    @Sendable func submitCard(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let reference = try context.parameters.require("reference")
        guard let checkout = provider.checkout(reference), try await isOwn(checkout, context) else {
            return notFound(request)
        }
        let expiry = fields["expiry"] ?? ""
        let submitted = Result { () throws(TestPaymentProvider.CardRefusal) in
            try provider.submitCard(
                reference: reference, number: fields["number"] ?? "", expiry: expiry, cvc: fields["cvc"] ?? "")
        }
        switch submitted {
        case .failure(let refusal):
            let errors = FieldErrors(field: refusal.field, sentence: refusal.message)
            return render(
                checkout, context: context, card: CardForm(expiry: expiry, errors: errors), status: .badRequest)
        case .success(let after?) where after.stage == .finished:
            throw PageRedirect.to(after.returnURL, flash: nil)
        case .success:
            // The confirmation step, or the page as it stands when it took no card.
            throw PageRedirect.to(Self.cardPath(reference), flash: nil)
        }
    }

    /// The confirmation step's answer: Complete saves the card, Fail refuses it.
    @Sendable func confirmCard(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let reference = try context.parameters.require("reference")
        guard let checkout = provider.checkout(reference), try await isOwn(checkout, context) else {
            return notFound(request)
        }
        guard let approve = Self.decision(fields["decision"]) else {
            guard case .confirming(let last4) = checkout.stage else {
                throw PageRedirect.to(Self.cardPath(reference), flash: nil)
            }
            let step = ConfirmationStep(last4: last4, errors: FieldErrors(form: PageSentences.checkoutDecision))
            return render(checkout, context: context, confirming: step, status: .badRequest)
        }
        guard let finished = provider.confirmSetup(reference: reference, approve: approve) else {
            // Nothing waited for an answer: the page as it stands.
            throw PageRedirect.to(Self.cardPath(reference), flash: nil)
        }
        throw PageRedirect.to(finished.returnURL, flash: nil)
    }

    // MARK: A charge's confirmation

    /// The charge waiting for the person; one already answered sends them back.
    @Sendable func paymentPage(_ request: Request, context: PageContext) async throws -> Response {
        let reference = try context.parameters.require("reference")
        guard let charge = provider.pendingCharge(reference), try await isOwn(charge, context) else {
            return notFound(request)
        }
        guard charge.awaitingConfirmation else { throw PageRedirect.to(charge.returnURL, flash: nil) }
        return render(charge, context: context)
    }

    /// Complete charges the card, Fail declines the charge; then back to Keywarden.
    @Sendable func answerPayment(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let reference = try context.parameters.require("reference")
        guard let charge = provider.pendingCharge(reference), try await isOwn(charge, context) else {
            return notFound(request)
        }
        guard let approve = Self.decision(fields["decision"]) else {
            let errors = FieldErrors(form: PageSentences.checkoutDecision)
            return render(charge, context: context, errors: errors, status: .badRequest)
        }
        // Answered already: back to Keywarden all the same.
        let back = provider.confirmCharge(reference: reference, approve: approve) ?? charge.returnURL
        throw PageRedirect.to(back, flash: nil)
    }

    // MARK: Whose page

    func isOwn(_ checkout: TestPaymentProvider.Checkout, _ context: PageContext) async throws -> Bool {
        try await dashboard.services.billing.hasSetup(checkout.setup, for: context.membership)
    }

    func isOwn(_ charge: TestPaymentProvider.PendingCharge, _ context: PageContext) async throws -> Bool {
        (try? await dashboard.services.billing.purchase(charge.purchase.rawValue, for: context.membership)) != nil
    }

    // MARK: Views

    func render(
        _ checkout: TestPaymentProvider.Checkout, context: PageContext, card: CardForm? = nil,
        confirming: ConfirmationStep? = nil, status: HTTPResponse.Status = .ok
    ) -> Response {
        let view = CardView(
            layout: layout(context), reference: checkout.reference, cancelURL: checkout.cancelURL, card: card,
            confirming: confirming)
        return dashboard.renderer.page("test-checkout", view, status: status)
    }

    func render(
        _ charge: TestPaymentProvider.PendingCharge, context: PageContext, errors: FieldErrors = FieldErrors(),
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let currency = charge.currency
        let view = PaymentView(
            layout: layout(context), reference: charge.reference,
            amount: currency.format(micros: currency.micros(minorUnits: charge.amountMinorUnits) ?? 0),
            last4: charge.last4, errors: errors)
        return dashboard.renderer.page("test-checkout-payment", view, status: status)
    }

    /// The provider's pages stand apart from the dashboard: no nav, no switchers.
    func layout(_ context: PageContext) -> Layout {
        Layout.signedOut(title: "Test checkout", assets: dashboard.renderer.assets, formToken: context.formToken)
    }

    func notFound(_ request: Request) -> Response {
        dashboard.renderer.errorPage(status: .notFound, heading: "Page not found", request: request)
    }

    /// The card page's address.
    static func cardPath(_ reference: String) -> String {
        "/test-checkout/" + FormEncoding.escape(reference)
    }

    /// A confirmation's answer: `complete` approves, `fail` declines; anything else is neither.
    static func decision(_ raw: String?) -> Bool? {
        switch raw {
        case "complete": true
        case "fail": false
        default: nil
        }
    }
}
