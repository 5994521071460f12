import Foundation

extension APIKeyService {
    /// The settings of a key to create.
    public struct Request: Sendable {
        /// The shortest life a key may be given: a minute.
        public static let shortestExpiry = 60
        /// The longest life a key may be given: five years of 365 days.
        public static let longestExpiry = 5 * 365 * 86_400

        public var name: String
        public var permissions: KeyPermissions
        public var expiresIn: TimeInterval?
        /// The latest the key may expire: the expiry of the key that makes it or that it replaces.
        /// Without `expiresIn` the key expires then; `expiresIn` may bring that sooner, and one
        /// that would reach past it is refused.
        public var latestExpiry: Date?
        /// The client addresses the key will accept calls from; any address when empty.
        public var allowedIPs: AllowedIPRanges

        /// Creates a request, checking `expiresInSeconds` (60 seconds to five years) and reading
        /// `allowedIPs` (at most 32 addresses or CIDR ranges; none for any address).
        public init(
            name: String?, permissions: KeyPermissions, expiresInSeconds: Int?, allowedIPs: [String]? = nil
        ) throws {
            self.name = try DisplayName.validate(name ?? "", field: "name")
            self.permissions = permissions
            if let expiresInSeconds {
                guard (Self.shortestExpiry...Self.longestExpiry).contains(expiresInSeconds) else {
                    throw DomainError.invalidField(
                        "expires_in_seconds",
                        "'expires_in_seconds' must be from \(Self.shortestExpiry) (a minute) "
                            + "to \(Self.longestExpiry) (five years).")
                }
                self.expiresIn = TimeInterval(expiresInSeconds)
            }
            self.allowedIPs = try AllowedIPRanges(parsing: allowedIPs ?? [])
        }

        /// When a key made at `now` expires: `expiresIn` after it, else at `latestExpiry`, else
        /// never.
        ///
        /// - Throws: `insufficient_permissions`, param `expires_in_seconds`, for an `expiresIn`
        ///   that reaches past `latestExpiry`: a key makes no key that outlives it.
        func expiresAt(madeAt now: Date) throws -> Date? {
            guard let latest = latestExpiry else { return expiresIn.map { now.addingTimeInterval($0) } }
            guard let expiresIn else { return latest }
            let asked = now.addingTimeInterval(expiresIn)
            if asked <= latest { return asked }
            let left = Int(latest.timeIntervalSince(now))
            let instead =
                if left >= Self.shortestExpiry {
                    "Ask for at most \(left) in 'expires_in_seconds', or leave it out"
                } else {
                    "Leave out 'expires_in_seconds'"
                }
            throw DomainError(
                .forbidden, code: .insufficientPermissions,
                message: "A key that expires can create keys only expiring by then: this one expires in \(left) "
                    + "seconds. \(instead) for a key that expires with this one.",
                param: "expires_in_seconds")
        }
    }
}
