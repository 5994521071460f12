import Foundation

/// Limits the emails a person can have sent (confirmation links again, password-reset links),
/// in storage, so nobody can flood an inbox or the mail provider.
///
/// Each email is counted in advance against every bucket it falls in; a send that fails is
/// given back with ``release(_:)``.
public struct EmailSendThrottle: Sendable {
    let counters: any RateCounterRepository

    /// Creates a throttle over a counter store.
    public init(counters: any RateCounterRepository) {
        self.counters = counters
    }

    /// One email counted in advance.
    public struct Reservation: Sendable {
        let units: WindowedAllowance.Reservation
    }

    /// Counts one email against each `(bucket, limit)` in turn; throws `too_many_email_requests`
    /// (429, with `retry-after`), taking nothing, when one of them is spent.
    public func reserve(_ buckets: [(String, FixedWindowLimit)], now: Date) async throws -> Reservation {
        switch try await WindowedAllowance(counters: counters).reserve(buckets, now: now) {
        case .reserved(let units):
            return Reservation(units: units)
        case .refused(let wait):
            throw DomainError(
                .rateLimited, code: .tooManyEmailRequests,
                message: "Too many emails were asked for. Try again in \(wait) seconds.", retryAfterSeconds: wait)
        }
    }

    /// Gives a reservation back: the email does not count.
    public func release(_ reservation: Reservation) async throws {
        try await WindowedAllowance(counters: counters).release(reservation.units)
    }

    /// One bucket per limit, named `prefix` and the limit's window, so windows of different
    /// lengths that start together keep separate counters.
    static func buckets(_ prefix: String, _ limits: [FixedWindowLimit]) -> [(String, FixedWindowLimit)] {
        limits.map { ("\(prefix):\($0.window)s", $0) }
    }
}
