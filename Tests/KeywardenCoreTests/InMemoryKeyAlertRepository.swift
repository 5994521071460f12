import Foundation
import KeywardenCore

/// The detector's usage sums and the alert table in memory, as `SQLKeyAlertRepository` keeps
/// them: one alert per key, kind and window; usage is seeded with ``add(_:)``.
actor InMemoryKeyAlertRepository: KeyAlertRepository {
    private var records: [UsageRecord] = []
    private var stored: [KeyAlert] = []

    /// Adds gateway usage rows, as the usage flush writes them.
    func add(_ new: [UsageRecord]) {
        records += new
    }

    /// Every alert stored, oldest first.
    var all: [KeyAlert] { stored }

    func usage(from start: Date, until end: Date, lookingBackTo lookBack: Date) async throws -> [KeyHourUsage] {
        let keys = Set(records.filter { $0.minute >= start && $0.minute < end }.map(\.apiKeyID)).sorted()
        return keys.compactMap { key -> KeyHourUsage? in
            let hour = records.filter { $0.apiKeyID == key && $0.minute >= start && $0.minute < end }
            let calls = hour.reduce(0) { $0 + $1.requests }
            guard calls > 0, let first = hour.filter({ $0.requests > 0 }).map(\.minute).min() else { return nil }
            let before = records.contains { $0.apiKeyID == key && $0.minute >= lookBack && $0.minute < start }
            return KeyHourUsage(
                apiKeyID: APIKeyID(unchecked: key), organizationID: OrganizationID(unchecked: hour[0].organizationID),
                calls: calls, errors: hour.reduce(0) { $0 + $1.errors }, firstCallAt: first, calledBefore: before)
        }
    }

    func totals(of keys: [APIKeyID], from start: Date, until end: Date) async throws -> [APIKeyID: KeyUsageTotals] {
        var totals: [APIKeyID: KeyUsageTotals] = [:]
        for record in records where record.minute >= start && record.minute < end {
            let key = APIKeyID(unchecked: record.apiKeyID)
            guard keys.contains(key) else { continue }
            let sum = totals[key] ?? .zero
            totals[key] = KeyUsageTotals(calls: sum.calls + record.requests, errors: sum.errors + record.errors)
        }
        return totals
    }

    func lastCall(of key: APIKeyID, before date: Date) async throws -> Date? {
        records.filter { $0.apiKeyID == key.rawValue && $0.minute < date }.map(\.minute).max()
    }

    func record(_ alert: KeyAlert, unlessRaisedSince quietSince: Date) async throws -> Bool {
        let sameKind = stored.filter { $0.apiKeyID == alert.apiKeyID && $0.kind == alert.kind }
        guard !sameKind.contains(where: { $0.windowStart == alert.windowStart || $0.createdAt >= quietSince })
        else { return false }
        stored.append(alert)
        return true
    }

    func alerts(
        in organization: OrganizationID, since: Date, includeDismissed: Bool, limit: Int
    ) async throws -> [KeyAlert] {
        let kept = stored.filter {
            $0.organizationID == organization && $0.createdAt >= since && (includeDismissed || $0.dismissedAt == nil)
        }
        return Array(kept.reversed().prefix(max(limit, 1)))
    }

    func alert(_ id: KeyAlertID, in organization: OrganizationID) async throws -> KeyAlert? {
        stored.first { $0.id == id && $0.organizationID == organization }
    }

    func dismiss(_ id: KeyAlertID, in organization: OrganizationID, at now: Date) async throws -> Bool {
        guard let index = stored.firstIndex(where: { $0.id == id && $0.organizationID == organization }),
            stored[index].dismissedAt == nil
        else { return false }
        stored[index].dismissedAt = now
        return true
    }
}
