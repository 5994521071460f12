import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

extension Dashboard {
    /// Registers every page and asset on `router`, outside the API's route catalog: pages are
    /// not part of the API that `openapi.yaml` describes.
    public func addRoutes(to router: Router<KeywardenRequestContext>) {
        let assets = renderer.assets
        router.get("/assets/{file}") { request, _ -> Response in
            guard let response = assets.response(for: request.uri.path) else { throw HTTPError(.notFound) }
            return response
        }
        let pages = router.group()
        pages.add(middleware: PageMiddleware(accounts: services.accounts, forms: forms, renderer: renderer))
        let signedIn = pages.group(context: PageContext.self)
        AccountPages(dashboard: self).addRoutes(to: pages, signedIn: signedIn)
        AccountRecoveryPages(dashboard: self).addRoutes(to: pages)
        signedIn.post("/switch", use: switchOrganization)
        MemberPages(dashboard: self).addRoutes(to: pages, signedIn: signedIn)
        ProjectMemberPages(dashboard: self).addRoutes(to: signedIn)
        PhonePages(dashboard: self).addRoutes(to: signedIn)
        UsagePages(dashboard: self).addRoutes(to: signedIn)
        APIKeyPages(dashboard: self).addRoutes(to: signedIn)
        KeyAlertPages(dashboard: self).addRoutes(to: signedIn)
        SettingsPages(dashboard: self).addRoutes(to: signedIn)
        SettingsPages(dashboard: self).addBudgetRoutes(to: signedIn)
        BillingPages(dashboard: self).addRoutes(to: signedIn)
        SecurityPages(dashboard: self).addRoutes(to: signedIn)
        TwoFactorPages(dashboard: self).addRoutes(to: signedIn)
        SupportPages(dashboard: self).addRoutes(to: signedIn)
        ConsolePages(dashboard: self).addRoutes(to: signedIn)
    }

    /// The header's switchers: the chosen organization and project are kept in cookies of this
    /// browser session, checked against the person's memberships on every request.
    @Sendable func switchOrganization(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await forms.form(request, expectedToken: context.formToken)
        var response = PageMiddleware.redirect(to: localPath(request.headers[.referer].flatMap(Self.path(of:))))
        if let organization = fields["organization"],
            context.identity.memberships.contains(where: { $0.organization.id.rawValue == organization })
        {
            response.setCookie(BrowserCookies.cookie(BrowserCookies.organization, organization, secure: secureCookies))
            if organization != context.membership.organization.id.rawValue {
                // Another organization's projects are others: start from its first one.
                response.setCookie(BrowserCookies.removal(BrowserCookies.project, secure: secureCookies))
                return response
            }
        }
        if let project = fields["project"], ProjectID(project) != nil {
            response.setCookie(BrowserCookies.cookie(BrowserCookies.project, project, secure: secureCookies))
        }
        return response
    }

    /// The path (and query) of a URL of this site.
    static func path(of url: String) -> String? {
        guard let parts = URLComponents(string: url) else { return nil }
        return parts.percentEncodedPath + (parts.percentEncodedQuery.map { "?" + $0 } ?? "")
    }

    /// What every signed-in page needs around it: its layout and the project chosen in the header.
    struct Frame: Sendable {
        let layout: Layout
        /// The chosen project, or the organization's first active one.
        let project: Project?
        /// The organization's active projects, for the switcher and the forms.
        let projects: [Project]
        /// Whether the flash cookie was read and is to be removed.
        let consumedFlash: Bool
    }

    /// The layout of the page titled `title`, the projects and the chosen one; `isOperator` says
    /// whether the person is an operator when the caller knows already (otherwise it is asked once).
    func frame(
        _ title: String, request: Request, context: PageContext, isOperator known: Bool? = nil
    ) async throws -> Frame {
        let projects = try await services.projects.list(
            in: context.membership, after: nil, limit: 100, includeArchived: false
        ).items
        let chosen = request.cookies[BrowserCookies.project]?.value
        let project = projects.first { $0.id.rawValue == chosen } ?? projects.first
        let flash = request.cookies[BrowserCookies.flash].flatMap { BrowserCookies.flashText($0.value) }
        // One look-up by primary key per page, for the nav's "Operator console" entry.
        let isOperator: Bool
        if let known {
            isOperator = known
        } else {
            isOperator = try await services.console.isOperator(context.identity.user)
        }
        let layout = Layout.signedIn(
            title: title, path: request.uri.path, context: context, projects: projects, selectedProject: project?.id,
            assets: renderer.assets, flash: flash, isOperator: isOperator)
        return Frame(layout: layout, project: project, projects: projects, consumedFlash: flash != nil)
    }

    /// The layout of an operator console page: the same as every page's, with the console's nav.
    func consoleFrame(_ title: String, request: Request, console: OperatorContext) async throws -> Frame {
        let base = try await frame(title, request: request, context: console.page, isOperator: true)
        var layout = base.layout
        layout.enterConsole(path: request.uri.path)
        return Frame(layout: layout, project: base.project, projects: base.projects, consumedFlash: base.consumedFlash)
    }

    /// Renders a signed-in page, removing a flash message it showed.
    func page(_ template: String, _ view: some Sendable, frame: Frame, status: HTTPResponse.Status = .ok) -> Response {
        var response = renderer.page(template, view, status: status)
        if frame.consumedFlash {
            response.setCookie(BrowserCookies.removal(BrowserCookies.flash, secure: secureCookies))
        }
        return response
    }
}
