import Foundation

/// The current time, passed in so tests can hold it still or move it.
public struct Clock: Sendable {
    /// Returns the current instant.
    public var now: @Sendable () -> Date

    /// Creates a clock from a closure.
    public init(now: @escaping @Sendable () -> Date) {
        self.now = now
    }

    /// The system clock.
    public static let live = Clock(now: { Date() })
}

/// One-way password hashing, passed in so tests can use a cheap cost.
public struct PasswordHasher: Sendable {
    /// Hashes a password for storage.
    public var hash: @Sendable (String) async throws -> String
    /// Checks a password against a stored hash.
    public var verify: @Sendable (String, String) async throws -> Bool

    /// Creates a hasher from its two operations.
    public init(
        hash: @escaping @Sendable (String) async throws -> String,
        verify: @escaping @Sendable (String, String) async throws -> Bool
    ) {
        self.hash = hash
        self.verify = verify
    }
}
