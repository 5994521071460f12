import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// The billing flow's phone step (path A): once a card is saved for an unverified organization,
/// the same phone step as Settings → Phone, on billing's own paths and recorded as the billing
/// path; a verified organization goes on to "Add credits".
struct BillingPhoneStep: PhoneStepHost {
    let dashboard: Dashboard

    /// The step's page, which its number form posts to.
    static let pagePath = "/settings/organization/billing/phone"

    let actions = PhoneStep.Actions(
        send: "/settings/organization/billing/phone", verify: "/settings/organization/billing/phone/verify",
        resend: "/settings/organization/billing/phone/resend", another: "/settings/organization/billing/phone")
    let path = VerificationPath.billing
    var verifiedLocation: String { BillingPages.creditsPath }
    let verifiedFlash = "Your phone number is verified. You can now create API keys."

    func addRoutes(to signedIn: RouterGroup<PageContext>) {
        signedIn.get("/settings/organization/billing/phone", use: show)
        signedIn.post("/settings/organization/billing/phone", use: send)
        signedIn.post("/settings/organization/billing/phone/verify", use: verify)
        signedIn.post("/settings/organization/billing/phone/resend", use: resend)
    }

    /// The step's page for an unverified organization: the step for an owner, for anyone else the
    /// sentence that an owner must verify. A verified or exempt organization goes on to "Add credits".
    func render(
        _ request: Request, context: PageContext, phone: PhoneStep?, status: HTTPResponse.Status
    ) async throws -> Response {
        guard context.membership.organization.verification.status == .unverified else {
            throw PageRedirect.to(BillingPages.creditsPath, flash: nil)
        }
        let frame = try await dashboard.frame("Verify a phone number", request: request, context: context)
        let owner = context.membership.allows(.verifyPhone)
        var cardSaved = false
        if context.membership.allows(.manageBilling) {
            cardSaved = !(try await dashboard.services.billing.overview(for: context.membership).paymentMethods.isEmpty)
        }
        // The number form carries the CAPTCHA widget when one is required: its script loads then.
        let captcha = owner ? phone?.numberForm?.captcha : nil
        var layout = frame.layout
        layout.captchaScript = captcha?.scriptURL
        let view = BillingPhoneView(
            layout: layout, phone: owner ? phone : nil, ownerNeeded: !owner, cardSaved: cardSaved)
        return Dashboard.allowingCaptcha(
            captcha, in: dashboard.page("billing-phone", view, frame: frame, status: status))
    }
}
