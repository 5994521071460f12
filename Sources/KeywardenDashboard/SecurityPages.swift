import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// Settings → Security: the person's password (changed with the current one, which signs out
/// their other sessions), their sessions (each other one can be signed out), and whether
/// two-factor authentication is on (``TwoFactorPages`` changes it); and the banner's "Send the
/// link again".
struct SecurityPages: Sendable {
    let dashboard: Dashboard

    /// The Security page.
    static let path = "/settings/security"

    /// One session as the table lists it.
    struct SessionRow: Sendable {
        let id: String
        /// The browser or program it was started from; `nil` when unknown.
        let device: String?
        /// The client address it was started from; `nil` when unknown.
        let address: String?
        /// When it was started and last used, in UTC.
        let signedIn: String
        let lastActive: String
        /// The session this page was asked with.
        let current: Bool
    }

    /// The two-factor section: set up, or on with its recovery codes and the way to turn it off.
    struct TwoFactorSection: Sendable {
        let enabled: Bool
        /// When it was turned on, in UTC.
        let enabledSince: String
        /// Recovery codes not used yet.
        let recoveryCodesLeft: Int
        /// Exactly one is left (the sentence says "code", not "codes").
        let oneRecoveryCodeLeft: Bool
        /// Refusals of the "Turn off" form, next to its field.
        let errors: FieldErrors
    }

    /// The Security page.
    struct SecurityView: Sendable {
        let layout: Layout
        /// Refusals of the password form, next to their fields.
        let passwordErrors: FieldErrors
        let twoFactor: TwoFactorSection
        let sessions: [SessionRow]
        /// Whether any session but this one is live (the "Sign out of all other sessions" button).
        let hasOtherSessions: Bool
        /// More sessions are live than the table lists.
        let hasMore: Bool
        /// Why signing a session out was refused.
        let sessionsError: String?
    }

    func addRoutes(to signedIn: RouterGroup<PageContext>) {
        signedIn.get(RouterPath(Self.path), use: show)
        // DESIGN §9 names the page under account settings; that address leads here.
        signedIn.get("/settings/account/security") { _, _ -> Response in
            PageMiddleware.redirect(to: Self.path)
        }
        signedIn.post("/settings/security/password", use: changePassword)
        signedIn.post("/settings/security/sessions/revoke-others", use: revokeOthers)
        signedIn.post("/settings/security/sessions/{session_id}/revoke", use: revoke)
        signedIn.post("/confirm-email/resend", use: resendConfirmation)
    }

    private var accounts: AccountService { dashboard.services.accounts }

    // MARK: Handlers

    @Sendable func show(_ request: Request, context: PageContext) async throws -> Response {
        try await render(request, context: context)
    }

    /// "Change password": the new one twice and the current one.
    @Sendable func changePassword(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let new = fields["new_password"] ?? ""
        guard new == (fields["confirm_password"] ?? "") else {
            let errors = FieldErrors(field: "confirm_password", sentence: PageSentences.passwordsDiffer)
            return try await render(request, context: context, passwordErrors: errors, status: .badRequest)
        }
        do {
            _ = try await accounts.changePassword(
                current: fields["current_password"] ?? "", new: new, session: context.session,
                user: context.identity.user, clientAddress: context.clientAddress)
        } catch let refusal as DomainError where refusal.kind == .invalidRequest || refusal.kind == .rateLimited {
            let errors = FieldErrors(refusal, fields: ["current_password", "new_password"])
            return try await render(
                request, context: context, passwordErrors: errors, status: SettingsPages.status(for: refusal))
        }
        throw PageRedirect.to(
            "/settings/security", flash: "Your password is changed. Your other sessions are signed out.")
    }

    /// "Sign out" on another session's row.
    @Sendable func revoke(_ request: Request, context: PageContext) async throws -> Response {
        _ = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let id = try context.parameters.require("session_id")
        do {
            _ = try await accounts.revokeSession(
                id, of: context.identity.user, current: context.session, clientAddress: context.clientAddress)
        } catch let refusal as DomainError where refusal.kind == .notFound || refusal.kind == .invalidRequest {
            return try await render(
                request, context: context, sessionsError: PageSentences.sentence(for: refusal),
                status: SettingsPages.status(for: refusal))
        }
        throw PageRedirect.to("/settings/security", flash: "That session is signed out.")
    }

    /// "Sign out of all other sessions".
    @Sendable func revokeOthers(_ request: Request, context: PageContext) async throws -> Response {
        _ = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let count = try await accounts.revokeOtherSessions(
            of: context.identity.user, current: context.session, clientAddress: context.clientAddress)
        let flash =
            count == 0
            ? "No other session was signed in."
            : "Signed out of \(count) other session\(count == 1 ? "" : "s")."
        throw PageRedirect.to("/settings/security", flash: flash)
    }

    /// The banner's "Send the link again": back to the page it was on (API keys when the browser
    /// does not say), saying what happened.
    @Sendable func resendConfirmation(_ request: Request, context: PageContext) async throws -> Response {
        _ = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let back = request.headers[.referer].flatMap(Dashboard.path(of:)).map { localPath($0) } ?? "/api-keys"
        let user = context.identity.user
        do {
            try await accounts.resendConfirmation(to: user)
        } catch let refusal as DomainError where refusal.kind != .internal {
            throw PageRedirect.to(back, flash: PageSentences.sentence(for: refusal))
        }
        throw PageRedirect.to(back, flash: "We sent a new link to \(user.email.value). It works for 24 hours.")
    }

    // MARK: View

    /// The page, with refusals where they belong.
    func render(
        _ request: Request, context: PageContext, passwordErrors: FieldErrors = FieldErrors(),
        twoFactorErrors: FieldErrors = FieldErrors(), sessionsError: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let frame = try await dashboard.frame("Security", request: request, context: context)
        let live = try await accounts.liveSessions(of: context.identity.user)
        let rows = live.items.map { session in
            SessionRow(
                id: session.id.rawValue, device: session.userAgent, address: session.ipAddress,
                signedIn: UTCTime.minutes(session.createdAt), lastActive: UTCTime.minutes(session.lastSeenAt),
                current: session.id == context.session.id)
        }
        let twoFactorNow = try await accounts.twoFactorStatus(of: context.identity.user)
        let twoFactor = TwoFactorSection(
            enabled: twoFactorNow.enabled, enabledSince: twoFactorNow.enabledAt.map(UTCTime.minutes) ?? "",
            recoveryCodesLeft: twoFactorNow.unusedRecoveryCodes,
            oneRecoveryCodeLeft: twoFactorNow.unusedRecoveryCodes == 1,
            errors: twoFactorErrors)
        let view = SecurityView(
            layout: frame.layout, passwordErrors: passwordErrors, twoFactor: twoFactor, sessions: rows,
            hasOtherSessions: rows.contains { !$0.current }, hasMore: live.hasMore, sessionsError: sessionsError)
        return dashboard.page("settings-security", view, frame: frame, status: status)
    }
}
