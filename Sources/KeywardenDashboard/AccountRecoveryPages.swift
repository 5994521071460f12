import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// The pages emailed links open, signed in or not: confirming the address, and choosing a new
/// password after "Forgot your password?".
///
/// A link's token arrives in the query; the page puts it in a form that posts it, so opening the
/// link (as mail scanners do) uses nothing, and only the button does.
struct AccountRecoveryPages: Sendable {
    let dashboard: Dashboard

    /// The confirmation page: the button, or why the link cannot be used.
    struct ConfirmView: Sendable {
        let layout: Layout
        let token: String
        let hasToken: Bool
        let error: String?
    }

    /// The forgot-password page: the address typed, and what was wrong with it.
    struct ForgotView: Sendable {
        let layout: Layout
        let email: String
        let errors: FieldErrors
    }

    /// The new-password page: the form while the link can still be used, and what was wrong.
    struct ResetView: Sendable {
        let layout: Layout
        let token: String
        let hasToken: Bool
        let errors: FieldErrors
    }

    func addRoutes(to pages: RouterGroup<KeywardenRequestContext>) {
        pages.get("/confirm-email", use: confirmForm)
        pages.post("/confirm-email", use: confirm)
        pages.get("/forgot-password", use: forgotForm)
        pages.post("/forgot-password", use: forgot)
        pages.get("/reset-password", use: resetForm)
        pages.post("/reset-password", use: reset)
    }

    private var accounts: AccountService { dashboard.services.accounts }

    // MARK: Confirming the address

    @Sendable func confirmForm(_ request: Request, context: KeywardenRequestContext) async throws -> Response {
        let token = Self.token(in: request)
        return page(
            "confirm-email", title: "Confirm email address", request: request, context: context,
            view: { ConfirmView(layout: $0, token: token, hasToken: !token.isEmpty, error: Self.missing(token)) })
    }

    @Sendable func confirm(_ request: Request, context: KeywardenRequestContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        do {
            _ = try await accounts.confirmEmail(token: fields["token"] ?? "", clientAddress: context.clientAddress)
        } catch let refusal as DomainError where refusal.kind == .invalidRequest {
            let sentence = PageSentences.sentence(for: refusal)
            return page(
                "confirm-email", title: "Confirm email address", request: request, context: context,
                status: .badRequest, view: { ConfirmView(layout: $0, token: "", hasToken: false, error: sentence) })
        }
        if context.identity?.session != nil {
            throw PageRedirect.to("/api-keys", flash: "Your email address is confirmed.")
        }
        throw PageRedirect.to("/login", flash: "Your email address is confirmed. Log in to go on.")
    }

    // MARK: Forgot password

    @Sendable func forgotForm(_ request: Request, context: KeywardenRequestContext) async throws -> Response {
        page(
            "forgot-password", title: "Forgot your password?", request: request, context: context,
            view: { ForgotView(layout: $0, email: "", errors: FieldErrors()) })
    }

    @Sendable func forgot(_ request: Request, context: KeywardenRequestContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let email = fields["email"] ?? ""
        do {
            try await accounts.requestPasswordReset(email: email, clientAddress: context.clientAddress)
        } catch let refusal as DomainError where refusal.kind == .invalidRequest || refusal.kind == .rateLimited {
            let errors = FieldErrors(refusal, fields: ["email"])
            return page(
                "forgot-password", title: "Forgot your password?", request: request, context: context,
                status: refusal.status, view: { ForgotView(layout: $0, email: email, errors: errors) })
        }
        // The same answer whether or not an account uses the address.
        let typed = email.trimmingWhitespace().lowercased()
        throw PageRedirect.to(
            "/forgot-password",
            flash: "If an account uses \(typed), we sent it a link to choose a new password. "
                + "The link works for 1 hour.")
    }

    // MARK: Choosing a new password

    @Sendable func resetForm(_ request: Request, context: KeywardenRequestContext) async throws -> Response {
        let token = Self.token(in: request)
        let errors = Self.missing(token).map { FieldErrors(form: $0) } ?? FieldErrors()
        return page(
            "reset-password", title: "Choose a new password", request: request, context: context,
            view: { ResetView(layout: $0, token: token, hasToken: !token.isEmpty, errors: errors) })
    }

    @Sendable func reset(_ request: Request, context: KeywardenRequestContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let token = fields["token"] ?? ""
        let password = fields["password"] ?? ""
        var errors: FieldErrors?
        if password != (fields["confirm_password"] ?? "") {
            errors = FieldErrors(field: "confirm_password", sentence: PageSentences.passwordsDiffer)
        } else {
            do {
                _ = try await accounts.resetPassword(
                    token: token, password: password, clientAddress: context.clientAddress)
            } catch let refusal as DomainError where refusal.kind == .invalidRequest {
                errors = FieldErrors(refusal, fields: ["password"])
            }
        }
        if let errors {
            // A refused link cannot be tried again; a refused password can, with the same link.
            let usable = errors.form == nil && !token.isEmpty
            return page(
                "reset-password", title: "Choose a new password", request: request, context: context,
                status: .badRequest,
                view: { ResetView(layout: $0, token: usable ? token : "", hasToken: usable, errors: errors) })
        }
        // Every session of the person has ended, this browser's included.
        var response = PageMiddleware.redirect(to: "/login")
        for name in [BrowserCookies.session, BrowserCookies.organization, BrowserCookies.project] {
            response.setCookie(BrowserCookies.removal(name, secure: dashboard.secureCookies))
        }
        response.setCookie(BrowserCookies.flash("Your password is changed. Sign in.", secure: dashboard.secureCookies))
        return response
    }

    // MARK: Helpers

    /// The token of the link that opened the page, as sent.
    static func token(in request: Request) -> String {
        let token = request.uri.queryParameters["token"].map(String.init) ?? ""
        return token.utf8.count <= AccountToken.maximumLength ? token : ""
    }

    /// What to say when the page was opened without a token.
    static func missing(_ token: String) -> String? {
        token.isEmpty ? PageSentences.linkWithoutToken : nil
    }

    /// Renders a signed-out page whose view `view` builds around its layout, taking the flash.
    func page<View: Sendable>(
        _ template: String, title: String, request: Request, context: KeywardenRequestContext,
        status: HTTPResponse.Status = .ok, view: (Layout) -> View
    ) -> Response {
        let flash = request.cookies[BrowserCookies.flash].flatMap { BrowserCookies.flashText($0.value) }
        let layout = Layout.signedOut(
            title: title, assets: dashboard.renderer.assets, formToken: context.formToken ?? "", flash: flash)
        var response = dashboard.renderer.page(template, view(layout), status: status)
        if flash != nil {
            response.setCookie(BrowserCookies.removal(BrowserCookies.flash, secure: dashboard.secureCookies))
        }
        return response
    }
}
