import Foundation
import KeywardenCore
import KeywardenStorage
import Testing

@Suite("KeyAlertRepository contract")
struct KeyAlertRepositoryTests {
    func minute(_ index: Int) -> Date { epoch.addingTimeInterval(TimeInterval(60 * index)) }

    func usage(_ key: String, minute index: Int, requests: Int, errors: Int = 0, model: String = "") -> UsageRecord {
        UsageRecord(
            apiKeyID: key, projectID: "proj_a", organizationID: "org_a", minute: minute(index), model: model,
            requests: requests, errors: errors)
    }

    /// An account and a key of its default project, stored (alerts name real keys).
    func storedKey(_ database: DatabaseClient, email: String = "ada@example.com") async throws -> (NewAccount, APIKey) {
        let account = try makeAccount(email: email)
        try await SQLAccountRepository(database: database).createAccount(account)
        let value = APIKeyFormat().generate(.project)
        let key = APIKey(
            id: .generate(), kind: .project, organizationID: account.organization.id,
            projectID: account.defaultProject.id, name: "ci", owner: .user(account.user.id), permissions: .all,
            digest: APIKeyIndex.digest(value), redactedValue: APIKeyFormat().redacted(value), createdAt: epoch)
        try await SQLAPIKeyRepository(database: database).create(key)
        return (account, key)
    }

    func alert(
        _ key: APIKey, kind: KeyAlert.Kind = .callSpike, window: Date = epoch, at date: Date = epoch
    ) -> KeyAlert {
        KeyAlert(
            id: .generate(), apiKeyID: key.id, organizationID: key.organizationID, projectID: key.projectID,
            kind: kind, windowStart: window, observed: 5_000, baseline: 12,
            idleSince: kind == .idleKeyUsed ? epoch.addingTimeInterval(-40 * 86_400) : nil, createdAt: date)
    }

