import Foundation
import KeywardenCore
import Synchronization

/// A clock that stands still until a test moves it.
final class ManualClock: Sendable {
    private let current: Mutex<Date>

    /// A clock showing `start`.
    init(_ start: Date) {
        current = Mutex(start)
    }

    /// The time it shows.
    var now: Date { current.withLock { $0 } }

    /// The clock to hand to a service.
    var clock: Clock { Clock(now: { self.current.withLock { $0 } }) }

    /// Moves the time on by `seconds`.
    func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}
