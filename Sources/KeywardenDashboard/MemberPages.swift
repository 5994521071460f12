import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// Settings → Members: the members and their roles, pending invites with Resend and Revoke, the
/// "Invite member" form, and "Leave organization". Owners see the controls; readers the lists.
/// The Core services decide either way. Creating an organization (on General) is here too.
struct MemberPages: Sendable {
    let dashboard: Dashboard

    static let path = "/settings/organization/members"

    var teams: TeamService { dashboard.services.teams }
    var invites: InviteService { dashboard.services.invites }

    func addRoutes(to pages: RouterGroup<KeywardenRequestContext>, signedIn: RouterGroup<PageContext>) {
        signedIn.get("/settings/organization/members", use: membersPage)
        signedIn.post("/settings/organization/members/invite", use: invite)
        signedIn.post("/settings/organization/members/leave", use: leave)
        signedIn.post("/settings/organization/members/{user_id}/role", use: changeRole)
        signedIn.post("/settings/organization/members/{user_id}/remove", use: remove)
        signedIn.post("/settings/organization/invites/{invite_id}/resend", use: resend)
        signedIn.post("/settings/organization/invites/{invite_id}/revoke", use: revoke)
        signedIn.post("/settings/organizations", use: createOrganization)
        InvitePages(dashboard: dashboard).addRoutes(to: pages)
    }

    @Sendable func membersPage(_ request: Request, context: PageContext) async throws -> Response {
        try await render(request, context: context)
    }

    @Sendable func invite(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        try requireRecentSignIn(toMakeOwner: fields["role"], context: context)
        let projects = try await dashboard.frame("Members", request: request, context: context).projects
        do {
            _ = try await invites.invite(
                email: fields["email"] ?? "", role: fields["role"] ?? "",
                projects: InviteForm.grants(fields, projects: projects), in: context.membership,
                by: context.identity.user, actor: context.actor)
        } catch let refusal as DomainError where refusal.kind != .internal && !refusal.needsStepUp {
            let errors = FieldErrors(refusal, fields: ["email", "role"])
            // Someone who may not invite sees no form to show the refusal next to.
            let shownAbove = context.membership.allows(.manageMembers) ? nil : PageSentences.sentence(for: refusal)
            return try await render(
                request, context: context, form: InviteForm(projects: projects, fields: fields, errors: errors),
                pageError: shownAbove, status: SettingsPages.status(for: refusal))
        }
        throw PageRedirect.to(Self.path, flash: "Invite sent.")
    }

    @Sendable func changeRole(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let user = try context.parameters.require("user_id")
        try requireRecentSignIn(toMakeOwner: fields["role"], context: context)
        return try await act(request, context: context, flash: "Role saved.") {
            _ = try await teams.changeRole(
                of: user, to: fields["role"] ?? "", in: context.membership, actor: context.actor)
        }
    }

    @Sendable func remove(_ request: Request, context: PageContext) async throws -> Response {
        _ = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let user = try context.parameters.require("user_id")
        return try await act(request, context: context, flash: "Member removed.") {
            _ = try await teams.removeMember(
                user, from: context.membership, by: context.identity.user, actor: context.actor)
        }
    }

    @Sendable func leave(_ request: Request, context: PageContext) async throws -> Response {
        _ = try await dashboard.forms.form(request, expectedToken: context.formToken)
        guard context.identity.memberships.count > 1 else {
            return try await render(
                request, context: context, pageError: PageSentences.onlyOrganization, status: .conflict)
        }
        let me = context.identity.user
        do {
            try await teams.removeMember(me.id.rawValue, from: context.membership, by: me, actor: context.actor)
        } catch let refusal as DomainError where refusal.kind != .internal {
            return try await render(
                request, context: context, pageError: PageSentences.sentence(for: refusal),
                status: SettingsPages.status(for: refusal))
        }
        // The next page is about another organization: the first one left.
        var response = PageMiddleware.redirect(to: "/api-keys")
        for name in [BrowserCookies.organization, BrowserCookies.project] {
            response.setCookie(BrowserCookies.removal(name, secure: dashboard.secureCookies))
        }
        response.setCookie(
            BrowserCookies.flash("You left \(context.membership.organization.name).", secure: dashboard.secureCookies))
        return response
    }

