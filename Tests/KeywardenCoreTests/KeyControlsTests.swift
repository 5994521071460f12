import Foundation
import KeywardenCore
import Testing

@Suite("Changing, disabling and enabling keys in the key service")
struct KeyControlsTests {
    /// A bench with a verified organization and one of its owner's keys.
    func keyed(
        _ request: APIKeyService.Request? = nil
    ) async throws -> (bench: KeyBench, account: NewAccount, issued: IssuedAPIKey) {
        let bench = KeyBench()
        let account = try await bench.signUp()
        try await bench.verify(account)
        let issued = try await bench.createKey(in: account, request: request)
        return (bench, account, issued)
    }

    /// The settings of a key named `ci` with all permissions.
    static func request(expiresIn: Int? = nil, allowedIPs: [String]? = nil) throws -> APIKeyService.Request {
        try APIKeyService.Request(name: "ci", permissions: .all, expiresInSeconds: expiresIn, allowedIPs: allowedIPs)
    }

    /// Changes the account's owner's key `key` as `change` asks.
    func update(
        _ bench: KeyBench, _ account: NewAccount, _ key: APIKey, _ change: APIKeyService.Change
    ) async throws -> APIKey {
        try await bench.service.updateProjectKey(
            project: account.defaultProject.id.rawValue, key: key.id.rawValue, change: change,
            membership: try await bench.membership(in: account), user: account.user,
            actor: .session(account.user, ipAddress: nil))
    }

    func disable(_ bench: KeyBench, _ account: NewAccount, _ key: APIKey) async throws -> APIKey {
        try await bench.service.disableProjectKey(
            project: account.defaultProject.id.rawValue, key: key.id.rawValue,
            membership: try await bench.membership(in: account), user: account.user,
            actor: .session(account.user, ipAddress: nil))
    }

    func enable(_ bench: KeyBench, _ account: NewAccount, _ key: APIKey) async throws -> APIKey {
        try await bench.service.enableProjectKey(
            project: account.defaultProject.id.rawValue, key: key.id.rawValue,
            membership: try await bench.membership(in: account), user: account.user,
            actor: .session(account.user, ipAddress: nil))
    }

    /// Rotates the account's owner's key `key` at once, with no grace period.
    func rotate(_ bench: KeyBench, _ account: NewAccount, _ key: APIKey) async throws -> IssuedAPIKey {
        try await bench.service.rotate(
            project: account.defaultProject.id.rawValue, key: key.id.rawValue, gracePeriod: 0, idempotencyKey: nil,
            membership: try await bench.membership(in: account), user: account.user,
            actor: .session(account.user, ipAddress: nil))
    }

    /// The `changed` detail of every `api_key.updated` event of the account, oldest first.
    func changes(_ bench: KeyBench, _ account: NewAccount) async -> [String] {
        await bench.repositories.database.auditEvents(in: account.organization.id)
            .filter { $0.type == .apiKeyUpdated }.compactMap { $0.details["changed"] }
    }

