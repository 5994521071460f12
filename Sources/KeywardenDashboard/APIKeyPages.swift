import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// The API keys page: the chosen project's keys, "Create new secret key" (its value shown once,
/// in the POST's own answer), Edit, Disable and Enable, Rotate and Revoke. Who may do what is the
/// Core services' decision; their refusals are shown in words.
///
/// Rotate and Revoke are confirmed by the browser's script, which marks the form confirmed;
/// without the script a form answers with a confirmation page, and only the form sent from
/// there acts.
struct APIKeyPages: Sendable {
    let dashboard: Dashboard

    /// The most pages of keys (of 100 each, revoked ones included) one list reads.
    static let maximumPages = 50
    /// The refusals a form shows in words rather than as an error page.
    static let shownKinds: Set<DomainError.Kind> = [.invalidRequest, .forbidden, .conflict]

    func addRoutes(to signedIn: RouterGroup<PageContext>) {
        signedIn.get("/api-keys", use: list)
        signedIn.get("/api-keys/new", use: createForm)
        signedIn.post("/api-keys", use: create)
        signedIn.post("/api-keys/{key_id}/rotate", use: rotate)
        signedIn.post("/api-keys/{key_id}/revoke", use: revoke)
        signedIn.get("/api-keys/{key_id}/edit", use: editForm)
        signedIn.post("/api-keys/{key_id}/edit", use: edit)
        signedIn.post("/api-keys/{key_id}/disable", use: disable)
        signedIn.post("/api-keys/{key_id}/enable", use: enable)
    }

    @Sendable func list(_ request: Request, context: PageContext) async throws -> Response {
        try await listPage(request: request, context: context)
    }

    @Sendable func rotate(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        // A new key needs a recent sign-in; "Confirm it's you" carries this form on.
        try dashboard.services.accounts.requireRecentSignIn(context.session)
        let keyID = context.parameters.get("key_id") ?? ""
        let project = try await projectOfForm(fields, request: request, context: context)
        // The table's Rotate button sends no grace period: the confirmation page asks for one.
        if fields["grace_period_seconds"] == nil {
            return try await confirmPage(
                rotating: true, key: keyID, project: project, grace: GraceSelection.standard, idempotencyKey: nil,
                request: request, context: context)
        }
        guard let grace = fields["grace_period_seconds"].flatMap({ Int($0) }), GraceSelection.choices.contains(grace)
        else {
            return try await listPage(
                request: request, context: context, refusal: PageSentences.unknownGracePeriod, status: .badRequest)
        }
        let idempotencyKey = fields["idempotency_key"].flatMap { $0.isEmpty ? nil : $0 }
        guard fields["confirmed"] == "yes" else {
            return try await confirmPage(
                rotating: true, key: keyID, project: project, grace: grace, idempotencyKey: idempotencyKey,
                request: request, context: context)
        }
        let keys = dashboard.services.keys
        do {
            let issued = try await keys.rotate(
                project: project, key: keyID, gracePeriod: grace, idempotencyKey: idempotencyKey,
                membership: context.membership, user: context.identity.user, actor: context.actor)
            let old = try await keys.projectKey(project: project, key: keyID, membership: context.membership)
            let frame = try await dashboard.frame("Save your key", request: request, context: context)
            return try await savedPage(
                issued, replacing: old.expiresAt ?? dashboard.services.clock.now(), frame: frame, context: context)
        } catch let refusal as DomainError where !refusal.needsStepUp && Self.shownKinds.contains(refusal.kind) {
            return try await listPage(
                request: request, context: context, refusal: PageSentences.sentence(for: refusal),
                status: Self.status(for: refusal))
        }
    }

    @Sendable func revoke(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let keyID = context.parameters.get("key_id") ?? ""
        let project = try await projectOfForm(fields, request: request, context: context)
        guard fields["confirmed"] == "yes" else {
            return try await confirmPage(
                rotating: false, key: keyID, project: project, grace: GraceSelection.standard, idempotencyKey: nil,
                request: request, context: context)
        }
        do {
            _ = try await dashboard.services.keys.deleteProjectKey(
                project: project, key: keyID, membership: context.membership, user: context.identity.user,
                actor: context.actor)
        } catch let refusal as DomainError where !refusal.needsStepUp && Self.shownKinds.contains(refusal.kind) {
            return try await listPage(
                request: request, context: context, refusal: PageSentences.sentence(for: refusal),
                status: Self.status(for: refusal))
        }
        throw PageRedirect.to("/api-keys", flash: "Key revoked.")
    }

    /// The project a row's form is about: the one it names, or else the one chosen in the header,
    /// which is the one the table listed.
    func projectOfForm(_ fields: FormFields, request: Request, context: PageContext) async throws -> String {
        if let named = fields["project_id"], !named.isEmpty { return named }
        return try await dashboard.frame("API keys", request: request, context: context).project?.id.rawValue ?? ""
    }

    // MARK: Pages

