import Foundation
import Logging
import PhoneNumbers

/// The send caps of DESIGN §3 and the adaptive per-prefix guard of §7, kept in storage.
///
/// A send first reserves one unit in every bucket through a ``WindowedAllowance`` (an atomic add
/// that returns the new total); if any bucket goes over, every reservation is given back and the
/// send is refused. So simultaneous starts can never pass a cap together, and a provider failure
/// gives its units back. The prefix guard counts sends and approvals per number prefix, which the
/// throttle works out from the number itself.
public struct SendThrottle: Sendable {
    let counters: any RateCounterRepository
    let policy: VerificationPolicy
    let logger: Logger
    /// The operator's safe and blocked prefixes, and where pauses are recorded for the console.
    let prefixRules: (any PrefixGuardRepository)?

    /// Creates a throttle; prefix pauses are logged for the operator and recorded in `prefixRules`.
    public init(
        counters: any RateCounterRepository, policy: VerificationPolicy, logger: Logger,
        prefixRules: (any PrefixGuardRepository)? = nil
    ) {
        self.counters = counters
        self.policy = policy
        self.logger = logger
        self.prefixRules = prefixRules
    }

    /// Units taken from the buckets, to give back if the message cannot be sent.
    public struct Reservation: Sendable {
        let units: WindowedAllowance.Reservation
    }

    /// Reserves one send for a number, organization and client address.
    public func reserve(
        phoneDigest: String, organization: OrganizationID, clientAddress: String?, now: Date
    ) async throws -> Reservation {
        var buckets: [(String, FixedWindowLimit)] = [
            ("sms:number:10m:\(phoneDigest)", FixedWindowLimit(limit: policy.sendsPerNumberPer10Minutes, window: 600)),
            ("sms:number:day:\(phoneDigest)", FixedWindowLimit(limit: policy.sendsPerNumberPerDay, window: 86_400)),
            (
                "sms:organization:day:\(organization)",
                FixedWindowLimit(limit: policy.sendsPerOrganizationPerDay, window: 86_400)
            ),
        ]
        if let clientAddress {
            buckets.append(
                (
                    "sms:address:hour:\(clientAddress)",
                    FixedWindowLimit(limit: policy.sendsPerClientAddressPerHour, window: 3600)
                ))
        }
        switch try await allowance.reserve(buckets, now: now) {
        case .reserved(let units):
            return Reservation(units: units)
        case .refused(let wait):
            throw DomainError.tooManyVerificationRequests(retryAfterSeconds: wait)
        }
    }

    /// Gives reserved units back.
    public func release(_ reservation: Reservation) async throws {
        try await allowance.release(reservation.units)
    }

    private var allowance: WindowedAllowance { WindowedAllowance(counters: counters) }

    // MARK: Prefix guard

    /// `+` and calling code and the first digits of the national number: the unit the guard
    /// counts in.
    func prefix(of number: PhoneNumber) -> String {
        "+\(number.countryCode)" + number.nationalNumber.prefix(policy.prefixGuard.prefixDigits)
    }

    /// The prefix of an E.164 number; the number itself if it no longer parses.
    func prefix(ofE164 e164: String) -> String {
        guard let number = try? PhoneNumbers.parse(e164, defaultRegion: nil) else { return e164 }
        return prefix(of: number)
    }

    /// Refuses a number in a range the operator blocked.
    public func checkBlocked(_ e164: String) async throws {
        guard let prefixRules else { return }
        if try await prefixRules.rules().rule(for: e164)?.kind == .blocked { throw DomainError.phonePrefixBlocked }
    }

    /// Refuses a send to a number the operator blocked, or to a prefix whose recent sends are many
    /// and approvals few, unless the operator marked it safe or lifted its pause.
    public func checkPrefix(_ prefix: String, e164: String, now: Date) async throws {
        if let prefixRules {
            switch try await prefixRules.rules().rule(for: e164)?.kind {
            case .blocked: throw DomainError.phonePrefixBlocked
            case .safe: return
            case nil: break
            }
            if let pause = try await prefixRules.pause(prefix: prefix), pause.liftedAt != nil, now < pause.until {
                return
            }
        }
        let guardPolicy = policy.prefixGuard
        let sends = try await slidingCount("sms:prefix:sends:\(prefix)", now: now)
        guard sends >= Double(guardPolicy.minimumSends) else { return }
        let approvals = try await slidingCount("sms:prefix:approvals:\(prefix)", now: now)
        guard approvals / sends < guardPolicy.minimumApprovalRate else { return }
        let window = Int(guardPolicy.window)
        let wait = FixedWindowLimit(limit: 1, window: window).secondsUntilReset(from: now)
        // The prefix is the calling code and a few digits: it names a range, never a number.
        logger.warning(
            "number prefix paused: many verification sends, few approvals",
            metadata: [
                "prefix": .string(prefix), "sends": .string(String(format: "%.1f", sends)),
                "approvals": .string(String(format: "%.1f", approvals)),
            ])
        if let prefixRules {
            let reason =
                "\(Int(sends.rounded())) sends and \(Int(approvals.rounded())) approvals in the last \(window / 60) minutes"
            do {
                try await prefixRules.recordPause(
                    PrefixPause(
                        prefix: prefix, reason: reason, pausedAt: now,
                        until: now.addingTimeInterval(TimeInterval(wait))))
            } catch {
                logger.warning("prefix pause not recorded", metadata: ["prefix": .string(prefix)])
            }
        }
        throw DomainError.prefixPaused(retryAfterSeconds: wait)
    }

    /// Counts a send to a prefix.
    public func recordPrefixSend(_ prefix: String, now: Date) async throws {
        try await bump("sms:prefix:sends:\(prefix)", now: now)
    }

    /// Counts an approval for a prefix.
    public func recordPrefixApproval(_ prefix: String, now: Date) async throws {
        try await bump("sms:prefix:approvals:\(prefix)", now: now)
    }

    private func bump(_ bucket: String, now: Date) async throws {
        let window = Int(policy.prefixGuard.window)
        let limit = FixedWindowLimit(limit: 1, window: window)
        let start = limit.windowStart(for: now)
        _ = try await counters.add(
            1, bucket: bucket, windowStart: start, expiresAt: start.addingTimeInterval(TimeInterval(2 * window)))
    }

    /// This window's count plus the previous window's, weighted by how much of it the
    /// sliding window still covers.
    private func slidingCount(_ bucket: String, now: Date) async throws -> Double {
        let window = Int(policy.prefixGuard.window)
        let limit = FixedWindowLimit(limit: 1, window: window)
        let start = limit.windowStart(for: now)
        let current = try await counters.count(bucket: bucket, windowStart: start)
        let previous = try await counters.count(
            bucket: bucket, windowStart: start.addingTimeInterval(-TimeInterval(window)))
        let elapsed = now.timeIntervalSince(start) / TimeInterval(window)
        return Double(current) + Double(previous) * (1 - elapsed)
    }
}
