import Foundation
import Logging
import Synchronization

/// Usage-anomaly alerts per API key: the detector that looks at the gateway's usage every few
/// minutes (``detect()``), the owners' emails, and the alerts members see and dismiss on the API
/// keys page and in `GET /v1/organization/key_alerts`.
public struct KeyAlertService: Sendable {
    let repository: any KeyAlertRepository
    let keys: any APIKeyRepository
    let projects: any ProjectRepository
    let accounts: any AccountRepository
    let audit: any AuditLogRepository
    let email: EmailSender
    /// The rule and how often an alert may repeat.
    public let policy: KeyAlertPolicy
    /// The base of the link in the emails, without a trailing slash.
    let linkBaseURL: String
    let clock: Clock
    let logger: Logger
    /// Baselines already summed this hour, so each busy key's week of minutes is read once an hour.
    let baselines = BaselineMemo()

    /// The most alerts one list reads: one per key, kind and day over a week is far below it for
    /// all but the largest organizations, whose oldest alerts are left off.
    static let listed = 500

    /// Creates the service; `linkBaseURL` starts the link in its emails.
    public init(
        repository: any KeyAlertRepository, keys: any APIKeyRepository, projects: any ProjectRepository,
        accounts: any AccountRepository, audit: any AuditLogRepository, email: EmailSender, policy: KeyAlertPolicy,
        linkBaseURL: String, clock: Clock, logger: Logger = Logger(label: "keywarden.key-alerts")
    ) {
        self.repository = repository
        self.keys = keys
        self.projects = projects
        self.accounts = accounts
        self.audit = audit
        self.email = email
        self.policy = policy
        self.linkBaseURL = linkBaseURL.hasSuffix("/") ? String(linkBaseURL.dropLast()) : linkBaseURL
        self.clock = clock
        self.logger = logger
    }

    // MARK: Reading and dismissing

    /// The alerts of the last 7 days the member may see (those of keys in projects they read;
    /// admin keys' to owners only), newest first; dismissed ones only when asked.
    public func alerts(for membership: Membership, includeDismissed: Bool = false) async throws -> [KeyAlert] {
        try membership.require(.readOrganization)
        let since = clock.now().addingTimeInterval(-KeyAlert.shownFor)
        let all = try await repository.alerts(
            in: membership.organization.id, since: since, includeDismissed: includeDismissed, limit: Self.listed)
        guard let readable = membership.readableProjects else { return all }
        return all.filter { alert in alert.projectID.map { readable.contains($0) } ?? false }
    }

    /// The alerts of one project's keys not dismissed yet, for its API keys page, each with whether
    /// `user` may dismiss it.
    public func notices(
        in project: ProjectID, for membership: Membership, user: UserID
    ) async throws
        -> [KeyAlertEntry]
    {
        guard membership.role(in: project) != nil else { return [] }
        var entries: [KeyAlertEntry] = []
        for alert in try await alerts(for: membership) where alert.projectID == project {
            let key = try await keys.key(alert.apiKeyID, in: membership.organization.id)
            entries.append(
                KeyAlertEntry(alert: alert, canDismiss: key.map { membership.mayChange($0, as: user) } ?? false))
        }
        return entries
    }

    /// What dismissing an alert came to.
    public enum Dismissal: Equatable, Sendable {
        case dismissed
        /// Someone dismissed it before.
        case alreadyDismissed
        /// No alert with that id is visible to the member.
        case notFound
    }

    /// Dismisses an alert, for those who may rotate or revoke its key (its project's owners, and a
    /// member for their own key); audited as `api_key.alert_dismissed`.
    ///
    /// - Throws: `DomainError` `insufficient_permissions` for anyone else.
    public func dismiss(
        _ rawID: String, membership: Membership, user: UserID, actor: AuditActor
    ) async throws -> Dismissal {
        let organization = membership.organization.id
        guard let id = KeyAlertID(rawID), let alert = try await repository.alert(id, in: organization),
            let key = try await keys.key(alert.apiKeyID, in: organization)
        else { return .notFound }
        if let readable = membership.readableProjects, !(alert.projectID.map { readable.contains($0) } ?? false) {
            return .notFound
        }
        try membership.requireChange(of: key, by: user)
        let now = wholeMilliseconds(clock.now())
        guard try await repository.dismiss(id, in: organization, at: now) else { return .alreadyDismissed }
        var details = ["key_alert_id": id.rawValue, "api_key_id": key.id.rawValue, "kind": alert.kind.rawValue]
        if let project = alert.projectID { details["project_id"] = project.rawValue }
        try await audit.append(
            AuditEvent(
                organizationID: organization, type: .apiKeyAlertDismissed, effectiveAt: now, actor: actor,
                details: details))
        return .dismissed
    }
}

/// Baseline totals summed for one baseline end (a whole hour), kept until the hour moves on.
final class BaselineMemo: Sendable {
    struct State: Sendable {
        var end: Date?
        var totals: [APIKeyID: KeyUsageTotals] = [:]
    }

    private let state = Mutex(State())

    /// The totals known for `keys` over the baseline ending at `end`, and the keys not known yet.
    func lookUp(_ keys: [APIKeyID], endingAt end: Date) -> (known: [APIKeyID: KeyUsageTotals], missing: [APIKeyID]) {
        state.withLock { state in
            guard state.end == end else { return ([:], keys) }
            var known: [APIKeyID: KeyUsageTotals] = [:]
            var missing: [APIKeyID] = []
            for key in keys {
                if let totals = state.totals[key] { known[key] = totals } else { missing.append(key) }
            }
            return (known, missing)
        }
    }

    /// Keeps `totals` for the baseline ending at `end`, forgetting those of any other end.
    func remember(_ totals: [APIKeyID: KeyUsageTotals], endingAt end: Date) {
        state.withLock { state in
            if state.end != end { state = State(end: end) }
            state.totals.merge(totals) { $1 }
        }
    }
}
