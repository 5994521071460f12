import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// Settings → Security → two-factor authentication: setting up an authenticator app (its QR code,
/// drawn on the server, and its setup key, then a first code), the recovery codes shown once,
/// turning it off with a code, and new recovery codes. Beginning, turning off and new codes need a
/// recent sign-in; the page middleware asks for it ("Confirm it's you") and then carries on.
struct TwoFactorPages: Sendable {
    let dashboard: Dashboard

    /// The setup page; its form posts back to it.
    static let path = "/settings/security/two-factor"

    /// The setup page: what to scan or type, and the first code's field.
    struct EnrolmentView: Sendable {
        let layout: Layout
        /// The QR code of the authenticator URL as an `<svg>` element drawn here, the one value a
        /// template shows unescaped; `nil` when the URL is too long for a QR code.
        let qrCode: String?
        /// The setup key, in groups of four.
        let setupKey: String
        let errors: FieldErrors
    }

    /// "Save your recovery codes".
    struct RecoveryCodesView: Sendable {
        let layout: Layout
        let codes: [String]
        /// The codes came with turning two-factor authentication on, rather than replacing others.
        let turnedOn: Bool
    }

    func addRoutes(to signedIn: RouterGroup<PageContext>) {
        signedIn.post(RouterPath(Self.path + "/setup"), use: begin)
        signedIn.get(RouterPath(Self.path), use: enrolmentPage)
        signedIn.post(RouterPath(Self.path), use: turnOn)
        signedIn.post(RouterPath(Self.path + "/disable"), use: turnOff)
        signedIn.post(RouterPath(Self.path + "/recovery-codes"), use: regenerateRecoveryCodes)
    }

    private var accounts: AccountService { dashboard.services.accounts }

    // MARK: Handlers

    /// "Set up two-factor authentication": a new secret, shown on the setup page.
    @Sendable func begin(_ request: Request, context: PageContext) async throws -> Response {
        _ = try await dashboard.forms.form(request, expectedToken: context.formToken)
        do {
            _ = try await accounts.beginTwoFactorEnrolment(for: context.identity.user, session: context.session)
        } catch let refusal as DomainError where refusal.code == .mfaAlreadyEnabled {
            throw PageRedirect.to(SecurityPages.path, flash: PageSentences.sentence(for: refusal))
        }
        throw PageRedirect.to(Self.path, flash: nil)
    }

    /// The setup page of the enrolment begun. It shows the secret, so it needs a recent sign-in
    /// as beginning did; with none begun, back to the Security page.
    @Sendable func enrolmentPage(_ request: Request, context: PageContext) async throws -> Response {
        guard let enrolment = try await accounts.pendingTwoFactorEnrolment(for: context.identity.user) else {
            throw PageRedirect.to(SecurityPages.path, flash: nil)
        }
        try accounts.requireRecentSignIn(context.session)
        return try await render(enrolment, request: request, context: context)
    }

    /// "Turn on": the first code from the app; the recovery codes are shown once in the answer.
    @Sendable func turnOn(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let user = context.identity.user
        do {
            let codes = try await accounts.confirmTwoFactor(
                code: fields["code"] ?? "", for: user, clientAddress: context.clientAddress)
            return try await recoveryCodesPage(codes, turnedOn: true, request: request, context: context)
        } catch let refusal as DomainError where refusal.kind == .invalidRequest || refusal.kind == .rateLimited {
            guard let enrolment = try await accounts.pendingTwoFactorEnrolment(for: user) else {
                throw PageRedirect.to(SecurityPages.path, flash: nil)
            }
            let errors = FieldErrors(field: "code", sentence: PageSentences.authenticationCodeSentence(for: refusal))
            return try await render(
                enrolment, request: request, context: context, errors: errors,
                status: SettingsPages.status(for: refusal))
        } catch let refusal as DomainError where refusal.kind == .conflict {
            // Already on (from another tab), or no enrolment begun: the Security page says which.
            throw PageRedirect.to(SecurityPages.path, flash: PageSentences.sentence(for: refusal))
        }
    }

    /// "Turn off", with a current code or a recovery code.
    @Sendable func turnOff(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        do {
            try await accounts.disableTwoFactor(
                code: fields["code"] ?? "", for: context.identity.user, session: context.session,
                clientAddress: context.clientAddress)
        } catch let refusal as DomainError where refusal.kind == .invalidRequest || refusal.kind == .rateLimited {
            let errors = FieldErrors(field: "code", sentence: PageSentences.authenticationCodeSentence(for: refusal))
            return try await SecurityPages(dashboard: dashboard).render(
                request, context: context, twoFactorErrors: errors, status: SettingsPages.status(for: refusal))
        } catch let refusal as DomainError where refusal.code == .mfaNotEnabled {
            throw PageRedirect.to(SecurityPages.path, flash: PageSentences.sentence(for: refusal))
        }
        throw PageRedirect.to(SecurityPages.path, flash: "Two-factor authentication is off.")
    }

    /// "Generate new recovery codes": ten new ones, shown once; the old ones stop working.
    @Sendable func regenerateRecoveryCodes(_ request: Request, context: PageContext) async throws -> Response {
        _ = try await dashboard.forms.form(request, expectedToken: context.formToken)
        do {
            let codes = try await accounts.regenerateRecoveryCodes(
                for: context.identity.user, session: context.session, clientAddress: context.clientAddress)
            return try await recoveryCodesPage(codes, turnedOn: false, request: request, context: context)
        } catch let refusal as DomainError where refusal.code == .mfaNotEnabled {
            throw PageRedirect.to(SecurityPages.path, flash: PageSentences.sentence(for: refusal))
        }
    }

    // MARK: Views

    /// The setup page of `enrolment`, with a refusal of the code next to its field.
    func render(
        _ enrolment: TwoFactorEnrolment, request: Request, context: PageContext, errors: FieldErrors = FieldErrors(),
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let frame = try await dashboard.frame("Set up two-factor authentication", request: request, context: context)
        let view = EnrolmentView(
            layout: frame.layout, qrCode: Self.qrCode(of: enrolment.authenticatorURL),
            setupKey: enrolment.setupKey, errors: errors)
        return dashboard.page("settings-two-factor", view, frame: frame, status: status)
    }

    /// "Save your recovery codes", in the answer of the POST that made them.
    func recoveryCodesPage(
        _ codes: [String], turnedOn: Bool, request: Request, context: PageContext
    ) async throws -> Response {
        let frame = try await dashboard.frame("Save your recovery codes", request: request, context: context)
        let view = RecoveryCodesView(layout: frame.layout, codes: codes, turnedOn: turnedOn)
        return dashboard.page("settings-recovery-codes", view, frame: frame)
    }

    /// The QR code of `url` as an `<svg>` element of only this encoder's own markup (numbers and
    /// fixed attributes, no text of the URL), so it is safe to show unescaped; `nil` when the URL
    /// does not fit in a QR code.
    static func qrCode(of url: String) -> String? {
        (try? QRCode(url))?.svg(moduleSize: 5, quietZone: 4)
    }
}
