import Foundation

/// Identifies an invitation to an organization (`inv_...`).
public struct InviteID: PrefixedID {
    public static let prefix = "inv"
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

/// A project an invited person joins, with their role there.
public struct InviteGrant: Equatable, Sendable {
    /// The project.
    public var projectID: ProjectID
    /// The role the person gets in it.
    public var role: ProjectRole

    /// Creates a grant.
    public init(projectID: ProjectID, role: ProjectRole) {
        self.projectID = projectID
        self.role = role
    }
}

/// An invitation, sent by email, to join an organization with a role and projects. Its token is
/// never stored, only its SHA-256.
public struct Invite: Equatable, Sendable {
    /// Where an invite stands, as the API shows it.
    public enum Status: String, Sendable {
        case pending
        case accepted
        case expired
    }

    public var id: InviteID
    public var organizationID: OrganizationID
    /// The address the invite was sent to; only the person who signs in with it may accept.
    public var email: EmailAddress
    /// The role in the organization the person gets.
    public var role: OrganizationRole
    /// The projects a reader joins, with their roles there.
    public var projects: [InviteGrant]
    /// Who sent it.
    public var invitedBy: UserID
    public var invitedAt: Date
    public var expiresAt: Date
    public var acceptedAt: Date?
    /// When it was revoked, or replaced by a newer invite to the same address; `nil` while live.
    public var revokedAt: Date?

    /// Creates an invite value.
    public init(
        id: InviteID, organizationID: OrganizationID, email: EmailAddress, role: OrganizationRole,
        projects: [InviteGrant], invitedBy: UserID, invitedAt: Date, expiresAt: Date, acceptedAt: Date? = nil,
        revokedAt: Date? = nil
    ) {
        self.id = id
        self.organizationID = organizationID
        self.email = email
        self.role = role
        self.projects = projects
        self.invitedBy = invitedBy
        self.invitedAt = invitedAt
        self.expiresAt = expiresAt
        self.acceptedAt = acceptedAt
        self.revokedAt = revokedAt
    }

    /// Where the invite stands at `now`.
    public func status(at now: Date) -> Status {
        if acceptedAt != nil { return .accepted }
        return expiresAt > now ? .pending : .expired
    }
}

/// An invite's secret, handed out once in the emailed link.
public struct InviteToken: Sendable {
    /// The secret text: 256 random bits, base64url.
    public let value: String

    /// A new token from the CSPRNG.
    public static func generate() -> InviteToken {
        InviteToken(value: SecureRandom.token(byteCount: 32))
    }

    /// Wraps a token presented by a client.
    public init(value: String) {
        self.value = value
    }

    /// The digest under which the invite is stored and looked up.
    public var digest: String { Digest.sha256Hex(value) }
}
