import Foundation
import Synchronization

/// Token buckets for requests and tokens per minute, one pair per scope (a key, a project, an
/// organization), refilled continuously: a limit of 60 a minute gives one back every second,
/// and a bucket left alone for a minute is full again. This is the model OpenAI describes
/// for its own limits, and what its `x-ratelimit-reset-*` headers measure.
///
/// State lives in this process. Several instances each hold their own buckets.
public final class RateLimiter: Sendable {
    /// One scope a call counts against, with the limits that apply to it now.
    public struct Scope: Equatable, Sendable {
        /// What a scope stands for, as a refusal names it.
        public enum Kind: String, Sendable {
            case organization
            case project
            case key
        }

        /// What the scope stands for.
        public var kind: Kind
        /// A stable, unique name: the key, project or organization id.
        public var id: String
        /// Its limits per minute.
        public var limits: MinuteLimits

        /// Creates a scope.
        public init(_ kind: Kind, id: String, limits: MinuteLimits) {
            self.kind = kind
            self.id = id
            self.limits = limits
        }

        /// The scope as a refusal names it, such as `project proj_abc`.
        public var name: String { "\(kind.rawValue) \(id)" }
    }

    /// What the headers report: for requests and for tokens, the scope closest to its limit.
    public struct Status: Equatable, Sendable {
        public var limitRequests: Int
        public var remainingRequests: Int
        /// Seconds until the request bucket is full again.
        public var resetRequests: Double
        public var limitTokens: Int
        public var remainingTokens: Int
        /// Seconds until the token bucket is full again.
        public var resetTokens: Double
    }

    /// The outcome of asking for room.
    public enum Decision: Equatable, Sendable {
        /// The call may go ahead; the buckets have been charged.
        case admitted(Status)
        /// The call must wait `retryAfter` seconds; nothing was charged. `exhausted` names
        /// the scope (its id) and whether requests or tokens ran out.
        case refused(Status, retryAfter: Double, exhausted: Scope, tokens: Bool)
    }

    struct Bucket {
        var capacity: Double
        var available: Double

        /// Brings the level up to `now` and the capacity to `limit`.
        mutating func refill(elapsed: Double, limit: Int) {
            let limit = Double(limit)
            if limit != capacity {
                // A changed limit moves the level by the same amount, so a raised limit is
                // usable at once and a lowered one takes effect at once.
                // The debt is bounded like a correction's, so a sharp cut waits at most two minutes.
                available = max(-limit, available + limit - capacity)
                capacity = limit
            }
            available = min(capacity, available + elapsed * capacity / 60)
        }

        /// Seconds until `amount` is available.
        func wait(for amount: Double) -> Double {
            amount <= available ? 0 : (amount - available) * 60 / capacity
        }

        /// Seconds until the bucket is full.
        var untilFull: Double { max(0, (capacity - available) * 60 / capacity) }
    }

    struct Entry {
        var requests: Bucket
        var tokens: Bucket
        var updated: Double
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// Creates an empty limiter: every scope starts with full buckets.
    public init() {}

    /// Asks for one request and `tokens` estimated tokens in every scope at once.
    ///
    /// A call is admitted only if every scope has room; then all are charged
    /// (``MinuteLimits/tokenCharge(_:)``).
    ///
    /// - Parameter now: seconds on any steady scale (Unix time in practice).
    public func acquire(_ scopes: [Scope], tokens: Int, now: Double) -> Decision {
        entries.withLock { entries in
            var current: [Entry] = []
            current.reserveCapacity(scopes.count)
            var wait = LongestWait()
            for scope in scopes {
                var entry =
                    entries[scope.id]
                    ?? Entry(
                        requests: Bucket(
                            capacity: Double(scope.limits.requests), available: Double(scope.limits.requests)),
                        tokens: Bucket(capacity: Double(scope.limits.tokens), available: Double(scope.limits.tokens)),
                        updated: now)
                let elapsed = max(0, now - entry.updated)
                entry.requests.refill(elapsed: elapsed, limit: scope.limits.requests)
                entry.tokens.refill(elapsed: elapsed, limit: scope.limits.tokens)
                entry.updated = max(entry.updated, now)
                wait.consider(
                    scope, requests: entry.requests.wait(for: 1),
                    tokens: entry.tokens.wait(for: scope.limits.tokenCharge(tokens)))
                current.append(entry)
            }
            if let exhausted = wait.scope {
                for (scope, entry) in zip(scopes, current) { entries[scope.id] = entry }
                return .refused(
                    Self.status(current), retryAfter: wait.seconds, exhausted: exhausted.scope, tokens: exhausted.tokens
                )
            }
            for index in current.indices {
                current[index].requests.available -= 1
                current[index].tokens.available -= scopes[index].limits.tokenCharge(tokens)
                entries[scopes[index].id] = current[index]
            }
            return .admitted(Self.status(current))
        }
    }

