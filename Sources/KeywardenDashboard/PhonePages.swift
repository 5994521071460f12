import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// Settings → Phone (path B): an owner proves a phone number with a code sent by SMS, which
/// verifies the chosen organization for creating keys.
///
/// The code step's verification id travels in the page's query (`?verification=pv_...`): an id
/// is not a secret, and the page reads the verification through the service, which only finds
/// the chosen organization's own.
struct PhonePages: Sendable {
    let dashboard: Dashboard

    /// The page's own paths, which the phone step's forms post to.
    static let actions = PhoneStep.Actions(
        send: "/settings/account/phone", verify: "/settings/account/phone/verify",
        resend: "/settings/account/phone/resend", another: "/settings/account/phone")

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

    private var verifications: PhoneVerificationService { dashboard.services.verifications }

    // MARK: Handlers

    /// The verified facts, the code step of the verification the query names, or the number step.
    @Sendable func show(_ request: Request, context: PageContext) async throws -> Response {
        guard context.membership.organization.verification.status == .unverified else {
            return try await render(request, context: context, phone: nil)
        }
        if let id = request.uri.queryParameters["verification"].map(String.init),
            let verification = try await stored(id, context: context)
        {
            switch verification.status {
            case .pending:
                return try await render(request, context: context, phone: codeStep(verification))
            case .expired:
                return try await render(
                    request, context: context, phone: numberStep(errors: ended(.gone, .verificationExpired)))
            case .maxAttemptsReached:
                return try await render(
                    request, context: context, phone: numberStep(errors: ended(.rateLimited, .maxAttemptsReached)))
            case .approved, .canceled, .failed:
                break
            }
        }
        return try await render(request, context: context, phone: numberStep())
    }

    /// "Send code": screens the number and sends a code, then shows the code step.
    @Sendable func send(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let number = fields["phone_number"] ?? ""
        let country = fields["country"]
        let verification: PhoneVerification
        do {
            verification = try await verifications.start(
                phoneNumber: number, country: country, channel: nil,
                humanCheckResponse: verifications.humanCheck.widget.flatMap { fields[$0.formField] },
                by: requester(context))
        } catch let refusal as DomainError {
            let errors = FieldErrors(refusal, fields: ["phone_number", "country"])
            return try await render(
                request, context: context, phone: numberStep(phoneNumber: number, country: country, errors: errors),
                status: refusal.status)
        }
        throw PageRedirect.to(
            Self.codePath(verification), flash: "We sent a code to \(verification.maskedPhoneNumber).")
    }

    /// "Verify": checks the code; the right one verifies the organization.
    @Sendable func verify(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let id = fields["verification"] ?? ""
        do {
            _ = try await verifications.check(id: id, code: fields["code"] ?? "", by: requester(context))
        } catch let refusal as DomainError {
            return try await refused(refusal, verification: id, field: "code", request: request, context: context)
        }
        throw PageRedirect.to(
            Self.actions.send, flash: "Your phone number is verified. You can now create API keys.")
    }

    /// "Resend code": the same code again once the cooldown is over; before that, how long is left.
    @Sendable func resend(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let id = fields["verification"] ?? ""
        let verification: PhoneVerification
        do {
            verification = try await verifications.resend(id: id, by: requester(context))
        } catch let refusal as DomainError {
            return try await refused(refusal, verification: id, field: "resend", request: request, context: context)
        }
        throw PageRedirect.to(
            Self.codePath(verification), flash: "We sent the code again to \(verification.maskedPhoneNumber).")
    }

    // MARK: Views

    /// A refused check or resend: the code step again while the verification can still take a
    /// code, with the sentence next to `field`; otherwise the number step, saying why to start again.
    func refused(
        _ refusal: DomainError, verification id: String, field: String, request: Request, context: PageContext
    ) async throws -> Response {
        if refusal.code == .insufficientPermissions {
            return try await render(request, context: context, phone: nil, status: refusal.status)
        }
        let sentence = PageSentences.sentence(for: refusal)
        guard let verification = try await stored(id, context: context), verification.status == .pending else {
            return try await render(
                request, context: context, phone: numberStep(errors: FieldErrors(form: sentence)),
                status: refusal.status)
        }
        let errors: FieldErrors
        if refusal.code == .incorrectCode {
            let left = max(0, verifications.maxChecks - verification.attempts)
            errors = FieldErrors(field: "code", sentence: PageSentences.incorrectCode(remaining: left))
        } else {
            errors = FieldErrors(field: refusal.param == "code" ? "code" : field, sentence: sentence)
        }
        return try await render(
            request, context: context, phone: codeStep(verification, errors: errors), status: refusal.status)
    }

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

    func numberStep(
        phoneNumber: String = "", country: String? = nil, errors: FieldErrors = FieldErrors()
    ) -> PhoneStep {
        PhoneStep.number(
            actions: Self.actions, allowedCountries: verifications.allowedCountries, phoneNumber: phoneNumber,
            country: country, errors: errors, captcha: verifications.humanCheck.widget)
    }

    func codeStep(_ verification: PhoneVerification, errors: FieldErrors = FieldErrors()) -> PhoneStep {
        PhoneStep.code(actions: Self.actions, verification: verification, service: verifications, errors: errors)
    }

    /// The sentence for a verification that has ended with `code`, above the number form.
    func ended(_ kind: DomainError.Kind, _ code: DomainError.Code) -> FieldErrors {
        FieldErrors(form: PageSentences.sentence(for: DomainError(kind, code: code, message: "")))
    }

    // MARK: Helpers

    /// The organization's verification `id`, expired first if its time is up; `nil` when the
    /// organization has none by that id.
    func stored(_ id: String, context: PageContext) async throws -> PhoneVerification? {
        do {
            return try await verifications.verification(id: id, in: context.membership)
        } catch let refusal as DomainError where refusal.code == .verificationNotFound {
            return nil
        }
    }

    /// The code step's address for `verification`.
    static func codePath(_ verification: PhoneVerification) -> String {
        actions.send + "?verification=" + FormEncoding.escape(verification.id.rawValue)
    }

    /// Who asks, as the JSON API's phone verification routes build it.
    func requester(_ context: PageContext) -> PhoneVerificationService.Requester {
        PhoneVerificationService.Requester(
            membership: context.membership, user: context.identity.user, clientAddress: context.clientAddress)
    }
}
