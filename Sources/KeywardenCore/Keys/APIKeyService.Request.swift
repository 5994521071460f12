import Foundation

extension APIKeyService {
    /// The settings of a key to create.
    public struct Request: Sendable {
        public var name: String
        public var permissions: KeyPermissions
        public var expiresIn: TimeInterval?

        /// Creates a request.
        public init(name: String?, permissions: KeyPermissions, expiresInSeconds: Int?) throws {
            self.name = try DisplayName.validate(name ?? "", field: "name")
            self.permissions = permissions
            if let expiresInSeconds {
                guard expiresInSeconds > 0, expiresInSeconds <= 10 * 365 * 86_400 else {
                    throw DomainError.invalidField(
                        "expires_in_seconds", "'expires_in_seconds' must be between 1 and 315360000.")
                }
                self.expiresIn = TimeInterval(expiresInSeconds)
            }
        }
    }
}
