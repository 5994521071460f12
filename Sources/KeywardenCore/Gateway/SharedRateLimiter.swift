import Foundation
import Synchronization

/// One resource's part of a lease request: what to give back, what to take.
public struct BucketLease: Equatable, Sendable {
    /// The bucket's size: its limit per minute (it refills at `capacity` a minute).
    public var capacity: Double
    /// Unused units returned to the shared bucket first.
    public var giveBack: Double
    /// Units wanted.
    public var want: Double

    public init(capacity: Double, giveBack: Double, want: Double) {
        self.capacity = capacity
        self.giveBack = giveBack
        self.want = want
    }
}

/// What a lease returned for one resource.
public struct LeaseGrant: Equatable, Sendable {
    /// Units taken (at most what was wanted, at most what was there).
    public var granted: Double
    /// What the shared bucket holds after the lease.
    public var available: Double

    public init(granted: Double, available: Double) {
        self.granted = granted
        self.available = available
    }
}

/// Shared request and token buckets in the database, refilled continuously like
/// ``RateLimiter``'s, from which instances lease slices.
public protocol RateLimitLeaseRepository: Sendable {
    /// Atomically refills the scope's two buckets to `now`, adds back what is given back, and
    /// takes what is wanted (or what there is).
    func lease(
        scope: String, requests: BucketLease, tokens: BucketLease, now: Date
    ) async throws
        -> (requests: LeaseGrant, tokens: LeaseGrant)
}

/// A rate limiter whose buckets live in the database, shared by every instance: each instance
/// leases slices (a twentieth of a limit, or what a call needs) and spends them locally, so a
/// limit holds across instances with one database round trip per slice rather than per call.
/// Unused units go back when their lease ages out; token corrections are settled against the
/// shared bucket at the next lease.
public final class SharedRateLimiter: Sendable {
    struct Held {
        var requests: Double = 0
        var tokens: Double = 0
        /// When the units were leased; older ones are given back at the next lease.
        var leasedAt: Double = 0
        /// What the shared buckets held after the last lease.
        var sharedRequests: Double = 0
        var sharedTokens: Double = 0
        var limits: MinuteLimits
    }

    let store: any RateLimitLeaseRepository
    let leaseLifetime: Double
    private let held = Mutex<[String: Held]>([:])

    /// Creates the limiter over shared buckets.
    public init(store: any RateLimitLeaseRepository, leaseLifetime: Double = 5) {
        self.store = store
        self.leaseLifetime = leaseLifetime
    }

    /// Asks for one request and `tokens` estimated tokens in every scope at once, leasing from
    /// the shared buckets where this instance holds too little.
    public func acquire(_ scopes: [RateLimiter.Scope], tokens: Int, now: Double) async throws -> RateLimiter.Decision {
        if let admitted = admit(scopes, tokens: tokens, now: now) { return admitted }
        for lease in takeRemainders(scopes, tokens: tokens, now: now) {
            let grant = try await store.lease(
                scope: lease.scope.id, requests: lease.requests, tokens: lease.tokens,
                now: Date(timeIntervalSince1970: now))
            held.withLock { held in
                var entry = held[lease.scope.id] ?? Held(limits: lease.scope.limits)
                entry.requests += grant.requests.granted
                entry.tokens += grant.tokens.granted
                entry.leasedAt = now
                entry.sharedRequests = grant.requests.available
                entry.sharedTokens = grant.tokens.available
                entry.limits = lease.scope.limits
                held[lease.scope.id] = entry
            }
        }
        return admit(scopes, tokens: tokens, now: now) ?? refusal(scopes, tokens: tokens, now: now)
    }

    /// Charges the call to the units this instance holds, if every scope holds enough and under
    /// a current lease; `nil` when a lease is needed first.
    public func admitInHand(_ scopes: [RateLimiter.Scope], tokens: Int, now: Double) -> RateLimiter.Decision? {
        admit(scopes, tokens: tokens, now: now)
    }

    /// Whether this instance holds too little for the call in `scope` (or holds it under an
    /// old lease or old limits).
    private func isShort(_ entry: Held, in scope: RateLimiter.Scope, tokens: Int, now: Double) -> Bool {
        now - entry.leasedAt >= leaseLifetime || entry.limits != scope.limits || entry.requests < 1
            || entry.tokens < scope.limits.tokenCharge(tokens)
    }

    /// Charges the call to the units held, if every scope holds enough.
    private func admit(_ scopes: [RateLimiter.Scope], tokens: Int, now: Double) -> RateLimiter.Decision? {
        held.withLock { held in
            let entries = scopes.map { held[$0.id] ?? Held(limits: $0.limits) }
            guard !zip(scopes, entries).contains(where: { isShort($1, in: $0, tokens: tokens, now: now) }) else {
                return nil
            }
            var charged: [Held] = []
            for (scope, var entry) in zip(scopes, entries) {
                entry.requests -= 1
                entry.tokens -= scope.limits.tokenCharge(tokens)
                held[scope.id] = entry
                charged.append(entry)
            }
            return .admitted(Self.status(charged, now: now))
        }
    }

