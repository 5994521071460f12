import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// The second step of logging in with two-factor authentication on: the right password earned a
/// challenge, kept in a short-lived cookie (never in a URL), which the authentication code then
/// trades for a session.
extension AccountPages {
    /// The page that asks for the authentication code.
    static let secondStepPath = "/login/two-factor"

    /// The code step as it is shown: where to go afterwards, and what was wrong with the code.
    struct SecondStepView: Sendable {
        let layout: Layout
        let next: String
        let errors: FieldErrors
    }

    /// Keeps the challenge in its cookie for as long as it works and sends the browser to the
    /// code step, with `next` to go to afterwards.
    func askForCode(_ challenge: SecondFactorChallenge, next: String) -> Response {
        let lifetime = challenge.expiresAt.timeIntervalSince(dashboard.services.clock.now())
        let query = next == "/" ? "" : "?next=" + FormEncoding.escape(next)
        var response = PageMiddleware.redirect(to: Self.secondStepPath + query)
        response.setCookie(
            BrowserCookies.signInChallenge(
                challenge.token, maxAge: max(1, Int(lifetime.rounded())), secure: dashboard.secureCookies))
        return response
    }

    @Sendable func secondStepForm(_ request: Request, context: KeywardenRequestContext) async throws -> Response {
        let next = localPath(request.uri.queryParameters["next"].map(String.init))
        if context.identity?.session != nil { return PageMiddleware.redirect(to: next) }
        guard request.cookies[BrowserCookies.signInChallenge] != nil else { return signInExpired() }
        return secondStepPage(request: request, context: context, next: next)
    }

    @Sendable func completeLogIn(_ request: Request, context: KeywardenRequestContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let next = localPath(fields["next"])
        guard let challenge = request.cookies[BrowserCookies.signInChallenge]?.value else { return signInExpired() }
        do {
            let (_, token) = try await dashboard.services.accounts.completeLogIn(
                challenge: challenge, code: fields["code"] ?? "", clientAddress: context.clientAddress,
                userAgent: request.headers.userAgent)
            var response = signedIn(token: token, to: next == "/" ? "/api-keys" : next, flash: nil)
            response.setCookie(BrowserCookies.removal(BrowserCookies.signInChallenge, secure: dashboard.secureCookies))
            return response
        } catch let refusal as DomainError where refusal.code == .invalidToken || refusal.code == .mfaNotEnabled {
            // Turned off since the password was typed: the password alone signs in again.
            return signInExpired()
        } catch let refusal as DomainError where refusal.kind == .invalidRequest || refusal.kind == .rateLimited {
            let errors = FieldErrors(field: "code", sentence: PageSentences.authenticationCodeSentence(for: refusal))
            return secondStepPage(
                request: request, context: context, next: next, errors: errors,
                status: refusal.kind == .rateLimited ? .tooManyRequests : .badRequest)
        }
    }

    /// The code step, in the signed-out layout.
    func secondStepPage(
        request: Request, context: KeywardenRequestContext, next: String, errors: FieldErrors = FieldErrors(),
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let layout = Layout.signedOut(
            title: "Two-factor authentication", assets: dashboard.renderer.assets,
            formToken: context.formToken ?? "")
        let view = SecondStepView(layout: layout, next: next, errors: errors)
        return dashboard.renderer.page("login-two-factor", view, status: status)
    }

    /// Back to the log-in form, for a code step whose challenge has run out, was used, or was
    /// never set in this browser; the stale cookie is removed on the way.
    func signInExpired() -> Response {
        var response = PageMiddleware.redirect(to: "/login")
        response.setCookie(BrowserCookies.removal(BrowserCookies.signInChallenge, secure: dashboard.secureCookies))
        response.setCookie(BrowserCookies.flash(PageSentences.signInExpired, secure: dashboard.secureCookies))
        return response
    }
}