    @Sendable func resend(_ request: Request, context: PageContext) async throws -> Response {
        _ = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let invite = try context.parameters.require("invite_id")
        return try await act(request, context: context, flash: "Invite sent again with a new link.") {
            _ = try await invites.resend(
                invite, in: context.membership, by: context.identity.user, actor: context.actor)
        }
    }

    @Sendable func revoke(_ request: Request, context: PageContext) async throws -> Response {
        _ = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let invite = try context.parameters.require("invite_id")
        return try await act(request, context: context, flash: "Invite revoked.") {
            _ = try await invites.revoke(invite, in: context.membership, actor: context.actor)
        }
    }

    @Sendable func createOrganization(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let name = fields["name"] ?? ""
        let created: Organization
        do {
            created = try await teams.createOrganization(name: name, by: context.identity.user, actor: context.actor).0
        } catch let refusal as DomainError where refusal.kind == .invalidRequest {
            return try await SettingsPages(dashboard: dashboard).generalPage(
                request, context: context, creating: (name, PageSentences.sentence(for: refusal)),
                status: .badRequest)
        }
        // The new organization is the one the next pages are about.
        var response = PageMiddleware.redirect(to: "/settings/organization/general")
        response.setCookie(
            BrowserCookies.cookie(BrowserCookies.organization, created.id.rawValue, secure: dashboard.secureCookies))
        response.setCookie(BrowserCookies.removal(BrowserCookies.project, secure: dashboard.secureCookies))
        response.setCookie(BrowserCookies.flash("Organization created.", secure: dashboard.secureCookies))
        return response
    }

    // MARK: Shared steps

    /// Making someone an owner of the organization (by invite or by role) needs a recent sign-in;
    /// "Confirm it's you" carries the form on.
    func requireRecentSignIn(toMakeOwner role: String?, context: PageContext) throws {
        guard role == OrganizationRole.owner.rawValue else { return }
        try dashboard.services.accounts.requireRecentSignIn(context.session)
    }

    /// Does what a row's form asks and goes back to the page with `flash`, or shows the page with
    /// the refusal above the tables.
    func act(
        _ request: Request, context: PageContext, flash: String, _ body: () async throws -> Void
    ) async throws -> Response {
        do {
            try await body()
        } catch let refusal as DomainError
            where !refusal.needsStepUp
            && (refusal.kind != .internal && refusal.kind != .unavailable
                || refusal.code == .emailProviderUnavailable)
        {
            return try await render(
                request, context: context, pageError: PageSentences.sentence(for: refusal),
                status: SettingsPages.status(for: refusal))
        }
        throw PageRedirect.to(Self.path, flash: flash)
    }

    /// The Members page, with the invite form as sent and a refusal where it belongs.
    func render(
        _ request: Request, context: PageContext, form: InviteForm? = nil, pageError: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let frame = try await dashboard.frame("Members", request: request, context: context)
        let membership = context.membership
        let canManage = membership.allows(.manageMembers)
        let me = context.identity.user.id
        let members = try await dashboard.services.accounts.members(of: membership).map { member in
            MemberRow(
                id: member.user.id.rawValue, name: member.user.name, email: member.user.email.value,
                isOwner: member.role == .owner, isReader: member.role == .reader,
                joined: UTCTime.minutes(member.addedAt), isYou: member.user.id == me)
        }
        var rows: [InviteRow] = []
        if canManage {
            let now = dashboard.services.clock.now()
            let (pending, _) = try await readPages(maximumPages: 10, cursor: \.id.rawValue) {
                try await invites.invites(in: membership, after: $0, limit: PageLimit.maximum)
            }
            rows = pending.filter { $0.acceptedAt == nil }.map { invite in
                InviteRow(
                    id: invite.id.rawValue, email: invite.email.value, isOwner: invite.role == .owner,
                    expired: invite.status(at: now) == .expired, expires: UTCTime.minutes(invite.expiresAt))
            }
        }
        let view = MembersView(
            layout: frame.layout, canManage: canManage, canLeave: context.identity.memberships.count > 1,
            members: members, invites: rows, hasInvites: !rows.isEmpty,
            invite: form ?? InviteForm(projects: frame.projects, fields: nil), pageError: pageError)
        return dashboard.page("settings-members", view, frame: frame, status: status)
    }
}
