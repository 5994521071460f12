import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// Settings → Phone (path B): an owner proves a phone number with a code sent by text message
/// (or by WhatsApp, where the operator offers it), which verifies the chosen organization for
/// creating keys. The step itself is ``PhoneStepHost``'s, shared with the billing flow.
struct PhonePages: PhoneStepHost {
    let dashboard: Dashboard

    /// The page's own paths, which the phone step's forms post to.
    let actions = PhoneStep.Actions(
        send: "/settings/account/phone", verify: "/settings/account/phone/verify",
        resend: "/settings/account/phone/resend", another: "/settings/account/phone")
    let path = VerificationPath.phone
    var verifiedLocation: String { actions.send }
    let verifiedFlash = "Your phone number is verified. You can now create API keys."

    /// The phone page as shown.
    struct PageView: Sendable {
        let layout: Layout
        /// The organization's standing, when it is verified or exempt.
        let verified: VerifiedView?
        /// The phone step, for an owner.
        let phone: PhoneStep?
        /// The organization is unverified and this person is not an owner, so cannot verify it.
        let ownerNeeded: Bool
    }

    /// A verified or exempt organization's facts.
    struct VerifiedView: Sendable {
        let exempt: Bool
        let maskedNumber: String?
        /// When it was verified, in UTC.
        let verifiedAt: String?

        /// The facts of `verification`; `nil` while unverified.
        init?(_ verification: OrganizationVerification) {
            guard verification.status != .unverified else { return nil }
            exempt = verification.status == .exempt
            maskedNumber = verification.maskedPhoneNumber
            verifiedAt = verification.verifiedAt.map(UTCTime.minutes)
        }
    }

    func addRoutes(to signedIn: RouterGroup<PageContext>) {
        signedIn.get("/settings/account/phone", use: show)
        signedIn.post("/settings/account/phone", use: send)
        signedIn.post("/settings/account/phone/verify", use: verify)
        signedIn.post("/settings/account/phone/resend", use: resend)
    }

    // MARK: Views

    /// Renders the page: the organization's facts once verified, the phone step for an owner,
    /// and for anyone else the sentence that an owner must verify.
    func render(
        _ request: Request, context: PageContext, phone: PhoneStep?, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let frame = try await dashboard.frame("Phone", request: request, context: context)
        let verification = context.membership.organization.verification
        let owner = context.membership.allows(.verifyPhone)
        // The number form carries the CAPTCHA widget when one is required: its script loads then.
        let captcha = owner ? phone?.numberForm?.captcha : nil
        var layout = frame.layout
        layout.captchaScript = captcha?.scriptURL
        let view = PageView(
            layout: layout, verified: VerifiedView(verification), phone: owner ? phone : nil,
            ownerNeeded: !owner && verification.status == .unverified)
        return Dashboard.allowingCaptcha(captcha, in: dashboard.page("phone", view, frame: frame, status: status))
    }
}