    @Test(arguments: Backend.available)
    func theHourIsSummedPerKeyWithItsFirstCallAndWhetherItCalledBefore(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            try await SQLUsageRepository(database: database).add([
                usage("key_a", minute: 0, requests: 2),
                usage("key_a", minute: 70, requests: 5, errors: 1),
                usage("key_a", minute: 70, requests: 3, errors: 2, model: "gpt-4o"),
                usage("key_a", minute: 100, requests: 1),
                usage("key_b", minute: 90, requests: 4),
                usage("key_c", minute: 10, requests: 9),
                usage("key_d", minute: 120, requests: 9),
            ])
            let repository = SQLKeyAlertRepository(database: database)
            // The hour is minutes 60..<120; the look-back minutes 0..<60.
            let found = try await repository.usage(from: minute(60), until: minute(120), lookingBackTo: minute(0))
            #expect(
                found == [
                    KeyHourUsage(
                        apiKeyID: APIKeyID(unchecked: "key_a"), organizationID: OrganizationID(unchecked: "org_a"),
                        calls: 9, errors: 3, firstCallAt: minute(70), calledBefore: true),
                    KeyHourUsage(
                        apiKeyID: APIKeyID(unchecked: "key_b"), organizationID: OrganizationID(unchecked: "org_a"),
                        calls: 4, errors: 0, firstCallAt: minute(90), calledBefore: false),
                ])
            #expect(
                try await repository.usage(from: minute(200), until: minute(260), lookingBackTo: minute(140)).isEmpty)
        }
    }

    @Test(arguments: Backend.available)
    func totalsSumTheRangeForTheKeysAskedOnly(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            try await SQLUsageRepository(database: database).add([
                usage("key_a", minute: 0, requests: 2, errors: 1),
                usage("key_a", minute: 59, requests: 3, model: "m"),
                usage("key_a", minute: 60, requests: 100),
                usage("key_b", minute: 5, requests: 7),
                usage("key_c", minute: 5, requests: 8),
            ])
            let repository = SQLKeyAlertRepository(database: database)
            let totals = try await repository.totals(
                of: [APIKeyID(unchecked: "key_a"), APIKeyID(unchecked: "key_b"), APIKeyID(unchecked: "key_z")],
                from: minute(0), until: minute(60))
            #expect(
                totals == [
                    APIKeyID(unchecked: "key_a"): KeyUsageTotals(calls: 5, errors: 1),
                    APIKeyID(unchecked: "key_b"): KeyUsageTotals(calls: 7, errors: 0),
                ])
            #expect(try await repository.totals(of: [], from: minute(0), until: minute(60)).isEmpty)
        }
    }

    @Test(arguments: Backend.available)
    func theLastCallIsTheNewestMinuteBeforeTheDate(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            try await SQLUsageRepository(database: database).add([
                usage("key_a", minute: 3, requests: 1),
                usage("key_a", minute: 40, requests: 1),
                usage("key_a", minute: 40, requests: 1, model: "m"),
                usage("key_a", minute: 90, requests: 1),
            ])
            let repository = SQLKeyAlertRepository(database: database)
            let key = APIKeyID(unchecked: "key_a")
            #expect(try await repository.lastCall(of: key, before: minute(60)) == minute(40))
            #expect(try await repository.lastCall(of: key, before: minute(40)) == minute(3))
            #expect(try await repository.lastCall(of: key, before: minute(3)) == nil)
            #expect(try await repository.lastCall(of: APIKeyID(unchecked: "key_b"), before: minute(60)) == nil)
        }
    }

    @Test(arguments: Backend.available)
    func oneAlertIsStoredPerKeyKindAndWindow(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let (_, key) = try await storedKey(database)
            let repository = SQLKeyAlertRepository(database: database)
            let day: TimeInterval = 86_400
            let quiet = epoch.addingTimeInterval(-day)
            #expect(try await repository.record(alert(key), unlessRaisedSince: quiet))
            // The same window again, from this instance or another: refused.
            let again = alert(key, at: epoch.addingTimeInterval(60))
            #expect(try await repository.record(again, unlessRaisedSince: quiet) == false)
            // Another kind has its own.
            let errors = alert(key, kind: .errorSpike, at: epoch.addingTimeInterval(30))
            #expect(try await repository.record(errors, unlessRaisedSince: quiet))
            // The next window, but within a window's length of the last alert: refused.
            let soon = epoch.addingTimeInterval(day - 60)
            let tooSoon = alert(key, window: epoch.addingTimeInterval(day), at: soon)
            #expect(try await repository.record(tooSoon, unlessRaisedSince: soon.addingTimeInterval(-day)) == false)
            // The next window, a window's length later: stored.
            let later = epoch.addingTimeInterval(day + 60)
            #expect(
                try await repository.record(
                    alert(key, window: epoch.addingTimeInterval(day), at: later),
                    unlessRaisedSince: later.addingTimeInterval(-day)))
            let stored = try await repository.alerts(
                in: key.organizationID, since: .distantPast, includeDismissed: true, limit: 10)
            #expect(stored.map(\.kind) == [.callSpike, .errorSpike, .callSpike])
        }
    }

    @Test(arguments: Backend.available)
    func ofManyRaisingTheSameAlertAtOnceOneStoresIt(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let (_, key) = try await storedKey(database)
            let repository = SQLKeyAlertRepository(database: database)
            let candidates = (0..<6).map { _ in alert(key) }
            let stored = try await withThrowingTaskGroup(of: Bool.self) { group in
                for candidate in candidates {
                    group.addTask {
                        try await repository.record(candidate, unlessRaisedSince: epoch.addingTimeInterval(-86_400))
                    }
                }
                var count = 0
                for try await won in group where won { count += 1 }
                return count
            }
            #expect(stored == 1)
            let all = try await repository.alerts(
                in: key.organizationID, since: .distantPast, includeDismissed: true, limit: 10)
            #expect(all.count == 1)
        }
    }

    @Test(arguments: Backend.available)
    func raisingAtAWindowsEndAndJustAfterTheNextStartsStoresOneAlert(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let (_, key) = try await storedKey(database)
            // Two instances over one database: one a second before the next window starts, the
            // other a second after, each with several passes at once, for every kind. A look for
            // an alert within a window's length finds none for either until one is stored.
            let (before, after) = (SQLKeyAlertRepository(database: database), SQLKeyAlertRepository(database: database))
            let day: TimeInterval = 86_400
            let next = epoch.addingTimeInterval(day)
            var raisings: [(repository: SQLKeyAlertRepository, alert: KeyAlert, quietSince: Date)] = []
            let (late, early) = (next.addingTimeInterval(-1), next.addingTimeInterval(1))
            for kind in KeyAlert.Kind.allCases {
                for _ in 0..<4 {
                    let ending = alert(key, kind: kind, window: epoch, at: late)
                    let starting = alert(key, kind: kind, window: next, at: early)
                    raisings.append((before, ending, late.addingTimeInterval(-day)))
                    raisings.append((after, starting, early.addingTimeInterval(-day)))
                }
            }
            let stored = try await withThrowingTaskGroup(of: Bool.self) { group in
                for raising in raisings {
                    group.addTask {
                        try await raising.repository.record(raising.alert, unlessRaisedSince: raising.quietSince)
                    }
                }
                var count = 0
                for try await won in group where won { count += 1 }
                return count
            }
            #expect(stored == KeyAlert.Kind.allCases.count)
            let all = try await before.alerts(
                in: key.organizationID, since: .distantPast, includeDismissed: true, limit: 100)
            #expect(all.count == KeyAlert.Kind.allCases.count)
            #expect(Set(all.map(\.kind)) == Set(KeyAlert.Kind.allCases))
        }
    }

    @Test(arguments: Backend.available)
    func alertsReadBackNewestFirstWithTheirKeyAndLeaveWhenDismissed(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let (account, key) = try await storedKey(database)
            let (_, stranger) = try await storedKey(database, email: "grace@example.com")
            let repository = SQLKeyAlertRepository(database: database)
            let quiet = Date.distantPast
            let old = alert(key, kind: .errorSpike, at: epoch.addingTimeInterval(-8 * 86_400))
            let spike = alert(key, at: epoch)
            let idle = alert(key, kind: .idleKeyUsed, at: epoch.addingTimeInterval(60))
            for stored in [old, spike, idle, alert(stranger)] {
                #expect(try await repository.record(stored, unlessRaisedSince: quiet))
            }
            let organization = account.organization.id
            let week = epoch.addingTimeInterval(-7 * 86_400)
            let listed = try await repository.alerts(in: organization, since: week, includeDismissed: false, limit: 10)
            #expect(listed.map(\.id) == [idle.id, spike.id])
            var expected = idle
            expected.keyName = "ci"
            expected.redactedValue = key.redactedValue
            #expect(listed.first == expected)
            #expect(try await repository.alert(spike.id, in: organization)?.observed == 5_000)
            #expect(try await repository.alert(spike.id, in: stranger.organizationID) == nil)

            #expect(try await repository.dismiss(spike.id, in: stranger.organizationID, at: epoch) == false)
            #expect(try await repository.dismiss(spike.id, in: organization, at: epoch.addingTimeInterval(120)))
            #expect(
                try await repository.dismiss(spike.id, in: organization, at: epoch.addingTimeInterval(180)) == false)
            let after = try await repository.alerts(in: organization, since: week, includeDismissed: false, limit: 10)
            #expect(after.map(\.id) == [idle.id])
            let everything = try await repository.alerts(
                in: organization, since: week, includeDismissed: true, limit: 10)
            #expect(everything.map(\.id) == [idle.id, spike.id])
            #expect(everything.last?.dismissedAt == epoch.addingTimeInterval(120))
            #expect(
                try await repository.alerts(in: organization, since: week, includeDismissed: true, limit: 1).count == 1)
        }
    }
}
