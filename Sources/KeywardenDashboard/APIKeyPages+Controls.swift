import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// A key's Edit form (name, permissions, allowed IP ranges), and its Disable and Enable buttons.
/// A refused edit shows the form again as it was sent, the refusal next to its field; Disable and
/// Enable answer with the list, saying what happened.
extension APIKeyPages {
    @Sendable func editForm(_ request: Request, context: PageContext) async throws -> Response {
        let frame = try await dashboard.frame("Edit key", request: request, context: context)
        let project = frame.project?.id.rawValue ?? ""
        let key = try await dashboard.services.keys.projectKey(
            project: project, key: context.parameters.get("key_id") ?? "", membership: context.membership)
        return editPage(APIKeyForm(key), key: key, project: project, frame: frame, context: context)
    }

    @Sendable func edit(_ request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        // Widening what a key may do, or where from, needs a recent sign-in, as making one does.
        try dashboard.services.accounts.requireRecentSignIn(context.session)
        let keyID = context.parameters.get("key_id") ?? ""
        let project = try await projectOfForm(fields, request: request, context: context)
        let form = APIKeyForm(fields)
        let keys = dashboard.services.keys
        do {
            let permissions = try form.keyPermissions()
            let change = APIKeyService.Change(
                name: form.name, permissions: permissions.name,
                scopes: permissions.scopes.isEmpty ? nil : permissions.scopes, allowedIPs: form.allowedIPEntries)
            _ = try await keys.updateProjectKey(
                project: project, key: keyID, change: change, membership: context.membership,
                user: context.identity.user, actor: context.actor)
        } catch let refusal as DomainError where !refusal.needsStepUp && Self.shownKinds.contains(refusal.kind) {
            let frame = try await dashboard.frame("Edit key", request: request, context: context)
            let key = try await keys.projectKey(project: project, key: keyID, membership: context.membership)
            // A refusal of the person's role is about the whole form.
            let names = refusal.code == .insufficientPermissions ? [] : APIKeyForm.editFieldNames
            return editPage(
                form, key: key, project: project, frame: frame, context: context,
                errors: FieldErrors(refusal, fields: names), status: Self.status(for: refusal))
        }
        throw PageRedirect.to("/api-keys", flash: "Key updated.")
    }

    @Sendable func disable(_ request: Request, context: PageContext) async throws -> Response {
        try await switchKey(on: false, request: request, context: context)
    }

    @Sendable func enable(_ request: Request, context: PageContext) async throws -> Response {
        try await switchKey(on: true, request: request, context: context)
    }

    /// Disables or enables the key of the form; a refusal is shown above the list.
    func switchKey(on: Bool, request: Request, context: PageContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.formToken)
        // A key that works again is as sensitive as a new one; "Confirm it's you" carries this form on.
        if on { try dashboard.services.accounts.requireRecentSignIn(context.session) }
        let project = try await projectOfForm(fields, request: request, context: context)
        let key = context.parameters.get("key_id") ?? ""
        let keys = dashboard.services.keys
        do {
            if on {
                _ = try await keys.enableProjectKey(
                    project: project, key: key, membership: context.membership, user: context.identity.user,
                    actor: context.actor)
            } else {
                _ = try await keys.disableProjectKey(
                    project: project, key: key, membership: context.membership, user: context.identity.user,
                    actor: context.actor)
            }
        } catch let refusal as DomainError where !refusal.needsStepUp && Self.shownKinds.contains(refusal.kind) {
            return try await listPage(
                request: request, context: context, refusal: PageSentences.sentence(for: refusal),
                status: Self.status(for: refusal))
        }
        throw PageRedirect.to("/api-keys", flash: on ? "Key enabled." : "Key disabled.")
    }

    /// The Edit form of `key` as `form` holds it.
    func editPage(
        _ form: APIKeyForm, key: APIKey, project: String, frame: Dashboard.Frame, context: PageContext,
        errors: FieldErrors = FieldErrors(), status: HTTPResponse.Status = .ok
    ) -> Response {
        let view = APIKeyEditView(
            form, key: key, projectID: project,
            canChange: context.membership.mayChange(key, as: context.identity.user.id), layout: frame.layout,
            errors: errors)
        return dashboard.page("api-key-edit", view, frame: frame, status: status)
    }
}
