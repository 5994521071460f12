import Foundation

/// Why and since when an organization is suspended.
public struct Suspension: Equatable, Sendable {
    public var suspendedAt: Date
    /// What the operator wrote; shown to the organization's members.
    public var reason: String

    /// Creates a value.
    public init(suspendedAt: Date, reason: String) {
        self.suspendedAt = suspendedAt
        self.reason = reason
    }

    /// The longest reason kept.
    public static let maxReasonLength = 500
}

/// One organization as the console's search lists it.
public struct OrganizationSummary: Equatable, Sendable {
    public var organization: Organization
    public var memberCount: Int
    public var suspension: Suspension?

    /// Creates a value.
    public init(organization: Organization, memberCount: Int, suspension: Suspension?) {
        self.organization = organization
        self.memberCount = memberCount
        self.suspension = suspension
    }
}

/// An audit event as the console lists it across organizations: `organizationID` is `nil` for
/// actions on the deployment itself (the prefix guard, operator grants).
public struct ConsoleAuditEvent: Equatable, Sendable {
    public var id: AuditEventID
    public var organizationID: OrganizationID?
    public var type: String
    public var effectiveAt: Date
    public var actor: AuditActor
    public var details: [String: String]

    /// Creates a value.
    public init(
        id: AuditEventID, organizationID: OrganizationID?, type: String, effectiveAt: Date, actor: AuditActor,
        details: [String: String]
    ) {
        self.id = id
        self.organizationID = organizationID
        self.type = type
        self.effectiveAt = effectiveAt
        self.actor = actor
        self.details = details
    }
}

extension ConsoleRepository {
    /// The first page of a search.
    public func searchOrganizations(
        _ query: String, phoneDigest: String?, limit: Int
    ) async throws
        -> [OrganizationSummary]
    {
        try await searchOrganizations(query, phoneDigest: phoneDigest, after: nil, limit: limit)
    }

    /// Suspends with nothing to audit.
    public func suspend(_ organization: OrganizationID, reason: String, at now: Date) async throws -> Bool {
        try await suspend(organization, reason: reason, at: now, recording: [])
    }

    /// Lifts a suspension with nothing to audit.
    public func unsuspend(_ organization: OrganizationID) async throws -> Bool {
        try await unsuspend(organization, recording: [])
    }
}

/// What an operator did to the deployment itself, as the console's audit log records it.
public enum ConsoleEventType: String, Sendable, CaseIterable {
    /// With `user_id` and `email`.
    case operatorGranted = "operator.granted"
    case operatorRevoked = "operator.revoked"
    /// With `prefix`.
    case prefixPauseLifted = "prefix_guard.pause_lifted"
    /// With `prefix`, `kind` and `reason`.
    case prefixRuleSet = "prefix_guard.rule_set"
    case prefixRuleRemoved = "prefix_guard.rule_removed"
}

/// What the operator console reads and changes across organizations.
public protocol ConsoleRepository: Sendable {
    // MARK: Operators

    /// Whether the user holds the operator role.
    func isOperator(_ user: UserID) async throws -> Bool
    /// Grants the role; `false` when the user held it already.
    func grantOperator(_ user: UserID, at now: Date) async throws -> Bool
    /// Takes the role away; `false` when the user did not hold it.
    func revokeOperator(_ user: UserID) async throws -> Bool
    /// Every operator, by email address.
    func operators() async throws -> [User]

    // MARK: Organizations

    /// Organizations matching `query`: an exact organization id, a part of the name or of a
    /// member's email address (case-insensitive), the last digits of the verified number, or
    /// (`phoneDigest`) the whole verified number by its digest. Newest first, after the
    /// organization `after`; every organization when `query` is empty.
    func searchOrganizations(
        _ query: String, phoneDigest: String?, after: OrganizationID?, limit: Int
    )
        async throws -> [OrganizationSummary]
    /// The organization's suspension, if any.
    func suspension(of organization: OrganizationID) async throws -> Suspension?
    /// Suspends an organization, appending `events` to the audit log in the same transaction;
    /// `false` (and nothing written) when it was suspended already.
    func suspend(
        _ organization: OrganizationID, reason: String, at now: Date, recording events: [AuditEvent]
    )
        async throws -> Bool
    /// Lifts a suspension, appending `events` in the same transaction; `false` when there was none.
    func unsuspend(_ organization: OrganizationID, recording events: [AuditEvent]) async throws -> Bool
    /// Every suspended organization with its reason (for the gateway's in-memory set).
    func suspendedOrganizations() async throws -> [OrganizationID: String]
    /// The organization's keys of every kind, revoked ones included, newest first.
    func keys(of organization: OrganizationID, limit: Int) async throws -> [APIKey]
    /// How many other organizations were verified with the same number.
    func organizationsSharingNumber(with organization: OrganizationID) async throws -> Int
    /// How many other organizations saved a card with the same fingerprint as one of this one's.
    func organizationsSharingCard(with organization: OrganizationID) async throws -> Int

    // MARK: Audit

    /// Records an operator action on the deployment itself (no organization).
    func appendConsoleEvent(type: String, actor: AuditActor, details: [String: String], at now: Date) async throws
    /// Audit events of every organization and of the console, newest first, optionally of one
    /// organization (its own events only) and of some types, after the event `after`.
    func auditEvents(
        organization: OrganizationID?, types: [String]?, after: AuditEventID?, limit: Int
    ) async throws -> Page<ConsoleAuditEvent>
}
