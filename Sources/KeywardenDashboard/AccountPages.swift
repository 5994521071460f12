import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// Sign up, log in (with the authentication code as a second step when two-factor authentication
/// is on) and log out: the session cookie is set from the same sessions as API tokens, with the
/// same login throttle and expiry.
struct AccountPages: Sendable {
    let dashboard: Dashboard

    /// The sign-up and log-in forms as they are shown, with what was typed and what was wrong.
    struct FormView: Sendable {
        let layout: Layout
        let next: String
        let email: String
        let name: String
        let errors: FieldErrors
        /// The CAPTCHA widget of the sign-up form, when one is required.
        let captcha: HumanCheck.Widget?
    }

    func addRoutes(to pages: RouterGroup<KeywardenRequestContext>, signedIn: RouterGroup<PageContext>) {
        pages.get("/", use: root)
        pages.get("/signup", use: signUpForm)
        pages.post("/signup", use: signUp)
        pages.get("/login", use: logInForm)
        pages.post("/login", use: logIn)
        pages.get(RouterPath(Self.secondStepPath), use: secondStepForm)
        pages.post(RouterPath(Self.secondStepPath), use: completeLogIn)
        signedIn.post("/logout", use: logOut)
    }

    @Sendable func root(_ request: Request, context: KeywardenRequestContext) async throws -> Response {
        PageMiddleware.redirect(to: context.identity?.session == nil ? "/login" : "/api-keys")
    }

    @Sendable func signUpForm(_ request: Request, context: KeywardenRequestContext) async throws -> Response {
        if context.identity?.session != nil { return PageMiddleware.redirect(to: "/api-keys") }
        return form("signup", title: "Sign up", request: request, context: context)
    }

    @Sendable func logInForm(_ request: Request, context: KeywardenRequestContext) async throws -> Response {
        if context.identity?.session != nil {
            return PageMiddleware.redirect(to: localPath(request.uri.queryParameters["next"].map(String.init)))
        }
        return form("login", title: "Log in", request: request, context: context)
    }

    @Sendable func signUp(_ request: Request, context: KeywardenRequestContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let email = fields["email"] ?? ""
        let name = fields["name"] ?? ""
        do {
            let result = try await dashboard.services.accounts.signUp(
                email: email, password: fields["password"] ?? "", name: name, clientAddress: context.clientAddress,
                userAgent: request.headers.userAgent, humanCheckResponse: dashboard.captchaResponse(in: fields))
            // Back to where sign-up was asked for (an invite), or to the keys.
            let next = localPath(fields["next"])
            return signedIn(token: result.token, to: next == "/" ? "/api-keys" : next, flash: "Welcome to Keywarden.")
        } catch let refusal as DomainError {
            return form(
                "signup", title: "Sign up", request: request, context: context, email: email, name: name,
                next: fields["next"], errors: FieldErrors(refusal, fields: ["email", "password", "name"]),
                status: refusal.kind == .invalidRequest || refusal.kind == .conflict ? .badRequest : refusal.status)
        }
    }

    @Sendable func logIn(_ request: Request, context: KeywardenRequestContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let email = fields["email"] ?? ""
        do {
            let outcome = try await dashboard.services.accounts.logIn(
                email: email, password: fields["password"] ?? "", clientAddress: context.clientAddress,
                userAgent: request.headers.userAgent)
            switch outcome {
            case .signedIn(_, let token):
                return signedIn(token: token, to: localPath(fields["next"]), flash: nil)
            case .secondFactorRequired(let challenge):
                return askForCode(challenge, next: localPath(fields["next"]))
            }
        } catch let refusal as DomainError {
            return form(
                "login", title: "Log in", request: request, context: context, email: email, next: fields["next"],
                errors: FieldErrors(refusal, fields: ["email", "password"]),
                status: refusal.kind == .rateLimited ? .tooManyRequests : .unauthorized)
        }
    }

    @Sendable func logOut(_ request: Request, context: PageContext) async throws -> Response {
        _ = try await dashboard.forms.form(request, expectedToken: context.formToken)
        try await dashboard.services.accounts.logOut(
            context.session, user: context.identity.user, clientAddress: context.clientAddress)
        var response = PageMiddleware.redirect(to: "/login")
        for name in [BrowserCookies.session, BrowserCookies.organization, BrowserCookies.project] {
            response.setCookie(BrowserCookies.removal(name, secure: dashboard.secureCookies))
        }
        response.setCookie(BrowserCookies.flash("You are logged out.", secure: dashboard.secureCookies))
        return response
    }

    /// Sets the session cookie and sends the browser on.
    func signedIn(token: SessionToken, to location: String, flash: String?) -> Response {
        var response = PageMiddleware.redirect(to: location)
        response.setCookie(BrowserCookies.cookie(BrowserCookies.session, token.value, secure: dashboard.secureCookies))
        if let flash { response.setCookie(BrowserCookies.flash(flash, secure: dashboard.secureCookies)) }
        return response
    }

    func form(
        _ template: String, title: String, request: Request, context: KeywardenRequestContext, email: String = "",
        name: String = "", next: String? = nil, errors: FieldErrors = FieldErrors(), status: HTTPResponse.Status = .ok
    ) -> Response {
        let flash = request.cookies[BrowserCookies.flash].flatMap { BrowserCookies.flashText($0.value) }
        let captcha = template == "signup" ? dashboard.captchaWidget : nil
        let view = FormView(
            layout: .signedOut(
                title: title, assets: dashboard.renderer.assets, formToken: context.formToken ?? "", flash: flash,
                captchaScript: captcha?.scriptURL),
            next: localPath(next ?? request.uri.queryParameters["next"].map(String.init)), email: email, name: name,
            errors: errors, captcha: captcha)
        var response = Dashboard.allowingCaptcha(captcha, in: dashboard.renderer.page(template, view, status: status))
        if flash != nil {
            response.setCookie(BrowserCookies.removal(BrowserCookies.flash, secure: dashboard.secureCookies))
        }
        return response
    }
}

/// A refusal shown next to the field it is about, or above the form when it is about none of
/// the form's fields.
struct FieldErrors: Sendable {
    /// Sentences by field name.
    let fields: [String: String]
    /// A sentence about the form as a whole.
    let form: String?

    init() {
        self.fields = [:]
        self.form = nil
    }

    /// Places `refusal` by its `param` when that is one of `names`.
    init(_ refusal: DomainError, fields names: Set<String>) {
        let sentence = PageSentences.sentence(for: refusal)
        if let param = refusal.param, names.contains(param) {
            self.fields = [param: sentence]
            self.form = nil
        } else {
            self.fields = [:]
            self.form = sentence
        }
    }
}
