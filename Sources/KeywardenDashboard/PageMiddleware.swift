import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP
import Logging
import NIOCore

/// What every page request passes through: the session cookie read into an identity, the form
/// token worked out, "Confirm it's you" asked and checked for actions that need a recent sign-in,
/// redirects and refusals turned into answers, errors into the 500 page, and the page headers
/// added to every answer.
struct PageMiddleware: RouterMiddleware {
    typealias Context = KeywardenRequestContext

    let accounts: AccountService
    let forms: FormGuard
    let renderer: PageRenderer

    /// "Confirm it's you".
    var stepUp: StepUp { StepUp(accounts: accounts, forms: forms, renderer: renderer) }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        var request = request
        // A page knows a person by the cookie only, never by an Authorization header.
        context.identity = nil
        var newPreSession: String?
        var response: Response
        do {
            newPreSession = try await identify(request, context: &context)
            var confirming = StepUp.Outcome.notAsked
            if request.method == .post {
                // Kept in memory, so the handler and the confirm page can both read the form.
                _ = try await request.collectBody(upTo: ManagementAPI.maxBodyBytes)
                confirming = try await stepUp.confirm(&request, context: context)
            }
            switch confirming {
            case .refused(let page):
                response = page
            case .confirmed:
                // Read again, so the action sees the session's new sign-in time.
                newPreSession = try await identify(request, context: &context)
                response = try await next(request, context)
            case .notAsked:
                response = try await next(request, context)
            }
        } catch let refusal as DomainError where refusal.needsStepUp {
            response = await askToConfirm(refusal, request: request, context: context)
        } catch {
            response = answer(for: error, request: request, logger: context.logger)
        }
        if let newPreSession {
            response.setCookie(
                BrowserCookies.cookie(BrowserCookies.preSession, newPreSession, secure: forms.secureCookies))
        }
        Self.addPageHeaders(to: &response.headers)
        return response
    }

    /// The answer when an action needs a more recent sign-in than the session's: a form is shown
    /// "Confirm it's you", carrying its fields; a page opened is sent to the Security page, which
    /// says why.
    func askToConfirm(_ refusal: DomainError, request: Request, context: Context) async -> Response {
        guard request.method == .post else {
            return answer(
                for: PageRedirect.to(SecurityPages.path, flash: PageSentences.sentence(for: refusal)),
                request: request, logger: context.logger)
        }
        do {
            return try await stepUp.page(for: request, context: context)
        } catch {
            return answer(for: error, request: request, logger: context.logger)
        }
    }

    /// Reads the session cookie into an identity and works out the form token; without a
    /// session, the token is bound to the pre-session cookie, whose new value is returned when
    /// the browser has none yet.
    func identify(_ request: Request, context: inout Context) async throws -> String? {
        if let token = request.cookies[BrowserCookies.session]?.value,
            let signedIn = try await accounts.authenticate(token: token)
        {
            context.identity = SignedInIdentity(
                user: signedIn.user, credential: .session(signedIn.session),
                memberships: try await accounts.memberships(of: signedIn.user.id),
                requestedOrganization: request.cookies[BrowserCookies.organization]?.value)
            context.formToken = forms.token(for: signedIn.session.id.rawValue)
        } else if let binding = request.cookies[BrowserCookies.preSession]?.value, binding.count == 43 {
            context.formToken = forms.token(for: binding)
        } else {
            let binding = Self.randomBinding()
            context.formToken = forms.token(for: binding)
            return binding
        }
        return nil
    }

    /// The answer for an error a page threw.
    func answer(for error: any Error, request: Request, logger: Logger) -> Response {
        switch error {
        case PageRedirect.signInRequired:
            let next = localPath(request.uri.path + (request.uri.query.map { "?" + $0 } ?? ""))
            return Self.redirect(to: "/login?next=" + FormEncoding.escape(next))
        case PageRedirect.to(let location, let flash):
            var response = Self.redirect(to: location)
            if let flash { response.setCookie(BrowserCookies.flash(flash, secure: forms.secureCookies)) }
            return response
        case let refusal as PageRefusal:
            return renderer.errorPage(status: .forbidden, heading: refusal.sentence, request: request)
        case let domain as DomainError where domain.kind == .notFound:
            return renderer.errorPage(status: .notFound, heading: "Page not found", request: request)
        case let domain as DomainError where domain.kind == .payloadTooLarge:
            return renderer.errorPage(status: .contentTooLarge, heading: domain.message, request: request)
        case is NIOTooManyBytesError:
            return renderer.errorPage(
                status: .contentTooLarge, heading: DomainError.payloadTooLarge.message, request: request)
        case let domain as DomainError where domain.kind != .internal && domain.kind != .unavailable:
            // A refusal no page caught: said in words with its own status, not as a failure of ours.
            return renderer.errorPage(
                status: domain.response().status, heading: PageSentences.sentence(for: domain), request: request)
        default:
            // Logged by type only: a description may hold what the form carried.
            logger.error("page failed", metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
            return renderer.errorPage(
                status: .internalServerError, heading: "Something went wrong on our side. Try again.",
                request: request)
        }
    }

    /// `303 See Other` to a path of this site.
    static func redirect(to location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        headers[.cacheControl] = "no-store"
        return Response(status: .seeOther, headers: headers)
    }

    /// The headers of every page: nothing but this site's own files may load, no framing, no
    /// full referrer to other sites. A page that shows a CAPTCHA widget has set a policy that
    /// also allows the widget's origins (``contentSecurityPolicy(allowing:)``), which is kept.
    static func addPageHeaders(to headers: inout HTTPFields) {
        if headers[.contentSecurityPolicy] == nil {
            headers[.contentSecurityPolicy] = contentSecurityPolicy(allowing: nil)
        }
        headers[.xFrameOptions] = "DENY"
        headers[.referrerPolicy] = "same-origin"
        headers[.xContentTypeOptions] = "nosniff"
    }

    /// The page's Content-Security-Policy: this site's own files only, and with a CAPTCHA
    /// `widget`, its provider's script, frames, styles and requests too.
    static func contentSecurityPolicy(allowing widget: HumanCheck.Widget?) -> String {
        let fixed = "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        guard let widget, !widget.origins.isEmpty else { return "default-src 'self'; " + fixed }
        let origins = widget.origins.joined(separator: " ")
        return "default-src 'self'; script-src 'self' \(origins); frame-src \(origins); "
            + "style-src 'self' \(origins); connect-src 'self' \(origins); " + fixed
    }

    /// 32 random bytes, base64url without padding (43 characters).
    static func randomBinding() -> String {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

extension HTTPField.Name {
    static let contentSecurityPolicy = HTTPField.Name("Content-Security-Policy")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}
