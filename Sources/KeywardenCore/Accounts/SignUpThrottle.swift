import Foundation

/// Limits sign-ups per client address (`signups_per_address_per_hour`), in storage, so a script
/// cannot make a hundred accounts from one address.
///
/// Every attempt that gets past the checks of what was typed is counted before any work is
/// done (CAPTCHA, hashing, storage), with an atomic add: simultaneous attempts cannot pass the
/// limit together, and attempts that then fail still count.
public struct SignUpThrottle: Sendable {
    /// Sign-ups allowed per client address per window.
    public var perClientAddress: FixedWindowLimit
    let counters: any RateCounterRepository

    /// Creates a throttle over a counter store.
    public init(perClientAddress: FixedWindowLimit, counters: any RateCounterRepository) {
        self.perClientAddress = perClientAddress
        self.counters = counters
    }

    /// Counts one sign-up from `clientAddress` (none counted without one); throws
    /// `too_many_signups` (429, with `retry-after`) when the address's budget is spent.
    public func count(clientAddress: String?, now: Date) async throws {
        guard let clientAddress else { return }
        let allowance = WindowedAllowance(counters: counters)
        switch try await allowance.reserve([("signup:address:\(clientAddress)", perClientAddress)], now: now) {
        case .reserved:
            return
        case .refused(let wait):
            throw DomainError(
                .rateLimited, code: .tooManySignups,
                message: "Too many accounts were made from your network address. Try again in \(wait) seconds.",
                retryAfterSeconds: wait)
        }
    }
}
