import Foundation

/// Limits failed sign-ins per account and per client address, in storage.
///
/// Failures are counted for any email, existing or not, so the throttle itself tells nobody
/// which addresses have accounts.
public struct LoginThrottle: Sendable {
    /// Failed sign-ins allowed per email address per window.
    public var perAccount: FixedWindowLimit
    /// Failed sign-ins allowed per client address per window.
    public var perClientAddress: FixedWindowLimit
    let counters: any RateCounterRepository

    /// Creates a throttle over a counter store.
    public init(
        perAccount: FixedWindowLimit, perClientAddress: FixedWindowLimit,
        counters: any RateCounterRepository
    ) {
        self.perAccount = perAccount
        self.perClientAddress = perClientAddress
        self.counters = counters
    }

    /// One sign-in attempt counted in advance against each budget.
    public struct Reservation: Sendable {
        let slots: [(bucket: String, windowStart: Date, expiresAt: Date)]
    }

    /// Counts the attempt against both budgets before the password is weighed, so a burst of
    /// simultaneous attempts cannot get more guesses than the limit; throws
    /// `too_many_login_attempts` (taking nothing) when either budget is spent. A failed attempt
    /// keeps its reservation; a successful one gives it back with ``release(_:)``.
    public func reserve(email: EmailAddress, clientAddress: String?, now: Date) async throws -> Reservation {
        var taken: [(bucket: String, windowStart: Date, expiresAt: Date)] = []
        for (bucket, limit) in buckets(email: email, clientAddress: clientAddress) {
            let start = limit.windowStart(for: now)
            let expires = start.addingTimeInterval(TimeInterval(limit.window))
            let used = try await counters.add(1, bucket: bucket, windowStart: start, expiresAt: expires)
            taken.append((bucket, start, expires))
            if used > limit.limit {
                try await release(Reservation(slots: taken))
                let wait = limit.secondsUntilReset(from: now)
                throw DomainError(
                    .rateLimited, code: "too_many_login_attempts",
                    message: "Too many failed sign-in attempts. Try again in \(wait) seconds.",
                    retryAfterSeconds: wait)
            }
        }
        return Reservation(slots: taken)
    }

    /// Gives back a reservation: the attempt does not count against the budgets.
    public func release(_ reservation: Reservation) async throws {
        for slot in reservation.slots {
            _ = try await counters.add(
                -1, bucket: slot.bucket, windowStart: slot.windowStart, expiresAt: slot.expiresAt)
        }
    }

    private func buckets(email: EmailAddress, clientAddress: String?) -> [(String, FixedWindowLimit)] {
        // The email is hashed so the counter table holds no addresses.
        var result = [("login:account:\(Digest.sha256Hex(email.value))", perAccount)]
        if let clientAddress {
            result.append(("login:address:\(clientAddress)", perClientAddress))
        }
        return result
    }
}
