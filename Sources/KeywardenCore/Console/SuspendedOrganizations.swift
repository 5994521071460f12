import Synchronization

/// The suspended organizations and their reasons, in memory, so the gateway refuses their keys
/// without a storage round trip. The instance that suspends updates it at once; every instance
/// reloads it every few seconds.
public final class SuspendedOrganizations: Sendable {
    private struct State {
        var reasons: [OrganizationID: String] = [:]
        /// Raised by every change made here, so a reload read before it does not undo it.
        var generation = 0
    }

    private let state = Mutex(State())

    /// Creates an empty set.
    public init() {}

    /// The reason the organization is suspended, or `nil` when it is not.
    public func reason(for organization: OrganizationID) -> String? {
        state.withLock { $0.reasons[organization] }
    }

    /// The count of changes made here so far, to pass to ``replace(with:readAt:)``.
    public var generation: Int { state.withLock { $0.generation } }

    /// Replaces the contents with what storage held, unless this instance changed them since the
    /// read began (at `generation`): that change is newer than the read, and the next reload
    /// brings both in.
    public func replace(with all: [OrganizationID: String], readAt generation: Int) {
        state.withLock { state in
            guard state.generation == generation else { return }
            state.reasons = all
        }
    }

    /// Marks one organization suspended.
    public func insert(_ organization: OrganizationID, reason: String) {
        state.withLock { state in
            state.reasons[organization] = reason
            state.generation += 1
        }
    }

    /// Marks one organization no longer suspended.
    public func remove(_ organization: OrganizationID) {
        state.withLock { state in
            state.reasons.removeValue(forKey: organization)
            state.generation += 1
        }
    }
}
