import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// The usage-anomaly notice of the API keys page: the chosen project's alerts of the last 7 days
/// that nobody dismissed, each with a Dismiss button for those who may rotate or revoke its key.
struct KeyAlertPages: Sendable {
    let dashboard: Dashboard

    func addRoutes(to signedIn: RouterGroup<PageContext>) {
        signedIn.post("/api-keys/alerts/{alert_id}/dismiss", use: dismiss)
    }

    /// Dismisses an alert and goes back to the API keys page, which no longer shows it.
    @Sendable func dismiss(_ request: Request, context: PageContext) async throws -> Response {
        _ = try await dashboard.forms.form(request, expectedToken: context.formToken)
        let id = context.parameters.get("alert_id") ?? ""
        let flash: String
        do {
            let outcome = try await dashboard.services.keyAlerts.dismiss(
                id, membership: context.membership, user: context.identity.user.id, actor: context.actor)
            switch outcome {
            case .dismissed: flash = "Alert dismissed."
            case .alreadyDismissed: flash = "That alert was dismissed already."
            case .notFound: flash = "There is no such alert; nothing was dismissed."
            }
        } catch let refusal as DomainError where refusal.kind == .forbidden {
            flash = PageSentences.sentence(for: refusal)
        }
        throw PageRedirect.to("/api-keys", flash: flash)
    }

    /// The notice for the page listing `project`'s keys; `nil` when it has no alert to show.
    func notice(for project: Project?, context: PageContext) async throws -> KeyAlertNotice? {
        guard let project else { return nil }
        let entries = try await dashboard.services.keyAlerts.notices(
            in: project.id, for: context.membership, user: context.identity.user.id)
        guard !entries.isEmpty else { return nil }
        return KeyAlertNotice(alerts: entries.map { KeyAlertRow($0, formToken: context.formToken) })
    }
}

/// The view of the `api-key-alerts` partial.
struct KeyAlertNotice: Sendable {
    /// Newest first.
    let alerts: [KeyAlertRow]
}

/// One alert of the notice.
struct KeyAlertRow: Sendable {
    let id: String
    let keyName: String
    let unnamed: Bool
    /// `sk-proj-...Xk3a`.
    let redactedValue: String
    let callSpike: Bool
    let errorSpike: Bool
    let idleKeyUsed: Bool
    /// Calls, or failed calls, in the hour.
    let observed: Int
    /// The usual count per hour.
    let baseline: Int
    /// The usual count rounds down to none.
    let belowOne: Bool
    /// The key's previous call, for an idle key used.
    let idleSince: String
    /// When the alert was raised: the end of the hour looked at.
    let raised: String
    /// Whether the person may dismiss it (they may rotate or revoke the key).
    let canDismiss: Bool
    /// The token the row's form carries.
    let formToken: String

    init(_ entry: KeyAlertEntry, formToken: String) {
        let alert = entry.alert
        id = alert.id.rawValue
        keyName = alert.keyName
        unnamed = alert.keyName.isEmpty
        redactedValue = alert.redactedValue
        callSpike = alert.kind == .callSpike
        errorSpike = alert.kind == .errorSpike
        idleKeyUsed = alert.kind == .idleKeyUsed
        observed = alert.observed
        baseline = alert.baseline
        belowOne = alert.baseline == 0
        idleSince = alert.idleSince.map(UTCTime.minutes) ?? ""
        raised = UTCTime.minutes(alert.createdAt)
        canDismiss = entry.canDismiss
        self.formToken = formToken
    }
}
