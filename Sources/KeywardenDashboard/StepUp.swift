import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP
import NIOCore

/// "Confirm it's you": what a signed-in form meets when its action needs a recent sign-in and the
/// session's is older. The page keeps every field of the refused form, so confirming sends the
/// same form again to the same path with the password (or, with two-factor authentication on, an
/// authentication code); ``PageMiddleware`` checks that first, and the action then carries on.
struct StepUp: Sendable {
    let accounts: AccountService
    let forms: FormGuard
    let renderer: PageRenderer

    /// The confirm page's password field.
    static let passwordField = "reauth_password"
    /// The confirm page's authentication code field.
    static let codeField = "reauth_code"

    /// What a posted form said about confirming.
    enum Outcome {
        /// It did not answer the confirm page: the action runs as it is.
        case notAsked
        /// It answered, and the password or code was right: the session counts as just signed in
        /// and the action runs, its form without the answer.
        case confirmed
        /// It answered wrongly: the confirm page again, saying why; the action does not run.
        case refused(Response)
    }

    /// The confirm page as it is shown.
    struct View: Sendable {
        let layout: Layout
        /// The path the refused form was sent to, which the confirmed one is sent to again.
        let action: String
        /// The refused form's fields, sent again as they were.
        let carried: [CarriedField]
        /// Whether an authentication code may confirm instead of the password.
        let twoFactor: Bool
        let errors: FieldErrors
    }

    /// One field of the refused form.
    struct CarriedField: Sendable {
        let name: String
        let value: String
    }

    /// Checks the answer to the confirm page that a signed-in POST carries, if it carries one: the
    /// form's origin and token first, then the password or code. Once confirmed, the answer is
    /// taken out of `request`'s body, which must have been collected already.
    ///
    /// - Throws: ``PageRefusal`` for a foreign origin or a wrong form token.
    func confirm(_ request: inout Request, context: KeywardenRequestContext) async throws -> Outcome {
        guard let identity = context.identity, let session = identity.session else { return .notAsked }
        let sent = try await Self.fields(of: request)
        guard Self.answers(sent) else { return .notAsked }
        let fields = try await forms.form(request, expectedToken: context.formToken)
        do {
            _ = try await accounts.reauthenticate(
                session: session, user: identity.user, password: fields[Self.passwordField],
                code: fields[Self.codeField], clientAddress: context.clientAddress)
        } catch let refusal as DomainError where refusal.kind != .internal && refusal.kind != .unavailable {
            let status: HTTPResponse.Status = refusal.kind == .rateLimited ? .tooManyRequests : .badRequest
            return .refused(
                try await page(for: request, fields: fields, context: context, refusal: refusal, status: status))
        }
        let kept = fields.pairs.filter { !Self.isAnswer($0.0) }
        request.body = RequestBody(buffer: ByteBuffer(string: FormEncoding.encode(kept)))
        return .confirmed
    }

    /// The confirm page for a POST refused for want of a recent sign-in, carrying its fields.
    func page(for request: Request, context: KeywardenRequestContext) async throws -> Response {
        try await page(for: request, fields: try await Self.fields(of: request), context: context, status: .forbidden)
    }

    /// The confirm page carrying `fields`, with `refusal` of the answer placed where it belongs.
    func page(
        for request: Request, fields: FormFields, context: KeywardenRequestContext, refusal: DomainError? = nil,
        status: HTTPResponse.Status
    ) async throws -> Response {
        let signedIn = try PageContext(context: context)
        let twoFactor = try await accounts.twoFactorStatus(of: signedIn.identity.user).enabled
        let carried = fields.pairs.filter { $0.0 != "csrf_token" && !Self.isAnswer($0.0) }
        let query = request.uri.query.map { "?" + $0 } ?? ""
        let view = View(
            layout: .signedIn(
                title: "Confirm it's you", path: request.uri.path, context: signedIn, projects: [],
                selectedProject: nil, assets: renderer.assets, flash: nil),
            action: localPath(request.uri.path + query),
            carried: carried.map { CarriedField(name: $0.0, value: $0.1) }, twoFactor: twoFactor,
            errors: refusal.map { Self.errors(for: $0, twoFactor: twoFactor) } ?? FieldErrors())
        return renderer.page("confirm-its-you", view, status: status)
    }

    /// Where a refusal of the answer is said: next to the password or the code field, or above
    /// the form for a code while only the password is offered.
    static func errors(for refusal: DomainError, twoFactor: Bool) -> FieldErrors {
        switch refusal.param {
        case "password"? where refusal.code == .missingRequiredParameter:
            let sentence = twoFactor ? PageSentences.enterPasswordOrCode : PageSentences.enterPassword
            return FieldErrors(field: passwordField, sentence: sentence)
        case "password"?:
            return FieldErrors(field: passwordField, sentence: PageSentences.sentence(for: refusal))
        case "code"? where twoFactor:
            return FieldErrors(field: codeField, sentence: PageSentences.authenticationCodeSentence(for: refusal))
        default:
            // Too many attempts are said next to the field they were made with.
            if refusal.code == .tooManyMfaAttempts, twoFactor {
                return FieldErrors(field: codeField, sentence: PageSentences.sentence(for: refusal))
            }
            if refusal.code == .tooManyLoginAttempts {
                return FieldErrors(field: passwordField, sentence: PageSentences.sentence(for: refusal))
            }
            return FieldErrors(form: PageSentences.sentence(for: refusal))
        }
    }

    /// Whether a form answers the confirm page.
    static func answers(_ fields: FormFields) -> Bool {
        fields.pairs.contains { isAnswer($0.0) }
    }

    /// Whether `name` is a field of the confirm page's own answer.
    static func isAnswer(_ name: String) -> Bool {
        name == passwordField || name == codeField
    }

    /// The fields of a POST whose body was collected; reading them leaves the body to be read again.
    static func fields(of request: Request) async throws -> FormFields {
        let body = try await request.body.collect(upTo: ManagementAPI.maxBodyBytes)
        return FormFields(FormEncoding.decode(String(buffer: body)))
    }
}

extension DomainError {
    /// Whether this refusal asks for a recent sign-in, which ``PageMiddleware`` answers with
    /// "Confirm it's you": a page that shows refusals itself lets it through.
    var needsStepUp: Bool { code == .reauthenticationRequired }
}
