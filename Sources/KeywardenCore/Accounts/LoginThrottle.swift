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
        let units: WindowedAllowance.Reservation
    }

    /// Counts the attempt against both budgets before the password is weighed, so a burst of
    /// simultaneous attempts cannot get more guesses than the limit; throws
    /// `too_many_login_attempts` (taking nothing) when either budget is spent. A failed attempt
    /// keeps its reservation; a successful one gives it back with ``release(_:)``.
    public func reserve(email: EmailAddress, clientAddress: String?, now: Date) async throws -> Reservation {
        switch try await allowance.reserve(buckets(email: email, clientAddress: clientAddress), now: now) {
        case .reserved(let units):
            return Reservation(units: units)
        case .refused(let wait):
            throw DomainError(
                .rateLimited, code: .tooManyLoginAttempts,
                message: "Too many failed sign-in attempts. Try again in \(wait) seconds.",
                retryAfterSeconds: wait)
        }
    }

    /// Gives back a reservation: the attempt does not count against the budgets.
    public func release(_ reservation: Reservation) async throws {
        try await allowance.release(reservation.units)
    }

    private var allowance: WindowedAllowance { WindowedAllowance(counters: counters) }

    private func buckets(email: EmailAddress, clientAddress: String?) -> [(String, FixedWindowLimit)] {
        // The email is hashed so the counter table holds no addresses.
        var result = [("login:account:\(Digest.sha256Hex(email.value))", perAccount)]
        if let clientAddress {
            result.append(("login:address:\(clientAddress)", perClientAddress))
        }
        return result
    }
}
