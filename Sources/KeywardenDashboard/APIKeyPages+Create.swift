import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// "Create new secret key": the form, and the POST that answers with "Save your key" or with the
/// form again and the refusal next to its field.
extension APIKeyPages {
    @Sendable func createForm(_ request: Request, context: PageContext) async throws -> Response {
        let frame = try await dashboard.frame("Create new secret key", request: request, context: context)
        return createPage(APIKeyForm(project: frame.project?.id.rawValue ?? ""), frame: frame, context: context)
    }

    @Sendable func create(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        // A new key needs a recent sign-in; "Confirm it's you" carries this form on.
        try dashboard.services.accounts.requireRecentSignIn(context.session)
        let form = APIKeyForm(fields)
        do {
            let issued = try await issue(form, context: context)
            let frame = try await dashboard.frame("Save your key", request: request, context: context)
            return try await savedPage(issued, replacing: nil, frame: frame, context: context)
        } catch let refusal as DomainError
            where !refusal.needsStepUp && (Self.shownKinds.contains(refusal.kind) || refusal.kind == .notFound)
        {
            let frame = try await dashboard.frame("Create new secret key", request: request, context: context)
            if refusal.code == .phoneVerificationRequired {
                // The phone step the form shows instead says what to do.
                return createPage(form, frame: frame, context: context, phoneStep: true, status: .forbidden)
            }
            // A refusal of the person's role is about the whole form, which may not even be shown.
            let fields = refusal.code == .insufficientPermissions ? [] : APIKeyForm.fieldNames
            return createPage(
                form, frame: frame, context: context, errors: FieldErrors(refusal, fields: fields),
                status: Self.status(for: refusal))
        }
    }

    /// Creates the key the form asks for, as the JSON API does: a project key owned by the person,
    /// or a service account with its key.
    func issue(_ form: APIKeyForm, context: PageContext) async throws -> IssuedAPIKey {
        let keys = dashboard.services.keys
        switch form.owner {
        case APIKeyForm.ownerYou:
            let request = try APIKeyService.Request(
                name: form.name, permissions: try form.keyPermissions(), expiresInSeconds: try form.expiresInSeconds(),
                allowedIPs: form.allowedIPEntries)
            return try await keys.createProjectKey(
                project: form.projectID, request: request, membership: context.membership,
                user: context.identity.user, actor: context.actor)
        case APIKeyForm.ownerServiceAccount:
            // A service account's key always has all permissions; saying so beats ignoring the choice.
            guard form.permissions == "all" else {
                throw DomainError.invalidField("permissions", PageSentences.serviceAccountKeyPermissions)
            }
            let (_, issued) = try await keys.createServiceAccount(
                project: form.projectID, name: form.name, expiresInSeconds: try form.expiresInSeconds(),
                allowedIPs: form.allowedIPEntries, membership: context.membership, user: context.identity.user,
                actor: context.actor)
            return issued
        default:
            throw DomainError.invalidField("owner", PageSentences.unknownKeyOwner)
        }
    }

    /// The create form as `form` holds it, or the phone step instead while the organization
    /// cannot create keys.
    func createPage(
        _ form: APIKeyForm, frame: Dashboard.Frame, context: PageContext, errors: FieldErrors = FieldErrors(),
        phoneStep: Bool = false, status: HTTPResponse.Status = .ok
    ) -> Response {
        // The projects offered are those the person may create keys in (members and owners).
        let projects = frame.projects.filter { context.membership.allows(.createKeys, in: $0.id) }
        let view = APIKeyCreateView(
            layout: frame.layout, unverified: phoneStep || Self.isUnverified(context),
            hasProjects: !projects.isEmpty, readOnly: projects.isEmpty && !frame.projects.isEmpty,
            projects: projects.map {
                Layout.Choice(id: $0.id.rawValue, name: $0.name, selected: $0.id.rawValue == form.projectID)
            },
            name: form.name, ownerYou: form.owner != APIKeyForm.ownerServiceAccount,
            ownerServiceAccount: form.owner == APIKeyForm.ownerServiceAccount,
            permissionsAll: form.permissions != "restricted" && form.permissions != "read_only",
            permissionsRestricted: form.permissions == "restricted",
            permissionsReadOnly: form.permissions == "read_only",
            scopeChoices: form.scopeChoices, expiry: ExpirySelection(form.expires), allowedIPs: form.allowedIPs,
            errors: errors)
        return dashboard.page("api-key-create", view, frame: frame, status: status)
    }
}
