import Foundation

/// One event counted in advance against several fixed-window limits kept in storage, and given
/// back when it turns out not to count.
///
/// Each bucket's counter is raised with an atomic add that returns the new total, so simultaneous
/// events can never pass a limit together. When a total goes over its limit, every unit taken so
/// far, that bucket's included, is given back and the event is refused.
struct WindowedAllowance: Sendable {
    let counters: any RateCounterRepository

    /// One unit taken from a bucket's window.
    struct Slot: Sendable {
        let bucket: String
        let windowStart: Date
        let expiresAt: Date
    }

    /// The units one event took, one per bucket, to give back with ``release(_:)``.
    struct Reservation: Sendable {
        fileprivate var slots: [Slot] = []
    }

    /// What reserving came to.
    enum Outcome: Sendable {
        /// One unit is taken in every bucket.
        case reserved(Reservation)
        /// A bucket was already full; nothing is kept, and its window ends in this many seconds.
        case refused(retryAfterSeconds: Int)
    }

    /// Takes one unit in each bucket's current window, in order, stopping at the first bucket
    /// that goes over its limit.
    func reserve(_ buckets: [(String, FixedWindowLimit)], now: Date) async throws -> Outcome {
        var reservation = Reservation()
        for (bucket, limit) in buckets {
            let start = limit.windowStart(for: now)
            let expires = start.addingTimeInterval(TimeInterval(limit.window))
            let total = try await counters.add(1, bucket: bucket, windowStart: start, expiresAt: expires)
            reservation.slots.append(Slot(bucket: bucket, windowStart: start, expiresAt: expires))
            if total > limit.limit {
                try await release(reservation)
                return .refused(retryAfterSeconds: limit.secondsUntilReset(from: now))
            }
        }
        return .reserved(reservation)
    }

    /// Gives every unit of a reservation back.
    func release(_ reservation: Reservation) async throws {
        for slot in reservation.slots {
            _ = try await counters.add(
                -1, bucket: slot.bucket, windowStart: slot.windowStart, expiresAt: slot.expiresAt)
        }
    }
}
