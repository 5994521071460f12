import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// A page that includes the phone step: Settings → Phone (path B) and the billing flow (path A).
/// The step is handled the same way on each; a host says where the step's forms post, which way
/// the person came (recorded with the verification), where a verified organization goes next,
/// and shows the step inside its own page.
///
/// The code step's verification id travels in the page's query (`?verification=pv_...`): an id
/// is not a secret, and the page reads the verification through the service, which only finds
/// the chosen organization's own.
protocol PhoneStepHost: Sendable {
    var dashboard: Dashboard { get }
    /// Where the step's forms post; `send` is also the address of the page that shows the step.
    var actions: PhoneStep.Actions { get }
    /// The way the person came to verify, recorded in the audit log.
    var path: VerificationPath { get }
    /// Where the person goes once the code verified the organization.
    var verifiedLocation: String { get }
    /// What they are told there.
    var verifiedFlash: String { get }

    /// The page around the step as it stands: `phone` is `nil` when the organization is no longer
    /// unverified, or when the person may not verify it.
    func render(
        _ request: Request, context: PageContext, phone: PhoneStep?, status: HTTPResponse.Status
    ) async throws -> Response
}

extension PhoneStepHost {
    var verifications: PhoneVerificationService { dashboard.services.verifications }

    // MARK: Handlers

    /// The code step of the verification the query names, or the number step; for an
    /// organization that is verified or exempt, the page without the step.
    @Sendable func show(_ request: Request, context: PageContext) async throws -> Response {
        guard context.membership.organization.verification.status == .unverified else {
            return try await render(request, context: context, phone: nil, status: .ok)
        }
        if let id = request.uri.queryParameters["verification"].map(String.init),
            let verification = try await stored(id, context: context)
        {
            switch verification.status {
            case .pending:
                return try await render(request, context: context, phone: codeStep(verification), status: .ok)
            case .expired:
                return try await render(
                    request, context: context, phone: numberStep(errors: ended(.gone, .verificationExpired)),
                    status: .ok)
            case .maxAttemptsReached:
                return try await render(
                    request, context: context, phone: numberStep(errors: ended(.rateLimited, .maxAttemptsReached)),
                    status: .ok)
            case .approved, .canceled, .failed:
                break
            }
        }
        return try await render(request, context: context, phone: numberStep(), status: .ok)
    }

    /// "Send code": screens the number and sends a code by the chosen channel, then shows the
    /// code step.
    @Sendable func send(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let number = fields["phone_number"] ?? ""
        let country = fields["country"]
        let channel = fields["channel"]
        let verification: PhoneVerification
        do {
            verification = try await verifications.start(
                phoneNumber: number, country: country, channel: channel,
                humanCheckResponse: verifications.humanCheck.widget.flatMap { fields[$0.formField] }, path: path,
                by: requester(context))
        } catch let refusal as DomainError {
            var errors = FieldErrors(refusal, fields: ["phone_number", "country"])
            if refusal.code == .invalidValue, refusal.param == "channel" { errors = channelRefused() }
            return try await render(
                request, context: context,
                phone: numberStep(phoneNumber: number, country: country, channel: channel, errors: errors),
                status: refusal.status)
        }
        throw PageRedirect.to(
            codePath(verification),
            flash: "We sent a code\(byChannel(verification)) to \(verification.maskedPhoneNumber).")
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
        throw PageRedirect.to(verifiedLocation, flash: verifiedFlash)
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
            codePath(verification),
            flash: "We sent the code again\(byChannel(verification)) to \(verification.maskedPhoneNumber).")
    }

    // MARK: Steps

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

    func numberStep(
        phoneNumber: String = "", country: String? = nil, channel: String? = nil, errors: FieldErrors = FieldErrors()
    ) -> PhoneStep {
        PhoneStep.number(
            actions: actions, allowedCountries: verifications.allowedCountries,
            whatsappCountries: verifications.whatsappCountries, phoneNumber: phoneNumber, country: country,
            channel: channel, errors: errors, captcha: verifications.humanCheck.widget)
    }

    func codeStep(_ verification: PhoneVerification, errors: FieldErrors = FieldErrors()) -> PhoneStep {
        PhoneStep.code(actions: actions, verification: verification, service: verifications, errors: errors)
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

    /// A refused channel: said next to the choice, naming the countries WhatsApp is offered for,
    /// or above the form when there is no choice to put it by.
    func channelRefused() -> FieldErrors {
        let offered = PhoneStep.channelChoice(
            whatsapp: verifications.whatsappCountries, allowed: verifications.allowedCountries, chosen: nil)
        let sentence = PageSentences.whatsappNotOffered(offered: offered?.whatsappCountries)
        return offered == nil ? FieldErrors(form: sentence) : FieldErrors(field: "channel", sentence: sentence)
    }

    /// How the code went, for a flash: nothing for a text message, the usual way.
    func byChannel(_ verification: PhoneVerification) -> String {
        verification.channel == .whatsapp ? " by WhatsApp" : ""
    }

    /// The code step's address for `verification`.
    func codePath(_ verification: PhoneVerification) -> String {
        actions.send + "?verification=" + FormEncoding.escape(verification.id.rawValue)
    }

    /// Who asks, as the JSON API's phone verification routes build it.
    func requester(_ context: PageContext) -> PhoneVerificationService.Requester {
        PhoneVerificationService.Requester(
            membership: context.membership, user: context.identity.user, clientAddress: context.clientAddress)
    }
}
