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

    /// Throws `too_many_login_attempts` when either budget is spent.
    public func check(email: EmailAddress, clientAddress: String?, now: Date) async throws {
        for (bucket, limit) in buckets(email: email, clientAddress: clientAddress) {
            let used = try await counters.count(bucket: bucket, windowStart: limit.windowStart(for: now))
            if used >= limit.limit {
                let wait = limit.secondsUntilReset(from: now)
                throw DomainError(
                    .rateLimited, code: "too_many_login_attempts",
                    message: "Too many failed sign-in attempts. Try again in \(wait) seconds.",
                    retryAfterSeconds: wait)
            }
        }
    }

    /// Counts one failed sign-in against both budgets.
    public func recordFailure(email: EmailAddress, clientAddress: String?, now: Date) async throws {
        for (bucket, limit) in buckets(email: email, clientAddress: clientAddress) {
            let start = limit.windowStart(for: now)
            _ = try await counters.add(
                1, bucket: bucket, windowStart: start,
                expiresAt: start.addingTimeInterval(TimeInterval(limit.window)))
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
