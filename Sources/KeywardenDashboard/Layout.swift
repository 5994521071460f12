import Foundation
import KeywardenCore

/// What the layout around every page shows: the header with its switchers, the nav (or, in the
/// operator console, the console's own), the unverified and suspended banners and a flash message.
struct Layout: Sendable {
    /// One nav entry.
    struct NavItem: Sendable {
        let label: String
        let href: String
        let current: Bool
    }

    /// One entry of a switcher.
    struct Choice: Sendable {
        let id: String
        let name: String
        let selected: Bool
    }

    let title: String
    let stylesheet: String
    let script: String
    let signedIn: Bool
    let email: String
    let formToken: String
    let organizations: [Choice]
    let projects: [Choice]
    /// Whether the project switcher shows (templates see stored properties only).
    let hasProjects: Bool
    let nav: [NavItem]
    let settingsNav: [NavItem]
    /// The chosen organization is neither verified nor exempt.
    var unverified: Bool
    /// Why the chosen organization is suspended, as its banner says it; `nil` when it is not.
    let suspensionReason: String?
    /// The console's nav, shown instead of the main and settings navs on `/admin` pages.
    var consoleNav: [NavItem] = []
    /// Whether the page is one of the operator console's.
    var inConsole = false
    let flash: String?
    /// The signed-in person has not confirmed their email address yet (the banner asking them to).
    let emailUnconfirmed: Bool
    /// The CAPTCHA provider's script, on the pages that show its widget (sign-up, phone).
    var captchaScript: String?

    /// The layout of a page for someone signed out; `captchaScript` loads a CAPTCHA widget.
    static func signedOut(
        title: String, assets: Assets, formToken: String = "", flash: String? = nil, captchaScript: String? = nil
    ) -> Layout {
        Layout(
            title: title, stylesheet: assets.stylesheet, script: assets.script, signedIn: false, email: "",
            formToken: formToken, organizations: [], projects: [], hasProjects: false, nav: [], settingsNav: [],
            unverified: false, suspensionReason: nil,
            flash: flash, emailUnconfirmed: false, captchaScript: captchaScript)
    }

    /// The pages of the main nav and of settings, by path and label (the labels a person and the
    /// browser tests follow).
    static let mainPages = [("/api-keys", "API keys"), ("/usage", "Usage"), ("/support", "Support")]
    static let settingsPages = [
        ("/settings/organization/general", "General"), ("/settings/organization/members", "Members"),
        ("/settings/organization/projects", "Projects"),
        ("/settings/organization/limits", "Limits"), ("/settings/organization/billing", "Billing"),
        ("/settings/organization/audit-log", "Audit log"),
        ("/settings/account/phone", "Phone"), ("/settings/security", "Security"),
    ]
    /// The main nav's entry for operators.
    static let consoleEntry = ("/admin", "Operator console")
    /// The pages of the operator console's nav.
    static let consolePages = [
        ("/admin/support", "Support queue"), ("/admin/organizations", "Organizations"),
        ("/admin/insights", "Verification insights"), ("/admin/prefix-guard", "Prefix guard"),
        ("/admin/audit-log", "Audit log"),
    ]

    /// The layout of a signed-in page at `path`; `isOperator` adds the console's entry to the nav.
    static func signedIn(
        title: String, path: String, context: PageContext, projects: [Project], selectedProject: ProjectID?,
        assets: Assets, flash: String?, isOperator: Bool = false
    ) -> Layout {
        let organization = context.membership.organization
        return Layout(
            title: title, stylesheet: assets.stylesheet, script: assets.script, signedIn: true,
            email: context.identity.user.email.value, formToken: context.formToken,
            organizations: context.identity.memberships.map {
                Choice(
                    id: $0.organization.id.rawValue, name: $0.organization.name,
                    selected: $0.organization.id == organization.id)
            },
            projects: projects.map { Choice(id: $0.id.rawValue, name: $0.name, selected: $0.id == selectedProject) },
            hasProjects: !projects.isEmpty,
            nav: navItems(isOperator ? mainPages + [consoleEntry] : mainPages, path: path),
            settingsNav: navItems(settingsPages, path: path),
            unverified: organization.verification.status == .unverified,
            suspensionReason: organization.suspension.map { bannerReason($0.reason) }, flash: flash,
            emailUnconfirmed: !context.identity.user.isEmailConfirmed)
    }

    /// Shows the operator console's nav instead of the main and settings navs.
    mutating func enterConsole(path: String) {
        inConsole = true
        // The operator's own organization's standing is not what the console is about.
        unverified = false
        consoleNav = Self.navItems(Self.consolePages, path: path)
    }

    /// The entries of `pages`, the one at `path` (or above it) marked current.
    static func navItems(_ pages: [(String, String)], path: String) -> [NavItem] {
        pages.map { NavItem(label: $0.1, href: $0.0, current: path == $0.0 || path.hasPrefix($0.0 + "/")) }
    }

    /// The operator's reason without the full stop it may end with, since the banner adds its own.
    static func bannerReason(_ reason: String) -> String {
        var shown = Substring(reason)
        while shown.last == "." || shown.last == " " { shown = shown.dropLast() }
        return String(shown)
    }
}