    /// For each scope short of units, the lease to ask for: its positive remainders go back, and
    /// it wants a slice (a twentieth of the limit, or the call's need) plus any debt. The
    /// remainders are taken out here so that two calls cannot give back the same units.
    private func takeRemainders(
        _ scopes: [RateLimiter.Scope], tokens: Int, now: Double
    ) -> [(scope: RateLimiter.Scope, requests: BucketLease, tokens: BucketLease)] {
        held.withLock { held in
            var leases: [(scope: RateLimiter.Scope, requests: BucketLease, tokens: BucketLease)] = []
            for scope in scopes {
                var entry = held[scope.id] ?? Held(limits: scope.limits)
                guard isShort(entry, in: scope, tokens: tokens, now: now) else { continue }
                let requestSlice = max(1, Double(scope.limits.requests) / 20)
                let tokenSlice = max(scope.limits.tokenCharge(tokens), Double(scope.limits.tokens) / 20)
                leases.append(
                    (
                        scope,
                        BucketLease(
                            capacity: Double(scope.limits.requests), giveBack: max(0, entry.requests),
                            want: requestSlice - min(0, entry.requests)),
                        BucketLease(
                            capacity: Double(scope.limits.tokens), giveBack: max(0, entry.tokens),
                            want: tokenSlice - min(0, entry.tokens))
                    ))
                // Debts stay on the books: the extra units leased pay them off.
                entry.requests = min(0, entry.requests)
                entry.tokens = min(0, entry.tokens)
                held[scope.id] = entry
            }
            return leases
        }
    }

    private func refusal(_ scopes: [RateLimiter.Scope], tokens: Int, now: Double) -> RateLimiter.Decision {
        held.withLock { held in
            var wait = LongestWait()
            var entries: [Held] = []
            for scope in scopes {
                let entry = held[scope.id] ?? Held(limits: scope.limits)
                entries.append(entry)
                let need = scope.limits.tokenCharge(tokens)
                wait.consider(
                    scope, requests: max(0, 1 - entry.requests) * 60 / Double(scope.limits.requests),
                    tokens: max(0, need - entry.tokens) * 60 / Double(scope.limits.tokens))
            }
            // admit() admits a call with no scopes, so one is always there to name.
            guard let exhausted = wait.scope ?? scopes.first.map({ ($0, false) }) else {
                return .admitted(Self.status(entries, now: now))
            }
            return .refused(
                Self.status(entries, now: now), retryAfter: wait.seconds, exhausted: exhausted.scope,
                tokens: exhausted.tokens)
        }
    }

    /// Corrects the token charge of an admitted call (real minus estimated); settled against
    /// the shared bucket at the scope's next lease.
    public func adjustTokens(_ scopeIDs: [String], by delta: Int) {
        guard delta != 0 else { return }
        held.withLock { held in
            for id in scopeIDs {
                guard var entry = held[id] else { continue }
                entry.tokens = max(-Double(entry.limits.tokens), entry.tokens - Double(delta))
                held[id] = entry
            }
        }
    }

    /// Gives back units held longer than the lease lifetime, so idle instances do not sit on
    /// them, and forgets those scopes.
    public func returnStale(now: Double) async throws {
        let stale = held.withLock { held -> [(String, Held)] in
            let old = held.filter { now - $0.value.leasedAt >= leaseLifetime }
            for (id, _) in old { held[id] = nil }
            return Array(old)
        }
        for (id, entry) in stale where entry.requests != 0 || entry.tokens != 0 {
            _ = try await store.lease(
                scope: id,
                requests: BucketLease(
                    capacity: Double(entry.limits.requests), giveBack: max(0, entry.requests),
                    want: max(0, -entry.requests)),
                tokens: BucketLease(
                    capacity: Double(entry.limits.tokens), giveBack: max(0, entry.tokens), want: max(0, -entry.tokens)),
                now: Date(timeIntervalSince1970: now))
        }
    }

    /// Remaining is what the shared bucket holds by now (what it held at the last lease, plus
    /// its refill since) and what this instance holds, at most the limit.
    static func status(_ entries: [Held], now: Double) -> RateLimiter.Status {
        func remaining(_ entry: Held, _ tokens: Bool) -> Double {
            let capacity = Double(tokens ? entry.limits.tokens : entry.limits.requests)
            let shared = tokens ? entry.sharedTokens : entry.sharedRequests
            let refilled = shared + max(0, now - entry.leasedAt) * capacity / 60
            return min(capacity, refilled + (tokens ? entry.tokens : entry.requests))
        }
        let requests = entries.min { remaining($0, false) < remaining($1, false) }
        let tokens = entries.min { remaining($0, true) < remaining($1, true) }
        func reset(_ entry: Held?, _ isTokens: Bool) -> Double {
            guard let entry else { return 0 }
            let capacity = Double(isTokens ? entry.limits.tokens : entry.limits.requests)
            return max(0, (capacity - remaining(entry, isTokens)) * 60 / capacity)
        }
        return RateLimiter.Status(
            limitRequests: requests?.limits.requests ?? 0,
            remainingRequests: max(0, Int((requests.map { remaining($0, false) } ?? 0).rounded(.down))),
            resetRequests: reset(requests, false),
            limitTokens: tokens?.limits.tokens ?? 0,
            remainingTokens: max(0, Int((tokens.map { remaining($0, true) } ?? 0).rounded(.down))),
            resetTokens: reset(tokens, true))
    }
}
