import Foundation
import Logging

/// The detector: one pass looks at the last hour of the gateway's usage, compares busy keys with
/// their week before and newly active keys with their last call, and raises what the rule finds.
///
/// A pass reads little: the last two hours of minute rows (by time), a week of minutes only for
/// keys over a minimum (once an hour, remembered), and one indexed look-up per key that started
/// calling within the hour.
extension KeyAlertService {
    /// Runs one pass and mails the owners of every key with a new alert, once per key, kind and
    /// window however many passes and instances run.
    ///
    /// - Returns: how many alerts were raised.
    @discardableResult
    public func detect() async throws -> Int {
        let now = clock.now()
        let hourStart = now.addingTimeInterval(-3600)
        let rule = policy.rule
        let recent = try await repository.usage(
            from: hourStart, until: now, lookingBackTo: hourStart.addingTimeInterval(-3600))
        // The baseline is whole hours, so it changes once an hour and is summed once an hour.
        let baselineEnd = Self.startOfHour(containing: hourStart)
        let baselineStart = baselineEnd.addingTimeInterval(-TimeInterval(UsageAnomalyRule.baselineHours * 3600))
        let busy = recent.filter { $0.calls >= rule.minimumCalls || $0.errors >= rule.minimumErrors }
        let usual = try await baselineTotals(of: busy.map(\.apiKeyID), from: baselineStart, until: baselineEnd)
        var raised = 0
        for usage in recent {
            let isBusy = usage.calls >= rule.minimumCalls || usage.errors >= rule.minimumErrors
            // A key that called in the hour before was not idle: only one that did not needs a look back.
            let mayHaveBeenIdle = !usage.calledBefore
            guard isBusy || mayHaveBeenIdle else { continue }
            guard let key = try await keys.key(usage.apiKeyID, in: usage.organizationID), key.revokedAt == nil else {
                continue
            }
            var previous: Date?
            if mayHaveBeenIdle {
                previous = try await repository.lastCall(of: key.id, before: hourStart)
                // A use noted but not yet written over (or not metered, such as POST /v1/api-keys).
                if let used = key.lastUsedAt, used < hourStart { previous = max(previous ?? used, used) }
            }
            let history = usual[key.id] ?? .zero
            let activity = KeyActivity(
                calls: usage.calls, errors: usage.errors, baselineCalls: history.calls,
                baselineErrors: history.errors,
                baselineHours: Self.historyHours(of: key, from: baselineStart, until: baselineEnd),
                firstCallAt: usage.firstCallAt, previousCallAt: previous)
            for anomaly in rule.anomalies(in: activity) where try await raise(anomaly, for: key, now: now) {
                raised += 1
            }
        }
        return raised
    }

    /// The calls and failed calls of `keys` over the baseline, remembered for the baseline's end.
    func baselineTotals(
        of keys: [APIKeyID], from start: Date, until end: Date
    ) async throws -> [APIKeyID: KeyUsageTotals] {
        guard !keys.isEmpty else { return [:] }
        let lookedUp = baselines.lookUp(keys, endingAt: end)
        var known = lookedUp.known
        let missing = lookedUp.missing
        guard !missing.isEmpty else { return known }
        var found: [APIKeyID: KeyUsageTotals] = [:]
        // In slices, so no statement binds more values than a backend takes.
        var rest = missing[...]
        while !rest.isEmpty {
            let slice = Array(rest.prefix(100))
            rest = rest.dropFirst(100)
            let totals = try await repository.totals(of: slice, from: start, until: end)
            found.merge(totals) { $1 }
        }
        // Keys without use are remembered as such, so they are not read again this hour.
        for key in missing where found[key] == nil { found[key] = .zero }
        baselines.remember(found, endingAt: end)
        known.merge(found) { $1 }
        return known
    }

    /// The whole hours of `start..<end` the key existed for.
    static func historyHours(of key: APIKey, from start: Date, until end: Date) -> Int {
        let seconds = Int64(saturating: end.timeIntervalSince(max(key.createdAt, start)).rounded(.down))
        return Int(min(max(seconds / 3600, 0), Int64(UsageAnomalyRule.baselineHours)))
    }

    /// The start of the hour (UTC) `date` falls in.
    static func startOfHour(containing date: Date) -> Date {
        let seconds = Int64(saturating: date.timeIntervalSince1970.rounded(.down))
        return Date(timeIntervalSince1970: TimeInterval(seconds - (seconds % 3600 + 3600) % 3600))
    }

    /// Stores the alert unless its key has one of the kind in the window, then audits it and
    /// mails the owners; returns whether it was new.
    func raise(_ anomaly: KeyAnomaly, for key: APIKey, now: Date) async throws -> Bool {
        let alert = KeyAlert(
            id: .generate(), apiKeyID: key.id, organizationID: key.organizationID, projectID: key.projectID,
            kind: anomaly.kind, windowStart: policy.windowStart(containing: now), observed: anomaly.observed,
            baseline: anomaly.baseline, idleSince: anomaly.idleSince.map(wholeMilliseconds),
            createdAt: wholeMilliseconds(now), keyName: key.name, redactedValue: key.redactedValue)
        let quietSince = now.addingTimeInterval(-TimeInterval(policy.window))
        guard try await repository.record(alert, unlessRaisedSince: quietSince) else { return false }
        var details = [
            "key_alert_id": alert.id.rawValue, "api_key_id": key.id.rawValue, "kind": alert.kind.rawValue,
            "observed": String(alert.observed), "baseline": String(alert.baseline),
        ]
        if let project = key.projectID { details["project_id"] = project.rawValue }
        if let since = alert.idleSince {
            details["idle_since"] = String(Int64(saturating: since.timeIntervalSince1970))
        }
        do {
            try await audit.append(
                AuditEvent(
                    organizationID: key.organizationID, type: .apiKeyAlertSent, effectiveAt: alert.createdAt,
                    actor: .system, details: details))
        } catch {
            logger.warning(
                "key alert not audited",
                metadata: ["organization_id": .string(key.organizationID.rawValue), "error.type": "\(type(of: error))"])
        }
        await tellOwners(about: alert, key: key)
        return true
    }

    /// Mails every owner of the key's organization one email about `alert`.
    func tellOwners(about alert: KeyAlert, key: APIKey) async {
        let organization = try? await accounts.organization(id: key.organizationID)
        var projectName: String?
        if let project = key.projectID {
            projectName = try? await projects.project(project, in: key.organizationID)?.name
        }
        guard let members = try? await accounts.members(of: key.organizationID) else {
            logger.warning(
                "key alert owners not found", metadata: ["organization_id": .string(key.organizationID.rawValue)])
            return
        }
        for member in members where member.role == .owner {
            let message = KeyAlertEmail.message(
                for: alert, to: member.user.email, organizationName: organization?.name ?? "",
                projectName: projectName, link: "\(linkBaseURL)/api-keys", window: policy.window)
            do {
                try await email.send(message)
            } catch {
                logger.warning(
                    "key alert email not sent",
                    metadata: [
                        "organization_id": .string(key.organizationID.rawValue), "api_key_id": .string(key.id.rawValue),
                        "error.type": "\(type(of: error))",
                    ])
            }
        }
    }
}
