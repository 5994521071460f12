import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// `GET /v1/organization/key_alerts`: the usage-anomaly alerts of the last 7 days, newest first,
/// of the keys in the projects the caller reads.
public struct KeyAlertController: Sendable {
    let alerts: KeyAlertService

    /// Creates the controller.
    public init(alerts: KeyAlertService) {
        self.alerts = alerts
    }

    /// Registers the route.
    public func addRoutes(to router: CatalogingRouter<KeywardenRequestContext>) {
        router.group("/v1/organization", context: OrganizationContext.self).get("key_alerts", use: list)
    }

    @Sendable func list(_ request: Request, context: OrganizationContext) async throws -> ListObject<KeyAlertObject> {
        let includeDismissed = try request.booleanQuery("include_dismissed") ?? false
        let listed = try await alerts.alerts(for: context.membership, includeDismissed: includeDismissed)
        return try ListObject<KeyAlertObject>.paging(
            listed.map(KeyAlertObject.init), id: \.id, request: request, cursor: { KeyAlertID($0) != nil },
            expected: "a key alert id")
    }
}

/// One alert: which key, what kind, what was seen against what is usual.
struct KeyAlertObject: ResponseEncodable {
    let object = "organization.key_alert"
    let id: String
    let kind: String
    let apiKeyID: String
    let apiKeyName: String
    let redactedValue: String
    @ExplicitNull var projectID: String?
    let observed: Int
    let baseline: Int
    @ExplicitNull var idleSince: Int64?
    let windowStart: Int64
    let createdAt: Int64
    @ExplicitNull var dismissedAt: Int64?

    init(_ alert: KeyAlert) {
        id = alert.id.rawValue
        kind = alert.kind.rawValue
        apiKeyID = alert.apiKeyID.rawValue
        apiKeyName = alert.keyName
        redactedValue = alert.redactedValue
        projectID = alert.projectID?.rawValue
        observed = alert.observed
        baseline = alert.baseline
        idleSince = alert.idleSince?.unixSeconds
        windowStart = alert.windowStart.unixSeconds
        createdAt = alert.createdAt.unixSeconds
        dismissedAt = alert.dismissedAt?.unixSeconds
    }

    enum CodingKeys: String, CodingKey {
        case object, id, kind, observed, baseline
        case apiKeyID = "api_key_id"
        case apiKeyName = "api_key_name"
        case redactedValue = "redacted_value"
        case projectID = "project_id"
        case idleSince = "idle_since"
        case windowStart = "window_start"
        case createdAt = "created_at"
        case dismissedAt = "dismissed_at"
    }
}
