/// An identifier shown to clients as a prefix and random base62 text, such as `proj_...`.
///
/// Each entity has its own type, so a project id cannot be passed where a user id is expected.
public protocol PrefixedID: Hashable, Sendable, Codable, CustomStringConvertible,
    LosslessStringConvertible
{
    /// The text before the underscore, such as `proj`.
    static var prefix: String { get }
    /// The whole identifier, prefix included.
    var rawValue: String { get }
    /// Wraps a stored identifier without checking it.
    init(unchecked rawValue: String)
}

extension PrefixedID {
    /// A new identifier with 24 random base62 characters (about 143 bits).
    public static func generate() -> Self {
        Self(unchecked: "\(prefix)_\(SecureRandom.base62(length: 24))")
    }

    /// Parses an identifier from client input; `nil` when the prefix or characters are wrong.
    public init?(_ description: String) {
        let head = Self.prefix + "_"
        guard description.hasPrefix(head), description.utf8.count <= 64,
            description.utf8.count > head.utf8.count,
            description.utf8.dropFirst(head.utf8.count).allSatisfy({ SecureRandom.base62.contains($0) })
        else { return nil }
        self.init(unchecked: description)
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        self.init(unchecked: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Identifies a person's account.
public struct UserID: PrefixedID {
    public static let prefix = "user"
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

/// Identifies an organization.
public struct OrganizationID: PrefixedID {
    public static let prefix = "org"
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

/// Identifies a project inside an organization.
public struct ProjectID: PrefixedID {
    public static let prefix = "proj"
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

/// Identifies a sign-in session (not its secret token).
public struct SessionID: PrefixedID {
    public static let prefix = "sessid"
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}
