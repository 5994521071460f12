import Synchronization

/// The suspended organizations and their reasons, in memory, so the gateway refuses their keys
/// without a storage round trip. The instance that suspends updates it at once; every instance
/// reloads it every few seconds.
public final class SuspendedOrganizations: Sendable {
    private let reasons = Mutex<[OrganizationID: String]>([:])

    /// Creates an empty set.
    public init() {}

    /// The reason the organization is suspended, or `nil` when it is not.
    public func reason(for organization: OrganizationID) -> String? {
        reasons.withLock { $0[organization] }
    }

    /// Replaces the contents.
    public func replace(with all: [OrganizationID: String]) {
        reasons.withLock { $0 = all }
    }

    /// Marks one organization suspended.
    public func insert(_ organization: OrganizationID, reason: String) {
        reasons.withLock { $0[organization] = reason }
    }

    /// Marks one organization no longer suspended.
    public func remove(_ organization: OrganizationID) {
        _ = reasons.withLock { $0.removeValue(forKey: organization) }
    }
}
