import Foundation

/// Identifies a usage-anomaly alert (`keyalert_...`).
public struct KeyAlertID: PrefixedID {
    public static let prefix = "keyalert"
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

/// Unusual use of one API key, found by the detector and mailed to the owners of its
/// organization: at most one of each kind per key and alert window.
public struct KeyAlert: Equatable, Sendable {
    /// What was unusual.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// Far more calls in the last hour than the key's usual hourly calls.
        case callSpike = "call_spike"
        /// Far more failed calls in the last hour than usual: metered calls answered 400 or more,
        /// the gateway's rate-limit and spend refusals included (not calls refused before
        /// metering, such as with an invalid or disabled key).
        case errorSpike = "error_spike"
        /// The key was used again after a long time without a call.
        case idleKeyUsed = "idle_key_used"
    }

    public var id: KeyAlertID
    public var apiKeyID: APIKeyID
    public var organizationID: OrganizationID
    /// The key's project; `nil` for an admin key.
    public var projectID: ProjectID?
    public var kind: Kind
    /// The start of the alert window the alert belongs to: one alert per key, kind and window.
    public var windowStart: Date
    /// Calls (or, for ``Kind/errorSpike``, failed calls) in the hour looked at.
    public var observed: Int
    /// The key's usual count per hour over the baseline (rounded down); 0 for ``Kind/idleKeyUsed``.
    public var baseline: Int
    /// For ``Kind/idleKeyUsed``: the key's last call before it was used again.
    public var idleSince: Date?
    public var createdAt: Date
    /// When a member dismissed it; a dismissed alert leaves the API keys page.
    public var dismissedAt: Date?
    /// The key's name, as it is now (read with the alert).
    public var keyName: String
    /// The key's redacted form, `sk-proj-...Xk3a`; never its secret.
    public var redactedValue: String

    /// Creates an alert value.
    public init(
        id: KeyAlertID, apiKeyID: APIKeyID, organizationID: OrganizationID, projectID: ProjectID?, kind: Kind,
        windowStart: Date, observed: Int, baseline: Int, idleSince: Date? = nil, createdAt: Date,
        dismissedAt: Date? = nil, keyName: String = "", redactedValue: String = ""
    ) {
        self.id = id
        self.apiKeyID = apiKeyID
        self.organizationID = organizationID
        self.projectID = projectID
        self.kind = kind
        self.windowStart = windowStart
        self.observed = observed
        self.baseline = baseline
        self.idleSince = idleSince
        self.createdAt = createdAt
        self.dismissedAt = dismissedAt
        self.keyName = keyName
        self.redactedValue = redactedValue
    }

    /// How long an alert that nobody dismissed stays on the API keys page and in the API's list.
    public static let shownFor: TimeInterval = 7 * 86_400
}

/// An alert as a member sees it, with whether they may dismiss it (those who may rotate or
/// revoke its key).
public struct KeyAlertEntry: Equatable, Sendable {
    public var alert: KeyAlert
    public var canDismiss: Bool

    /// Creates an entry.
    public init(alert: KeyAlert, canDismiss: Bool) {
        self.alert = alert
        self.canDismiss = canDismiss
    }
}
