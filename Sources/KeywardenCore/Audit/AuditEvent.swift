import Foundation

/// Identifies an audit event (`audit_...`).
public struct AuditEventID: PrefixedID {
    public static let prefix = "audit"
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

/// Who did something.
public struct AuditActor: Equatable, Sendable, Codable {
    /// `session` (a person), `operator` (the console with the operator named, or the CLI) or `system`.
    public var type: String
    public var userID: String?
    public var email: String?
    public var ipAddress: String?

    /// Creates an actor.
    public init(type: String, userID: String? = nil, email: String? = nil, ipAddress: String? = nil) {
        self.type = type
        self.userID = userID
        self.email = email
        self.ipAddress = ipAddress
    }

    /// A signed-in person.
    public static func session(_ user: User, ipAddress: String?) -> AuditActor {
        AuditActor(type: "session", userID: user.id.rawValue, email: user.email.value, ipAddress: ipAddress)
    }

    /// The operator, through the command line.
    public static let `operator` = AuditActor(type: "operator")

    /// An operator signed in to the console (or its API), by name.
    public static func console(_ user: User, ipAddress: String?) -> AuditActor {
        AuditActor(type: "operator", userID: user.id.rawValue, email: user.email.value, ipAddress: ipAddress)
    }
    /// Keywarden itself (expiry, provider callbacks).
    public static let system = AuditActor(type: "system")
}

/// One entry of an organization's append-only audit log.
public struct AuditEvent: Equatable, Sendable {
    public var id: AuditEventID
    public var organizationID: OrganizationID
    /// What happened, such as `phone_verification.approved`.
    public var type: AuditEventType
    public var effectiveAt: Date
    public var actor: AuditActor
    /// What the event is about; never secrets (no codes, no full numbers).
    public var details: [String: String]

    /// Creates an event.
    public init(
        id: AuditEventID = .generate(), organizationID: OrganizationID, type: AuditEventType, effectiveAt: Date,
        actor: AuditActor, details: [String: String]
    ) {
        self.id = id
        self.organizationID = organizationID
        self.type = type
        self.effectiveAt = effectiveAt
        self.actor = actor
        self.details = details
    }
}

/// The append-only audit log.
public protocol AuditLogRepository: Sendable {
    /// Appends an event.
    func append(_ event: AuditEvent) async throws

    /// Events of an organization, newest first, optionally of some types only and effective
    /// from `from` (inclusive) until `until` (exclusive), after the event `after`.
    ///
    /// The cursor may name any event of the organization, whatever its type or time.
    func events(
        in organization: OrganizationID, types: [AuditEventType]?, from: Date?, until: Date?, after: AuditEventID?,
        limit: Int
    ) async throws
        -> Page<AuditEvent>
}
