import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// The organization's settings: General (name, id, verification; owners rename), Projects
/// (create, rename, archive), Limits (tier, what applies per scope, project overrides) and the
/// Audit log. Readers see every page; the Core services refuse their changes.
struct SettingsPages: Sendable {
    let dashboard: Dashboard

    var services: Dashboard.Services { dashboard.services }

    func addRoutes(to signedIn: RouterGroup<PageContext>) {
        signedIn.get("/settings/organization/general", use: general)
        signedIn.post("/settings/organization/general", use: renameOrganization)
        signedIn.get("/settings/organization/projects", use: projectsPage)
        signedIn.post("/settings/organization/projects", use: createProject)
        signedIn.post("/settings/organization/projects/{project_id}", use: renameProject)
        signedIn.post("/settings/organization/projects/{project_id}/archive", use: archiveProject)
        signedIn.get("/settings/organization/limits", use: limitsPage)
        signedIn.post("/settings/organization/limits/{project_id}", use: updateLimits)
        signedIn.get("/settings/organization/audit-log", use: auditLog)
    }

    // MARK: General

    /// The organization as the General page shows it.
    struct OrganizationFacts: Sendable {
        let id: String
        let name: String
        let created: String
        let unverified: Bool
        let verified: Bool
        let exempt: Bool
        /// The verified number, all but its last digits hidden.
        let maskedPhoneNumber: String?
        /// When it was verified or exempted, in UTC.
        let verifiedAt: String?

        init(_ organization: Organization) {
            id = organization.id.rawValue
            name = organization.name
            created = UTCTime.seconds(organization.createdAt)
            let verification = organization.verification
            unverified = verification.status == .unverified
            verified = verification.status == .verified
            exempt = verification.status == .exempt
            maskedPhoneNumber = verification.maskedPhoneNumber
            verifiedAt = verification.verifiedAt.map(UTCTime.seconds)
        }
    }

    /// The General page.
    struct GeneralView: Sendable {
        let layout: Layout
        let organization: OrganizationFacts
        let isOwner: Bool
        /// What the rename field holds: the name, or what was typed.
        let name: String
        let errors: FieldErrors
        /// What the "Create organization" field holds, and why it was refused.
        let createName: String
        let createError: String?
    }

    @Sendable func general(_ request: Request, context: PageContext) async throws -> Response {
        try await generalPage(request, context: context)
    }

    @Sendable func renameOrganization(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let name = fields["name"] ?? ""
        do {
            _ = try await services.accounts.renameOrganization(in: context.membership, to: name, by: context.actor)
            throw PageRedirect.to("/settings/organization/general", flash: "Organization renamed.")
        } catch let refusal as DomainError where refusal.kind != .notFound {
            return try await generalPage(
                request, context: context, typed: name, errors: FieldErrors(refusal, fields: ["name"]),
                status: Self.status(for: refusal))
        }
    }

    func generalPage(
        _ request: Request, context: PageContext, typed: String? = nil, errors: FieldErrors = FieldErrors(),
        creating: (name: String, error: String)? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let frame = try await dashboard.frame("General", request: request, context: context)
        let organization = context.membership.organization
        let view = GeneralView(
            layout: frame.layout, organization: OrganizationFacts(organization),
            isOwner: context.membership.allows(.renameOrganization), name: typed ?? organization.name, errors: errors,
            createName: creating?.name ?? "", createError: creating?.error)
        return dashboard.page("settings-general", view, frame: frame, status: status)
    }

    // MARK: Shared

    /// The status of a page that shows `refusal` instead of doing what was asked.
    static func status(for refusal: DomainError) -> HTTPResponse.Status {
        switch refusal.kind {
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .rateLimited, .quotaExceeded: .tooManyRequests
        default: .badRequest
        }
    }

    /// Every project of the organization, oldest first, a page of 100 at a time.
    func allProjects(in membership: Membership, includeArchived: Bool) async throws -> [Project] {
        try await readPages(maximumPages: Self.maximumProjectPages, cursor: \.id.rawValue) {
            try await services.projects.list(
                in: membership, after: $0, limit: PageLimit.maximum, includeArchived: includeArchived)
        }.items
    }

    /// At most 5,000 projects are listed on a page.
    static let maximumProjectPages = 50
}