    /// The list of the chosen project's active keys, with `refusal` above it when a rotation or
    /// revocation was refused.
    func listPage(
        request: Request, context: PageContext, refusal: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let frame = try await dashboard.frame("API keys", request: request, context: context)
        var rows: [APIKeyRow] = []
        var truncated = false
        if let project = frame.project {
            let (keys, more) = try await activeKeys(of: project.id, membership: context.membership)
            let people = try await owners(of: keys, membership: context.membership)
            rows = keys.reversed().map {
                APIKeyRow(
                    $0, people: people, formToken: context.formToken,
                    canChange: context.membership.mayChange($0, as: context.identity.user.id))
            }
            truncated = more
        }
        // A suspended organization makes no keys; the banner above says why.
        let canCreate =
            context.membership.organization.suspension == nil
            && (frame.project.map { context.membership.allows(.createKeys, in: $0.id) } ?? false)
        var view = APIKeyListView(
            layout: frame.layout, hasProject: frame.project != nil, canCreate: canCreate,
            projectID: frame.project?.id.rawValue ?? "",
            projectName: frame.project?.name ?? "", keys: rows, hasKeys: !rows.isEmpty, truncated: truncated,
            unverified: Self.isUnverified(context), error: refusal,
            grace: GraceSelection(seconds: GraceSelection.standard), idempotencyKey: PageMiddleware.randomBinding())
        view.keyAlerts = try await KeyAlertPages(dashboard: dashboard).notice(for: frame.project, context: context)
        return dashboard.page("api-keys", view, frame: frame, status: status)
    }

    /// The confirmation page of a Rotate or Revoke form sent without the script's confirmation.
    func confirmPage(
        rotating: Bool, key rawKey: String, project: String, grace: Int, idempotencyKey: String?, request: Request,
        context: PageContext
    ) async throws -> Response {
        let key = try await dashboard.services.keys.projectKey(
            project: project, key: rawKey, membership: context.membership)
        let frame = try await dashboard.frame(
            rotating ? "Rotate key" : "Revoke key", request: request, context: context)
        let view = APIKeyConfirmView(
            layout: frame.layout, rotating: rotating, revoking: !rotating, id: key.id.rawValue, projectID: project,
            name: key.name, unnamed: key.name.isEmpty, redactedValue: key.redactedValue,
            grace: GraceSelection(seconds: grace), idempotencyKey: idempotencyKey ?? PageMiddleware.randomBinding())
        return dashboard.page("api-key-confirm", view, frame: frame)
    }

    /// "Save your key": the new value, in the answer of the POST that made it.
    ///
    /// - Parameter replacing: for a rotation, when the replaced key stops working.
    func savedPage(
        _ issued: IssuedAPIKey, replacing: Date?, frame: Dashboard.Frame, context: PageContext
    ) async throws -> Response {
        let key = issued.key
        let project = try await projectName(key.projectID, frame: frame, membership: context.membership)
        var serviceAccount = false
        if case .serviceAccount = key.owner { serviceAccount = true }
        let view = APIKeySavedView(
            layout: frame.layout, name: key.name, unnamed: key.name.isEmpty, value: issued.value,
            projectName: project, hasProjectName: !project.isEmpty, serviceAccount: serviceAccount,
            rotated: replacing != nil,
            oldKeyStopped: replacing.map { $0 <= dashboard.services.clock.now() } ?? false,
            oldKeyUntil: replacing.map(UTCTime.minutes) ?? "")
        return dashboard.page("api-key-saved", view, frame: frame, status: .created)
    }

    // MARK: Reading

    /// Whether the chosen organization has verified no phone (and is not exempt).
    static func isUnverified(_ context: PageContext) -> Bool {
        context.membership.organization.verification.status == .unverified
    }

    /// A project's keys that work now, oldest first, and whether more pages were left unread.
    func activeKeys(of project: ProjectID, membership: Membership) async throws -> (keys: [APIKey], truncated: Bool) {
        let now = dashboard.services.clock.now()
        let (keys, truncated) = try await readPages(maximumPages: Self.maximumPages, cursor: \.id.rawValue) {
            try await dashboard.services.keys.projectKeys(
                project: project.rawValue, membership: membership, after: $0, limit: PageLimit.maximum)
        }
        return (keys.filter { $0.isActive(at: now) }, truncated)
    }

    /// The people who own `keys`, by id: the organization's members, and those who have left it.
    func owners(of keys: [APIKey], membership: Membership) async throws -> [UserID: User] {
        let accounts = dashboard.services.accounts
        var people: [UserID: User] = [:]
        for member in try await accounts.members(of: membership) {
            people[member.user.id] = member.user
        }
        var missing: Set<UserID> = []
        for key in keys {
            guard case .user(let id) = key.owner, people[id] == nil, !missing.contains(id) else { continue }
            if let user = try await accounts.user(id) { people[id] = user } else { missing.insert(id) }
        }
        return people
    }

    /// The name of the project `id`, active or archived; empty when there is none.
    func projectName(_ id: ProjectID?, frame: Dashboard.Frame, membership: Membership) async throws -> String {
        guard let id else { return "" }
        if let project = frame.projects.first(where: { $0.id == id }) { return project.name }
        do {
            return try await dashboard.services.projects.project(id.rawValue, in: membership).name
        } catch let refusal as DomainError where refusal.code == .projectNotFound {
            return ""
        }
    }

    /// The status of a page that shows `refusal` in words.
    static func status(for refusal: DomainError) -> HTTPResponse.Status {
        switch refusal.kind {
        case .forbidden: .forbidden
        case .conflict: .conflict
        default: .badRequest
        }
    }
}