    /// Corrects the token charge of an admitted call once its real use is known: `delta` is
    /// real minus estimated, negative to give tokens back. Debt is bounded by one minute's
    /// tokens, so one huge answer cannot lock a scope out for longer than a minute.
    public func adjustTokens(_ scopeIDs: [String], by delta: Int, now: Double) {
        guard delta != 0 else { return }
        entries.withLock { entries in
            for id in scopeIDs {
                guard var entry = entries[id] else { continue }
                let capacity = entry.tokens.capacity
                entry.tokens.refill(elapsed: max(0, now - entry.updated), limit: Int(capacity))
                entry.requests.refill(elapsed: max(0, now - entry.updated), limit: Int(entry.requests.capacity))
                entry.updated = max(entry.updated, now)
                entry.tokens.available = min(capacity, max(-capacity, entry.tokens.available - Double(delta)))
                entries[id] = entry
            }
        }
    }

    /// Forgets scopes whose buckets are full again by `now`: they behave exactly like new ones.
    public func sweep(now: Double) {
        entries.withLock { entries in
            entries = entries.filter { _, entry in
                let elapsed = now - entry.updated
                return entry.requests.untilFull > elapsed || entry.tokens.untilFull > elapsed
            }
        }
    }

    /// The number of scopes held (for tests and metrics).
    public var scopeCount: Int { entries.withLock { $0.count } }

    static func status(_ entries: [Entry]) -> Status {
        // Report, for each resource, the scope with the least left.
        let requests = entries.min { $0.requests.available < $1.requests.available }?.requests
        let tokens = entries.min { $0.tokens.available < $1.tokens.available }?.tokens
        return Status(
            limitRequests: Int(requests?.capacity ?? 0),
            remainingRequests: max(0, Int((requests?.available ?? 0).rounded(.down))),
            resetRequests: requests?.untilFull ?? 0,
            limitTokens: Int(tokens?.capacity ?? 0),
            remainingTokens: max(0, Int((tokens?.available ?? 0).rounded(.down))),
            resetTokens: tokens?.untilFull ?? 0)
    }
}

/// The longest wait among the scopes a call counts against, and which scope and resource
/// (requests or tokens) it is for.
struct LongestWait {
    var seconds = 0.0
    var scope: (scope: RateLimiter.Scope, tokens: Bool)?

    mutating func consider(_ candidate: RateLimiter.Scope, requests: Double, tokens: Double) {
        if requests > seconds {
            seconds = requests
            scope = (candidate, false)
        }
        if tokens > seconds {
            seconds = tokens
            scope = (candidate, true)
        }
    }
}

/// Durations in the form OpenAI's rate-limit headers use (Go's): `20ms`, `1.5s`, `6m0s`, `1h2m3s`.
public enum RateLimitDuration {
    /// Formats `seconds`, rounded up to the millisecond.
    public static func format(_ seconds: Double) -> String {
        let milliseconds = Int((max(0, seconds) * 1000).rounded(.up))
        if milliseconds == 0 { return "0s" }
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        let hours = milliseconds / 3_600_000
        let minutes = milliseconds / 60_000 % 60
        let secondsPart = fractionalSeconds(milliseconds % 60_000)
        if hours > 0 { return "\(hours)h\(minutes)m\(secondsPart)s" }
        if minutes > 0 { return "\(minutes)m\(secondsPart)s" }
        return "\(secondsPart)s"
    }

    static func fractionalSeconds(_ milliseconds: Int) -> String {
        let whole = milliseconds / 1000
        let fraction = milliseconds % 1000
        guard fraction > 0 else { return String(whole) }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 3 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits)"
    }
}
