import Foundation
import KeywardenCore
import KeywardenStorage
import SQLKit
import Synchronization
import Testing

@Suite("APIKeyRepository contract: changing, disabling and enabling keys")
struct APIKeyControlsRepositoryTests {
    /// A clock that shows what the test sets, for the `updated_at` stamps the index poller reads.
    final class SetClock: Sendable {
        let current = Mutex<Date>(epoch)
        var clock: Clock { Clock(now: { self.current.withLock { $0 } }) }
        func set(_ date: Date) { current.withLock { $0 = date } }
    }

    func makeKey(_ account: NewAccount, allowedIPs: [String] = [], disabledAt: Date? = nil) throws -> APIKey {
        let value = APIKeyFormat().generate(.project)
        return APIKey(
            id: .generate(), kind: .project, organizationID: account.organization.id,
            projectID: account.defaultProject.id, name: "key", owner: .user(account.user.id), permissions: .all,
            digest: APIKeyIndex.digest(value), redactedValue: APIKeyFormat().redacted(value), createdAt: epoch,
            disabledAt: disabledAt, allowedIPs: try AllowedIPRanges(parsing: allowedIPs))
    }

    @Test(arguments: Backend.available)
    func allowedRangesAndTheDisabledDateReadBackAsStored(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let repository = SQLAPIKeyRepository(database: database)
            let plain = try makeKey(account)
            let limited = try makeKey(
                account, allowedIPs: ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"],
                disabledAt: epoch.addingTimeInterval(3))
            for key in [plain, limited] { try await repository.create(key) }
            #expect(try await repository.key(plain.id) == plain)
            #expect(try await repository.key(limited.id) == limited)
            #expect(
                try await repository.key(limited.id)?.allowedIPs.texts == [
                    "203.0.113.0/24", "2001:db8::/32", "198.51.100.7",
                ])
            #expect(Set(try await repository.allKeys().filter { $0.isDisabled }.map(\.id)) == [limited.id])
        }
    }

    @Test(arguments: Backend.available)
    func anUpdateChangesTheSettingsStampsTheKeyAndLeavesARevokedOneAlone(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let time = SetClock()
            let repository = SQLAPIKeyRepository(database: database, clock: time.clock)
            let key = try makeKey(account)
            let other = try makeKey(account)
            for stored in [key, other] { try await repository.create(stored) }

            time.set(epoch.addingTimeInterval(60))
            let ranges = try AllowedIPRanges(parsing: ["10.0.0.0/8"])
            let updated = try await repository.update(
                key.id, in: account.organization.id, name: "renamed", permissions: .restricted(["model.request"]),
                allowedIPs: ranges)
            #expect(updated?.name == "renamed")
            #expect(updated?.permissions == .restricted(["model.request"]))
            #expect(updated?.allowedIPs == ranges)
            #expect(try await repository.key(key.id) == updated)
            // Only the changed key is picked up by an index that looked before the change.
            #expect(try await repository.keys(changedSince: epoch.addingTimeInterval(30)).map(\.id) == [key.id])

            #expect(
                try await repository.update(
                    key.id, in: .generate(), name: "elsewhere", permissions: .all, allowedIPs: .any) == nil)
            #expect(
                try await repository.update(
                    .generate(), in: account.organization.id, name: "nobody", permissions: .all, allowedIPs: .any)
                    == nil)

            _ = try await repository.revoke(other.id, in: account.organization.id, at: epoch.addingTimeInterval(61))
            let revoked = try await repository.update(
                other.id, in: account.organization.id, name: "too late", permissions: .readOnly, allowedIPs: ranges)
            #expect(revoked?.name == "key")
            #expect(revoked?.permissions == .all)
            #expect(revoked?.allowedIPs == .any)
        }
    }

    @Test(arguments: Backend.available)
    func disablingKeepsTheFirstDateEnablingClearsItAndARevokedKeyStaysAsItIs(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let time = SetClock()
            let repository = SQLAPIKeyRepository(database: database, clock: time.clock)
            let key = try makeKey(account)
            try await repository.create(key)

            time.set(epoch.addingTimeInterval(100))
            let organization = account.organization.id
            let disabled = try await repository.disable(key.id, in: organization, at: epoch.addingTimeInterval(5))
            #expect(disabled?.disabledAt == epoch.addingTimeInterval(5))
            #expect(try await repository.keys(changedSince: epoch.addingTimeInterval(100)).map(\.id) == [key.id])
            let again = try await repository.disable(key.id, in: organization, at: epoch.addingTimeInterval(9))
            #expect(again?.disabledAt == epoch.addingTimeInterval(5))

            time.set(epoch.addingTimeInterval(200))
            let enabled = try await repository.enable(key.id, in: account.organization.id)
            #expect(enabled?.disabledAt == nil)
            #expect(try await repository.keys(changedSince: epoch.addingTimeInterval(200)).map(\.id) == [key.id])
            #expect(try await repository.enable(key.id, in: .generate()) == nil)
            #expect(try await repository.disable(.generate(), in: account.organization.id, at: epoch) == nil)

            // Disabled, then revoked: enabling it changes nothing; a revoked key is not disabled anew.
            _ = try await repository.disable(key.id, in: account.organization.id, at: epoch.addingTimeInterval(300))
            _ = try await repository.revoke(key.id, in: account.organization.id, at: epoch.addingTimeInterval(301))
            #expect(try await repository.enable(key.id, in: organization)?.disabledAt == epoch.addingTimeInterval(300))
            let revoked = try makeKey(account)
            try await repository.create(revoked)
            _ = try await repository.revoke(revoked.id, in: account.organization.id, at: epoch)
            #expect(try await repository.disable(revoked.id, in: account.organization.id, at: epoch)?.disabledAt == nil)
        }
    }

    @Test(arguments: Backend.available)
    func changesDisablingAndEnablingAreAnnouncedToListenersOnPostgreSQL(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let repository = SQLAPIKeyRepository(database: database)
            let heard = Heard()
            let listener = Task {
                try await database.listen(on: SQLAPIKeyRepository.changeChannel) { payload in
                    heard.items.withLock { $0.append(payload) }
                }
            }
            guard backend == .postgres else {
                try await listener.value
                return
            }
            func waitFor(_ payload: String, probing: Bool = false) async throws {
                let deadline = ContinuousClock.now + .seconds(10)
                while !heard.items.withLock({ $0.contains(payload) }) {
                    #expect(ContinuousClock.now < deadline, "the announcement of \(payload) never arrived")
                    if ContinuousClock.now > deadline { return }
                    if probing {
                        try await database.withConnection { db in
                            try await db.raw(
                                "SELECT pg_notify(\(bind: SQLAPIKeyRepository.changeChannel), \(bind: payload))"
                            ).run()
                        }
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                heard.items.withLock { $0.removeAll() }
            }
            try await waitFor("probe-" + SecureRandom.base62(length: 8), probing: true)
            let key = try makeKey(account)
            try await repository.create(key)
            try await waitFor(key.id.rawValue)
            _ = try await repository.update(
                key.id, in: account.organization.id, name: "renamed", permissions: .readOnly, allowedIPs: .any)
            try await waitFor(key.id.rawValue)
            _ = try await repository.disable(key.id, in: account.organization.id, at: epoch)
            try await waitFor(key.id.rawValue)
            _ = try await repository.enable(key.id, in: account.organization.id)
            try await waitFor(key.id.rawValue)
            listener.cancel()
            _ = await listener.result
        }
    }
}
