import Foundation
import KeywardenCore
import Synchronization

/// The prefix guard's rules and pauses, in memory.
final class InMemoryPrefixGuard: PrefixGuardRepository {
    let stored = Mutex<(rules: [String: PrefixRule], pauses: [String: PrefixPause])>(([:], [:]))

    func rules() async throws -> [PrefixRule] {
        stored.withLock { $0.rules.values.sorted { $0.prefix < $1.prefix } }
    }

    func setRule(_ rule: PrefixRule) async throws {
        stored.withLock { $0.rules[rule.prefix] = rule }
    }

    func removeRule(prefix: String) async throws -> Bool {
        stored.withLock { $0.rules.removeValue(forKey: prefix) != nil }
    }

    func recordPause(_ pause: PrefixPause) async throws {
        stored.withLock { state in
            if let existing = state.pauses[pause.prefix], existing.until > pause.pausedAt { return }
            state.pauses[pause.prefix] = pause
        }
    }

    func pause(prefix: String) async throws -> PrefixPause? {
        stored.withLock { $0.pauses[prefix] }
    }

    func pauses(endingAfter now: Date) async throws -> [PrefixPause] {
        stored.withLock { $0.pauses.values.filter { $0.until > now }.sorted { $0.pausedAt > $1.pausedAt } }
    }

    func liftPause(prefix: String, by operatorEmail: String, at now: Date) async throws -> Bool {
        stored.withLock { state in
            guard var pause = state.pauses[prefix], pause.isActive(at: now) else { return false }
            pause.liftedAt = now
            pause.liftedBy = operatorEmail
            state.pauses[prefix] = pause
            return true
        }
    }
}

/// Verification events counted per hour and country, in memory.
final class InMemoryVerificationStats: VerificationStatsRepository {
    let counted = Mutex<[(hour: Int64, country: String, event: String)]>([])

    func count(_ event: VerificationEvent, country: String, at now: Date) async throws {
        let hour = Int64(now.timeIntervalSince1970) / 3600 * 3600
        counted.withLock { $0.append((hour, country, event.name)) }
    }

    func counts(from: Date) async throws -> [String: [String: Int]] {
        let start = Int64(from.timeIntervalSince1970) / 3600 * 3600
        var result: [String: [String: Int]] = [:]
        for entry in counted.withLock({ $0 }) where entry.hour >= start {
            result[entry.country, default: [:]][entry.event, default: 0] += 1
        }
        return result
    }
}
