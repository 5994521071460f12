import Foundation
import KeywardenCore
import PhoneNumbers
import Synchronization

/// Keeps a lookup provider's answers for a while, so a number is looked up (and paid for) once.
public final class LineTypeCache: Sendable {
    private let entries = Mutex<[String: (type: PhoneNumberType?, expires: Date)]>([:])
    private let lifetime: TimeInterval
    private let capacity: Int
    /// Tells when an answer has expired.
    private let clock: Clock

    /// Creates a cache.
    public init(lifetime: TimeInterval = 86_400, capacity: Int = 100_000, clock: Clock = .live) {
        self.lifetime = lifetime
        self.capacity = capacity
        self.clock = clock
    }

    /// Wraps a lookup with this cache.
    public func wrapping(_ lookup: LineTypeLookup) -> LineTypeLookup {
        LineTypeLookup(name: lookup.name) { number in
            let now = self.clock.now()
            if let hit = self.entries.withLock({ $0[number.e164] }), hit.expires > now { return hit.type }
            let type = try await lookup.lookup(number)
            self.entries.withLock { entries in
                if entries.count >= self.capacity { entries.removeAll(keepingCapacity: true) }
                entries[number.e164] = (type, now.addingTimeInterval(self.lifetime))
            }
            return type
        }
    }
}
