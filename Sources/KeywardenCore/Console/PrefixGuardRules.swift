import Foundation

/// An operator's standing rule for numbers starting with a prefix (`+` and digits).
public struct PrefixRule: Equatable, Sendable {
    /// What the rule does.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Never paused by the guard.
        case safe
        /// Always refused before any code is sent.
        case blocked
    }

    /// `+`, a calling code and optionally more digits, such as `+44` or `+4479`.
    public var prefix: String
    public var kind: Kind
    public var reason: String
    public var createdAt: Date
    /// The operator who made it (email address).
    public var createdBy: String

    /// Creates a value.
    public init(prefix: String, kind: Kind, reason: String, createdAt: Date, createdBy: String) {
        self.prefix = prefix
        self.kind = kind
        self.reason = reason
        self.createdAt = createdAt
        self.createdBy = createdBy
    }

    /// The prefix as typed, tidied (`+44 79` → `+4479`), or `nil` when it is not `+` and 1 to 15
    /// digits.
    public static func normalized(_ raw: String) -> String? {
        let kept = raw.unicodeScalars.filter { $0 != " " && $0 != "-" && $0 != "(" && $0 != ")" && $0 != "." }
        var text = String(String.UnicodeScalarView(kept))
        if !text.hasPrefix("+") { text = "+" + text }
        let digits = text.utf8.dropFirst()
        guard (1...15).contains(digits.count), digits.allSatisfy({ $0 >= 48 && $0 <= 57 }), digits.first != 48 else {
            return nil
        }
        return text
    }
}

/// A prefix the guard paused on its own: many sends, few approvals.
public struct PrefixPause: Equatable, Sendable {
    public var prefix: String
    /// Why, in words with the counts.
    public var reason: String
    public var pausedAt: Date
    /// When the pause ends by itself (the guard's window moves on).
    public var until: Date
    /// When an operator lifted it early, and who; the guard then leaves the prefix alone until
    /// `until`.
    public var liftedAt: Date?
    public var liftedBy: String?

    /// Creates a value.
    public init(
        prefix: String, reason: String, pausedAt: Date, until: Date, liftedAt: Date? = nil, liftedBy: String? = nil
    ) {
        self.prefix = prefix
        self.reason = reason
        self.pausedAt = pausedAt
        self.until = until
        self.liftedAt = liftedAt
        self.liftedBy = liftedBy
    }

    /// Whether it stops sends at `now`.
    public func isActive(at now: Date) -> Bool { liftedAt == nil && now < until }
}

/// Stores the prefix guard's rules and pauses.
public protocol PrefixGuardRepository: Sendable {
    /// Every rule, by prefix.
    func rules() async throws -> [PrefixRule]
    /// Adds or replaces the rule for a prefix.
    func setRule(_ rule: PrefixRule) async throws
    /// Removes the rule for a prefix; `false` when there was none.
    func removeRule(prefix: String) async throws -> Bool
    /// Records a pause, unless the prefix has one that is active or lifted and not yet over.
    func recordPause(_ pause: PrefixPause) async throws
    /// The prefix's latest pause.
    func pause(prefix: String) async throws -> PrefixPause?
    /// Pauses that have not ended by `now` (lifted ones included, so the console shows them).
    func pauses(endingAfter now: Date) async throws -> [PrefixPause]
    /// Lifts an active pause; `false` when the prefix had none.
    func liftPause(prefix: String, by operatorEmail: String, at now: Date) async throws -> Bool
}

extension Array where Element == PrefixRule {
    /// The longest rule whose prefix the E.164 number starts with.
    public func rule(for e164: String) -> PrefixRule? {
        filter { e164.hasPrefix($0.prefix) }.max { $0.prefix.count < $1.prefix.count }
    }
}
