import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// The page an invite's emailed link opens, `/invite?token=...`: the organization and who
/// invites; signed out, "Sign up" and "Log in" that come back here; signed in with the address
/// the invite was sent to, "Join"; with another address, a sentence saying so.
struct InvitePages: Sendable {
    let dashboard: Dashboard

    /// The view of `invite`.
    struct View: Sendable {
        let layout: Layout
        /// The invite could be read: the facts below are shown.
        let found: Bool
        let organizationName: String
        let inviterName: String
        /// The inviter gave a name (shown before their address).
        let inviterHasName: Bool
        let inviterEmail: String
        let asOwner: Bool
        let expires: String
        let token: String
        /// This page's path, escaped for a `next=` parameter.
        let next: String
        let signedOut: Bool
        /// Signed in with the address the invite was sent to.
        let canJoin: Bool
        /// Signed in with another address.
        let otherAddress: Bool
        /// Why the invite cannot be used (expired, accepted, revoked), or why joining failed.
        let problem: String?
    }

    func addRoutes(to pages: RouterGroup<KeywardenRequestContext>) {
        pages.get("/invite", use: invitePage)
        pages.post("/invite", use: join)
    }

    @Sendable func invitePage(_ request: Request, context: KeywardenRequestContext) async throws -> Response {
        try await render(request, context: context, token: request.uri.queryParameters["token"].map(String.init) ?? "")
    }

    @Sendable func join(_ request: Request, context: KeywardenRequestContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let token = fields["token"] ?? ""
        guard let user = context.identity?.user, context.identity?.session != nil else {
            return PageMiddleware.redirect(to: "/login?next=" + FormEncoding.escape(Self.path(token)))
        }
        do {
            let (_, membership) = try await dashboard.services.invites.accept(
                token: token, by: user, actor: .session(user, ipAddress: context.clientAddress))
            // The organization joined is the one the next pages are about.
            var response = PageMiddleware.redirect(to: "/api-keys")
            let secure = dashboard.secureCookies
            response.setCookie(
                BrowserCookies.cookie(BrowserCookies.organization, membership.organization.id.rawValue, secure: secure))
            response.setCookie(BrowserCookies.removal(BrowserCookies.project, secure: secure))
            response.setCookie(BrowserCookies.flash("You joined \(membership.organization.name).", secure: secure))
            return response
        } catch let refusal as DomainError where refusal.kind != .internal && refusal.kind != .unavailable {
            return try await render(
                request, context: context, token: token, problem: PageSentences.sentence(for: refusal),
                status: SettingsPages.status(for: refusal))
        }
    }

    /// The page of the invite `token` names, with `problem` when joining was refused.
    func render(
        _ request: Request, context: KeywardenRequestContext, token: String, problem: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let layout = Layout.signedOut(
            title: "Invite", assets: dashboard.renderer.assets, formToken: context.formToken ?? "")
        let user = context.identity?.session == nil ? nil : context.identity?.user
        var preview: InvitePreview?
        var shown = problem
        var code = status
        do {
            preview = try await dashboard.services.invites.preview(token: token)
        } catch let refusal as DomainError where refusal.kind == .notFound {
            shown = PageSentences.sentence(for: refusal)
            code = .notFound
        }
        if shown == nil, let preview {
            switch preview.status {
            case .expired:
                shown = PageSentences.sentence(for: DomainError.inviteExpired)
                code = .gone
            case .accepted:
                shown = PageSentences.sentence(for: DomainError.inviteNotPending)
                code = .conflict
            case .pending: break
            }
        }
        let usable = preview != nil && shown == nil
        let mine = user.map { $0.email == preview?.invite.email } ?? false
        let view = View(
            layout: layout, found: preview != nil, organizationName: preview?.organization.name ?? "",
            inviterName: preview?.inviter?.name ?? "", inviterHasName: preview?.inviter?.name.isEmpty == false,
            inviterEmail: preview?.inviter?.email.value ?? "",
            asOwner: preview?.invite.role == .owner,
            expires: preview.map { UTCTime.minutes($0.invite.expiresAt) } ?? "",
            token: token, next: FormEncoding.escape(Self.path(token)), signedOut: user == nil && usable,
            canJoin: usable && mine, otherAddress: usable && user != nil && !mine, problem: shown)
        return dashboard.renderer.page("invite", view, status: code)
    }

    /// The path of the invite page for `token`.
    static func path(_ token: String) -> String {
        "/invite?token=" + FormEncoding.escape(token)
    }
}
