import Foundation
import KeywardenCore
import KeywardenStorage
import SQLKit
import Synchronization
import Testing

@Suite("APIKeyRepository contract")
struct APIKeyRepositoryTests {
    func makeKey(_ account: NewAccount, kind: APIKeyFormat.Kind = .project, at date: Date = epoch) -> APIKey {
        let value = APIKeyFormat().generate(kind)
        return APIKey(
            id: .generate(), kind: kind, organizationID: account.organization.id,
            projectID: kind == .admin ? nil : account.defaultProject.id, name: "key", owner: .user(account.user.id),
            permissions: .restricted(["api.files.read", "model.request"]), digest: APIKeyIndex.digest(value),
            redactedValue: APIKeyFormat().redacted(value), createdAt: date)
    }

    @Test(arguments: Backend.available)
    func keysReadBackAndListByProjectOrAdmin(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let repository = SQLAPIKeyRepository(database: database)
            let first = makeKey(account, at: epoch)
            let second = makeKey(account, at: epoch.addingTimeInterval(1))
            let admin = makeKey(account, kind: .admin)
            for key in [first, second, admin] { try await repository.create(key) }

            #expect(try await repository.key(first.id, in: account.organization.id) == first)
            #expect(try await repository.key(first.id, in: .generate()) == nil)
            let page = try await repository.keys(
                in: account.organization.id, project: account.defaultProject.id, after: nil, limit: 1)
            #expect(page.items == [first])
            #expect(page.hasMore)
            let next = try await repository.keys(
                in: account.organization.id, project: account.defaultProject.id, after: first.id, limit: 5)
            #expect(next.items == [second])
            let admins = try await repository.keys(in: account.organization.id, project: nil, after: nil, limit: 5)
            #expect(admins.items == [admin])
            #expect(Set(try await repository.allKeys().map(\.id)) == [first.id, second.id, admin.id])
            #expect(try await repository.key(admin.id) == admin)
            let recent = try await repository.keys(changedSince: Date().addingTimeInterval(-60))
            #expect(recent.count == 3)
            let future = try await repository.keys(changedSince: Date().addingTimeInterval(60))
            #expect(future.isEmpty)
        }
    }

    @Test(arguments: Backend.available)
    func revocationAndUseAreRecorded(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let repository = SQLAPIKeyRepository(database: database)
            let key = makeKey(account)
            try await repository.create(key)
            let revoked = try await repository.revoke(
                key.id, in: account.organization.id, at: epoch.addingTimeInterval(5))
            #expect(revoked?.revokedAt == epoch.addingTimeInterval(5))
            let again = try await repository.revoke(
                key.id, in: account.organization.id, at: epoch.addingTimeInterval(9))
            #expect(again?.revokedAt == epoch.addingTimeInterval(5))
            try await repository.recordUse([key.id: epoch.addingTimeInterval(20)])
            try await repository.recordUse([key.id: epoch.addingTimeInterval(10)])
            #expect(
                try await repository.key(key.id, in: account.organization.id)?.lastUsedAt
                    == epoch.addingTimeInterval(20))
        }
    }

    @Test(arguments: Backend.available)
    func rotationStoresTheReplacementAndShortensTheOldKey(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let repository = SQLAPIKeyRepository(database: database)
            let old = makeKey(account)
            try await repository.create(old)
            var replacement = makeKey(account, at: epoch.addingTimeInterval(1))
            replacement.rotatedFrom = old.id
            try await repository.rotate(
                old.id, to: replacement, idempotencyKey: "retry-1", oldExpiresAt: epoch.addingTimeInterval(60))
            #expect(
                try await repository.key(old.id, in: account.organization.id)?.expiresAt == epoch.addingTimeInterval(60)
            )
            #expect(try await repository.rotation(of: old.id, idempotencyKey: "retry-1") == replacement)
            #expect(try await repository.rotation(of: old.id, idempotencyKey: "other") == nil)

            let account2 = ServiceAccount(
                id: .generate(), projectID: account.defaultProject.id, organizationID: account.organization.id,
                name: "bot", createdAt: epoch)
            var botKey = makeKey(account)
            botKey.kind = .serviceAccount
            botKey.owner = .serviceAccount(account2.id)
            try await repository.createServiceAccount(account2, key: botKey)
            #expect(
                try await repository.key(botKey.id, in: account.organization.id)?.owner == .serviceAccount(account2.id))
        }
    }

    @Test(arguments: Backend.available)
    func changedKeysAreAnnouncedToListenersOnPostgreSQL(_ backend: Backend) async throws {
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
                // One process, nothing to tell: listening ends at once.
                try await listener.value
                return
            }
            func waitFor(_ payloads: [String], probing: Bool = false) async throws {
                let deadline = ContinuousClock.now + .seconds(10)
                while !Set(payloads).isSubset(of: heard.items.withLock { Set($0) }) {
                    #expect(ContinuousClock.now < deadline, "announcements \(payloads) never arrived")
                    if ContinuousClock.now > deadline { return }
                    if probing {
                        try await database.withConnection { db in
                            try await db.raw(
                                "SELECT pg_notify(\(bind: SQLAPIKeyRepository.changeChannel), \(bind: payloads[0]))"
                            ).run()
                        }
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            // Channels are database-wide: other tests' keys may be heard too, so only this
            // test's ids are looked for.
            try await waitFor(["probe-" + SecureRandom.base62(length: 8)], probing: true)
            let key = makeKey(account)
            try await repository.create(key)
            try await waitFor([key.id.rawValue])
            heard.items.withLock { $0.removeAll() }
            _ = try await repository.revoke(key.id, in: account.organization.id, at: epoch)
            try await waitFor([key.id.rawValue])
            heard.items.withLock { $0.removeAll() }
            let replacement = makeKey(account)
            try await repository.rotate(key.id, to: replacement, idempotencyKey: nil, oldExpiresAt: epoch)
            try await waitFor([key.id.rawValue, replacement.id.rawValue])
            listener.cancel()
            _ = await listener.result
        }
    }
}

/// Payloads a listener heard.
final class Heard: Sendable {
    let items = Mutex<[String]>([])
}
