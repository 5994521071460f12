import Foundation

/// Identifies an API key record (`key_...`), not the secret.
public struct APIKeyID: PrefixedID {
    public static let prefix = "key"
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

/// Identifies a service account (`svc_...`).
public struct ServiceAccountID: PrefixedID {
    public static let prefix = "svc"
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

/// What a key may do.
public enum KeyPermissions: Equatable, Sendable {
    /// Everything the key's kind allows.
    case all
    /// Only reads.
    case readOnly
    /// Only these scopes, such as `model.request` or `api.files.read`.
    case restricted([String])

    /// The name shown in the API: `all`, `read_only` or `restricted`.
    public var name: String {
        switch self {
        case .all: "all"
        case .readOnly: "read_only"
        case .restricted: "restricted"
        }
    }

    /// The scopes of a restricted key; empty otherwise.
    public var scopes: [String] {
        if case .restricted(let scopes) = self { return scopes }
        return []
    }

    /// Reads permissions from the API's fields.
    public init(name: String?, scopes: [String]?) throws {
        switch name ?? "all" {
        case "all": self = .all
        case "read_only": self = .readOnly
        case "restricted":
            let scopes = scopes ?? []
            guard !scopes.isEmpty else {
                throw DomainError.invalidField("scopes", "A restricted key needs at least one scope.")
            }
            for scope in scopes where !Self.isValidScope(scope) {
                throw DomainError.invalidField(
                    "scopes",
                    "Unknown scope '\(scope)'. Use model.request, api.<resource>.read or api.<resource>.write.")
            }
            self = .restricted(scopes.sorted())
        default:
            throw DomainError.invalidField("permissions", "'permissions' must be all, read_only or restricted.")
        }
        if name != "restricted", scopes?.isEmpty == false {
            throw DomainError.invalidField("scopes", "Scopes apply only to restricted keys.")
        }
    }

    /// `model.request`, `api.<resource>.read`, `api.<resource>.write`, where a resource is lowercase
    /// letters and underscores, or `*` for every resource.
    static func isValidScope(_ scope: String) -> Bool {
        if scope == "model.request" { return true }
        let parts = scope.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 3 && parts[0] == "api" && (parts[2] == "read" || parts[2] == "write")
            && (parts[1] == "*"
                || (!parts[1].isEmpty && parts[1].utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || $0 == 95 }))
    }

    /// The stored form: `all`, `read_only`, or `restricted:scope,scope`.
    public var stored: String {
        switch self {
        case .all, .readOnly: name
        case .restricted(let scopes): "restricted:" + scopes.joined(separator: ",")
        }
    }

    /// Reads the stored form.
    public init?(stored: String) {
        switch stored {
        case "all": self = .all
        case "read_only": self = .readOnly
        default:
            guard stored.hasPrefix("restricted:") else { return nil }
            self = .restricted(stored.dropFirst(11).split(separator: ",").map(String.init))
        }
    }
}

/// Who a key acts for.
public enum KeyOwner: Equatable, Sendable {
    case user(UserID)
    case serviceAccount(ServiceAccountID)

    /// `user` or `service_account`.
    public var type: String {
        switch self {
        case .user: "user"
        case .serviceAccount: "service_account"
        }
    }

    /// The owner's id.
    public var id: String {
        switch self {
        case .user(let id): id.rawValue
        case .serviceAccount(let id): id.rawValue
        }
    }
}

/// An API key as stored: its SHA-256, never the key.
public struct APIKey: Equatable, Sendable {
    public var id: APIKeyID
    public var kind: APIKeyFormat.Kind
    public var organizationID: OrganizationID
    /// The project, for project and service-account keys; `nil` for admin keys.
    public var projectID: ProjectID?
    public var name: String
    public var owner: KeyOwner
    public var permissions: KeyPermissions
    /// The lowercase hex SHA-256 of the whole key.
    public var digest: String
    /// `sk-proj-...Xk3a`.
    public var redactedValue: String
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var expiresAt: Date?
    public var revokedAt: Date?
    /// Created before the enforcement date (imported keys keep their original date).
    public var legacy: Bool
    /// The key this one replaced by rotation.
    public var rotatedFrom: APIKeyID?
    /// Since when the key is disabled: refused until it is enabled again; `nil` while enabled.
    public var disabledAt: Date?
    /// The client addresses the key accepts calls from; any address when it has no ranges.
    public var allowedIPs: AllowedIPRanges

    /// Creates a key record.
    public init(
        id: APIKeyID, kind: APIKeyFormat.Kind, organizationID: OrganizationID, projectID: ProjectID?, name: String,
        owner: KeyOwner, permissions: KeyPermissions, digest: String, redactedValue: String, createdAt: Date,
        lastUsedAt: Date? = nil, expiresAt: Date? = nil, revokedAt: Date? = nil, legacy: Bool = false,
        rotatedFrom: APIKeyID? = nil, disabledAt: Date? = nil, allowedIPs: AllowedIPRanges = .any
    ) {
        self.id = id
        self.kind = kind
        self.organizationID = organizationID
        self.projectID = projectID
        self.name = name
        self.owner = owner
        self.permissions = permissions
        self.digest = digest
        self.redactedValue = redactedValue
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.legacy = legacy
        self.rotatedFrom = rotatedFrom
        self.disabledAt = disabledAt
        self.allowedIPs = allowedIPs
    }

    /// Whether the key is neither revoked nor expired at `now`: for good or not at all. A
    /// disabled key is active (it can be enabled again) but authenticates nothing meanwhile.
    public func isActive(at now: Date) -> Bool {
        revokedAt == nil && (expiresAt.map { $0 > now } ?? true)
    }

    /// Whether the key is disabled.
    public var isDisabled: Bool { disabledAt != nil }
}

/// A key together with its secret value, which exists only in the response that creates it.
public struct IssuedAPIKey: Sendable {
    public var key: APIKey
    /// The secret; shown once.
    public var value: String
}

/// A service account: a project member that is not a person, with its key.
public struct ServiceAccount: Equatable, Sendable {
    public var id: ServiceAccountID
    public var projectID: ProjectID
    public var organizationID: OrganizationID
    public var name: String
    public var createdAt: Date

    /// Creates a service account value.
    public init(
        id: ServiceAccountID, projectID: ProjectID, organizationID: OrganizationID, name: String, createdAt: Date
    ) {
        self.id = id
        self.projectID = projectID
        self.organizationID = organizationID
        self.name = name
        self.createdAt = createdAt
    }
}