    @Test func anUpdateChangesOnlyWhatIsSentAndTheIndexSeesItAtOnce() async throws {
        let (bench, account, issued) = try await keyed()
        let renamed = try await update(bench, account, issued.key, .init(name: "deploy"))
        #expect(renamed.name == "deploy")
        #expect(renamed.permissions == .all)
        #expect(renamed.allowedIPs == .any)

        let restricted = try await update(
            bench, account, renamed,
            .init(permissions: "restricted", scopes: ["model.request"], allowedIPs: ["203.0.113.0/24"]))
        #expect(restricted.name == "deploy")
        #expect(restricted.permissions == .restricted(["model.request"]))
        #expect(restricted.allowedIPs.texts == ["203.0.113.0/24"])
        #expect(
            bench.service.index.authenticate(issued.value, from: "203.0.113.9", now: bench.time.now)
                == .valid(restricted))
        #expect(
            bench.service.index.authenticate(issued.value, from: "198.51.100.7", now: bench.time.now)
                == .addressNotAllowed(restricted))
        #expect(await bench.storedKeys() == [restricted])

        // A key that stays restricted keeps its scopes unless new ones are sent.
        let kept = try await update(bench, account, restricted, .init(permissions: "restricted", allowedIPs: []))
        #expect(kept.permissions == .restricted(["model.request"]))
        #expect(kept.allowedIPs == .any)
        let widened = try await update(bench, account, kept, .init(permissions: "all"))
        #expect(widened.permissions == .all)
        #expect(
            await changes(bench, account) == [
                "name", "permissions,scopes,allowed_ips", "allowed_ips", "permissions,scopes",
            ])
    }

    @Test func anUpdateThatChangesNothingIsNeitherWrittenNorRecorded() async throws {
        let (bench, account, issued) = try await keyed()
        let same = try await update(
            bench, account, issued.key, .init(name: issued.key.name, permissions: "all", allowedIPs: []))
        #expect(same == issued.key)
        #expect(await changes(bench, account).isEmpty)
    }

    @Test func anUpdateFollowsTheRulesOfCreation() async throws {
        let (bench, account, issued) = try await keyed()
        let key = issued.key
        let refusals: [(APIKeyService.Change, String)] = [
            (.init(scopes: ["model.request"]), "scopes"),
            (.init(permissions: "restricted"), "scopes"),
            (.init(permissions: "restricted", scopes: ["api.files.delete"]), "scopes"),
            (.init(permissions: "everything"), "permissions"),
            (.init(name: String(repeating: "n", count: 257)), "name"),
            (.init(allowedIPs: ["300.1.1.1"]), "allowed_ips"),
            (.init(allowedIPs: ["10.0.0.5/8"]), "allowed_ips"),
            (.init(allowedIPs: (0..<33).map { "10.0.\($0).0/24" }), "allowed_ips"),
        ]
        for (change, param) in refusals {
            let refused = await refusalError { try await update(bench, account, key, change) }
            #expect(refused?.code == .invalidValue, "\(change)")
            #expect(refused?.param == param, "\(change)")
        }
        #expect(await bench.storedKeys() == [key])
        #expect(await changes(bench, account).isEmpty)
    }

    @Test func aDisabledKeyIsRefusedUntilItIsEnabledAndEachIsRecordedOnce() async throws {
        let (bench, account, issued) = try await keyed()
        let disabled = try await disable(bench, account, issued.key)
        #expect(disabled.disabledAt == bench.time.now)
        #expect(bench.service.index.authenticate(issued.value, now: bench.time.now) == .invalid("disabled"))
        bench.time.advance(by: 5)
        let again = try await disable(bench, account, disabled)
        #expect(again.disabledAt == disabled.disabledAt)

        let enabled = try await enable(bench, account, again)
        #expect(enabled.disabledAt == nil)
        #expect(bench.service.index.authenticate(issued.value, now: bench.time.now) == .valid(enabled))
        _ = try await enable(bench, account, enabled)
        let types = await bench.auditTypes(of: account).filter { $0.hasPrefix("api_key.") }
        #expect(types == ["api_key.created", "api_key.disabled", "api_key.enabled"])
    }

    @Test func aRevokedOrExpiredKeyCannotBeEnabledChangedOrDisabled() async throws {
        let (bench, account, issued) = try await keyed(try Self.request(expiresIn: 3_600))
        let disabled = try await disable(bench, account, issued.key)
        bench.time.advance(by: 3_601)
        #expect(await refusal { try await enable(bench, account, disabled) } == "api_key_not_active")
        #expect(await refusal { try await update(bench, account, disabled, .init(name: "x")) } == "api_key_not_active")
        // Expired, it stays refused as expired.
        #expect(bench.service.index.authenticate(issued.value, now: bench.time.now) == .invalid("expired"))

        let other = try await bench.createKey(in: account)
        _ = try await bench.service.deleteProjectKey(
            project: account.defaultProject.id.rawValue, key: other.key.id.rawValue,
            membership: try await bench.membership(in: account), user: account.user,
            actor: .session(account.user, ipAddress: nil))
        for action in ["enable", "disable", "update"] {
            let code = await refusal { () async throws -> APIKey in
                switch action {
                case "enable": return try await enable(bench, account, other.key)
                case "disable": return try await disable(bench, account, other.key)
                default: return try await update(bench, account, other.key, .init(name: "x"))
                }
            }
            #expect(code == "api_key_not_active", "\(action)")
        }
    }

    @Test func aDisabledKeyIsEnabledBeforeItIsRotated() async throws {
        let (bench, account, issued) = try await keyed()
        let disabled = try await disable(bench, account, issued.key)
        let code = await refusal {
            try await bench.service.rotate(
                project: account.defaultProject.id.rawValue, key: disabled.id.rawValue, gracePeriod: nil,
                idempotencyKey: nil, membership: try await bench.membership(in: account), user: account.user,
                actor: .session(account.user, ipAddress: nil))
        }
        #expect(code == "api_key_disabled")
        #expect(await bench.storedKeys().count == 1)
    }

    @Test func aRotationKeepsTheAllowedRanges() async throws {
        let (bench, account, issued) = try await keyed(
            try Self.request(allowedIPs: ["198.51.100.7", "2001:db8::/32"]))
        let rotated = try await rotate(bench, account, issued.key)
        #expect(rotated.key.allowedIPs.texts == ["198.51.100.7", "2001:db8::/32"])
    }

    @Test func aRotatedKeyExpiresWhenTheKeyItReplacesWould() async throws {
        let (bench, account, issued) = try await keyed(try Self.request(expiresIn: 30 * 86_400))
        bench.time.advance(by: 3_600)
        let rotated = try await rotate(bench, account, issued.key)
        #expect(rotated.key.expiresAt == issued.key.expiresAt)
        #expect(await bench.storedKeys().last?.expiresAt == issued.key.expiresAt)
        // A key that never expires is replaced by one that never expires.
        let lasting = try await bench.createKey(in: account)
        #expect(try await rotate(bench, account, lasting.key).key.expiresAt == nil)
        // An expired key is not rotated, so no replacement starts out expired.
        bench.time.advance(by: 30 * 86_400)
        #expect(await refusal { try await rotate(bench, account, rotated.key) } == "api_key_not_active")
    }

    @Test func aKeyThatExpiresMakesKeysThatExpireNoLaterThanItself() async throws {
        let (bench, _, issued) = try await keyed(try Self.request(expiresIn: 3_600))
        let caller = issued.key
        let inherited = try await bench.service.createWithKey(caller, request: try bench.keyRequest())
        #expect(inherited.key.expiresAt == caller.expiresAt)
        bench.time.advance(by: 600)
        let sooner = try await bench.service.createWithKey(caller, request: try bench.keyRequest(expiresIn: 3_000))
        #expect(sooner.key.expiresAt == caller.expiresAt)
        let later = await refusalError {
            try await bench.service.createWithKey(caller, request: try bench.keyRequest(expiresIn: 3_001))
        }
        #expect(later?.code == .insufficientPermissions)
        #expect(later?.param == "expires_in_seconds")
        #expect(later?.message.contains("expires in 3000 seconds") == true, "\(later?.message ?? "")")
        #expect(await bench.storedKeys().count == 3)

        // A key that never expires makes keys that never expire unless asked to.
        let (lastingBench, _, lasting) = try await keyed()
        let made = try await lastingBench.service.createWithKey(lasting.key, request: try lastingBench.keyRequest())
        #expect(made.key.expiresAt == nil)
    }

    @Test func aKeyRefusedForItsAddressIsNotCountedAsUsed() async throws {
        let (bench, _, issued) = try await keyed(try Self.request(allowedIPs: ["10.0.0.0/8"]))
        let index = bench.service.index
        #expect(
            index.authenticate(issued.value, from: "192.0.2.1", now: bench.time.now) == .addressNotAllowed(issued.key))
        #expect(index.authenticate(issued.value, now: bench.time.now) == .addressNotAllowed(issued.key))
        try await bench.service.flushUses()
        #expect(await bench.storedKeys().first?.lastUsedAt == nil)

        bench.time.advance(by: 5)
        #expect(index.authenticate(issued.value, from: "10.1.2.3", now: bench.time.now) == .valid(issued.key))
        try await bench.service.flushUses()
        #expect(await bench.storedKeys().first?.lastUsedAt == bench.time.now)
    }

    @Test func aMemberChangesOnlyTheKeysTheyOwn() async throws {
        let (bench, ada, issued) = try await keyed()
        let grace = try await bench.signUp("grace@example.com")
        try await bench.add(grace, to: ada, as: .reader)
        try await bench.repositories.database.addProjectMember(
            grace.user.id, to: ada.defaultProject.id, role: .member, at: bench.time.now)
        let member = try await bench.membership(in: ada, of: grace.user)
        let project = ada.defaultProject.id.rawValue
        let actor = AuditActor.session(grace.user, ipAddress: nil)
        let service = bench.service
        let key = issued.key.id.rawValue
        var codes: [String?] = []
        codes.append(
            await refusal {
                try await service.updateProjectKey(
                    project: project, key: key, change: .init(name: "mine"), membership: member, user: grace.user,
                    actor: actor)
            })
        codes.append(
            await refusal {
                try await service.disableProjectKey(
                    project: project, key: key, membership: member, user: grace.user, actor: actor)
            })
        codes.append(
            await refusal {
                try await service.enableProjectKey(
                    project: project, key: key, membership: member, user: grace.user, actor: actor)
            })
        #expect(codes == Array(repeating: "insufficient_permissions", count: 3))
        let own = try await bench.createKey(in: ada, as: grace.user)
        let changed = try await service.updateProjectKey(
            project: project, key: own.key.id.rawValue, change: .init(name: "mine"), membership: member,
            user: grace.user, actor: actor)
        #expect(changed.name == "mine")
    }

    @Test func aKeyLimitedToRangesMakesKeysOnlyWithinThem() async throws {
        let (bench, _, issued) = try await keyed(try Self.request(allowedIPs: ["10.0.0.0/8"]))
        let inherited = try await bench.service.createWithKey(issued.key, request: try bench.keyRequest())
        #expect(inherited.key.allowedIPs.texts == ["10.0.0.0/8"])
        let narrower = try await bench.service.createWithKey(
            issued.key, request: try bench.keyRequest().withAllowedIPs(["10.1.2.0/24"]))
        #expect(narrower.key.allowedIPs.texts == ["10.1.2.0/24"])
        let refused = await refusalError {
            try await bench.service.createWithKey(
                issued.key, request: try bench.keyRequest().withAllowedIPs(["10.0.0.0/8", "192.168.0.0/16"]))
        }
        #expect(refused?.code == .insufficientPermissions)
        #expect(refused?.param == "allowed_ips")
    }

    @Test func anExpiryIsFromAMinuteToFiveYears() throws {
        for seconds in [60, 3_600, 157_680_000] {
            let request = try APIKeyService.Request(name: nil, permissions: .all, expiresInSeconds: seconds)
            #expect(request.expiresIn == TimeInterval(seconds))
        }
        for seconds in [-1, 0, 59, 157_680_001, Int.max] {
            #expect(throws: DomainError.self) {
                try APIKeyService.Request(name: nil, permissions: .all, expiresInSeconds: seconds)
            }
        }
    }

    @Test func aNewKeyExpiresWhenItsRequestSays() async throws {
        let (bench, _, issued) = try await keyed(try Self.request(expiresIn: 86_400))
        #expect(issued.key.expiresAt == issued.key.createdAt.addingTimeInterval(86_400))
        bench.time.advance(by: 86_400)
        #expect(bench.service.index.authenticate(issued.value, now: bench.time.now) == .invalid("expired"))
    }
}

extension APIKeyService.Request {
    /// The request with `entries` as its allowed IP ranges.
    func withAllowedIPs(_ entries: [String]) throws -> APIKeyService.Request {
        var request = self
        request.allowedIPs = try AllowedIPRanges(parsing: entries)
        return request
    }
}
