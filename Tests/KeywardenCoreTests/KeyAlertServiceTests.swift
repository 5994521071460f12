import Foundation
import KeywardenCore
import Testing

@Suite("Key alert service")
struct KeyAlertServiceTests {
    /// 2025-06-15T15:06:40Z: the hour looked at starts at 14:06:40, the week before it ends at 14:00.
    static let start = Date(timeIntervalSince1970: 1_750_000_000)
    static let baselineEnd = Date(timeIntervalSince1970: 1_749_996_000)
    static let redacted = "sk-proj-...Xk3a"

    struct World {
        let repositories: InMemoryRepositories
        let usage: InMemoryKeyAlertRepository
        let account: NewAccount
        let key: APIKey
        let time: ManualClock
        let mail: SentMail
        let service: KeyAlertService

        var organization: OrganizationID { account.organization.id }
        var project: ProjectID { account.defaultProject.id }

        /// A usage row of the key.
        func row(at minute: Date, calls: Int, errors: Int = 0) -> UsageRecord {
            UsageRecord(
                apiKeyID: key.id.rawValue, projectID: project.rawValue, organizationID: organization.rawValue,
                minute: minute, requests: calls, errors: errors)
        }

        /// `calls` in each hour of the week before the hour looked at.
        func usualWeek(calls: Int) async {
            await usage.add(
                (1...UsageAnomalyRule.baselineHours).map { hour in
                    row(
                        at: KeyAlertServiceTests.baselineEnd.addingTimeInterval(TimeInterval(-3600 * hour)),
                        calls: calls)
                })
        }
    }

    func world(keyCreatedAt: Date = KeyAlertServiceTests.start.addingTimeInterval(-60 * 86_400)) async throws -> World {
        let repositories = InMemoryRepositories()
        let account = try await repositories.signUp("ada@example.com", at: Self.start.addingTimeInterval(-90 * 86_400))
        let key = APIKey(
            id: .generate(), kind: .project, organizationID: account.organization.id,
            projectID: account.defaultProject.id, name: "ci", owner: .user(account.user.id), permissions: .all,
            digest: String(repeating: "ab", count: 32), redactedValue: Self.redacted, createdAt: keyCreatedAt)
        try await repositories.keys.create(key)
        let usage = InMemoryKeyAlertRepository()
        let time = ManualClock(Self.start)
        let mail = SentMail()
        let service = KeyAlertService(
            repository: usage, keys: repositories.keys, projects: repositories.projects,
            accounts: repositories.accounts, audit: repositories.audit, email: mail.sender, policy: KeyAlertPolicy(),
            linkBaseURL: "https://keys.example.com/", clock: time.clock)
        return World(
            repositories: repositories, usage: usage, account: account, key: key, time: time, mail: mail,
            service: service)
    }

    @Test func aSpikeIsRaisedAndMailedOnceHoweverManyPassesRunInItsWindow() async throws {
        let world = try await world()
        await world.usualWeek(calls: 10)
        await world.usage.add([world.row(at: Self.start.addingTimeInterval(-40), calls: 5_000)])

        #expect(try await world.service.detect() == 1)
        #expect(try await world.service.detect() == 0)
        world.time.advance(by: 600)
        #expect(try await world.service.detect() == 0)

        let stored = await world.usage.all
        #expect(stored.count == 1)
        #expect(stored.first?.kind == .callSpike)
        #expect(stored.first?.observed == 5_000)
        #expect(stored.first?.baseline == 10)
        #expect(stored.first?.windowStart == Date(timeIntervalSince1970: 1_749_945_600))
        let mail = world.mail.sent
        #expect(mail.count == 1)
        let message = try #require(mail.first)
        #expect(message.to == world.account.user.email)
        #expect(message.subject == "Unusual number of calls with the API key \(Self.redacted)")
        #expect(message.text.contains("The API key ci (\(Self.redacted)) of the project Default project"))
        #expect(
            message.text.contains("made 5000 calls in the hour to 2025-06-15 15:06 UTC, against a usual 10 an hour"))
        #expect(message.text.contains("\nhttps://keys.example.com/api-keys\n"))
        #expect(message.text.contains("rotate it or revoke it"))
        let audited = try await world.repositories.audit.events(
            in: world.organization, types: [.apiKeyAlertSent], from: nil, until: nil, after: nil, limit: 10)
        #expect(audited.items.count == 1)
        #expect(audited.items.first?.details["kind"] == "call_spike")
        #expect(audited.items.first?.actor == .system)
    }

    @Test func theNextWindowMayAlertAgain() async throws {
        let world = try await world()
        await world.usualWeek(calls: 10)
        await world.usage.add([world.row(at: Self.start.addingTimeInterval(-40), calls: 5_000)])
        #expect(try await world.service.detect() == 1)
        // A day and an hour later, in the next window, another hour ten times the usual one.
        world.time.advance(by: 86_400 + 3600)
        await world.usage.add([world.row(at: world.time.now.addingTimeInterval(-40), calls: 5_000)])
        #expect(try await world.service.detect() == 1)
        #expect(try await world.service.detect() == 0)
        #expect(world.mail.sent.count == 2)
    }

    @Test func failedCallsAlertOnTheirOwn() async throws {
        let world = try await world()
        await world.usualWeek(calls: 100)
        await world.usage.add([world.row(at: Self.start.addingTimeInterval(-600), calls: 150, errors: 140)])
        #expect(try await world.service.detect() == 1)
        #expect(await world.usage.all.map(\.kind) == [.errorSpike])
        let message = try #require(world.mail.sent.first)
        #expect(message.subject == "Unusual number of failed calls with the API key \(Self.redacted)")
        #expect(message.text.contains("had 140 failed calls"))
        #expect(message.text.contains("against fewer than one an hour"))
    }

    @Test func aKeyUsedAfterItsIdleDaysIsAlertedWithItsPreviousCall() async throws {
        let world = try await world()
        let previous = Self.start.addingTimeInterval(-40 * 86_400)
        await world.usage.add([
            world.row(at: previous, calls: 3), world.row(at: Self.start.addingTimeInterval(-600), calls: 2),
        ])
        #expect(try await world.service.detect() == 1)
        world.time.advance(by: 300)
        #expect(try await world.service.detect() == 0)
        let stored = try #require(await world.usage.all.first)
        #expect(stored.kind == .idleKeyUsed)
        #expect(stored.idleSince == previous)
        #expect(stored.observed == 2)
        let message = try #require(world.mail.sent.first)
        #expect(message.subject == "The API key \(Self.redacted) was used after 40 days without a call")
        #expect(world.mail.sent.count == 1)
    }

    @Test func ordinaryUseANewKeyAndAKeysFirstCallRaiseNothing() async throws {
        // Steady use, a little above the usual hour.
        let steady = try await world()
        await steady.usualWeek(calls: 2_000)
        await steady.usage.add([steady.row(at: Self.start.addingTimeInterval(-60), calls: 3_000, errors: 20)])
        #expect(try await steady.service.detect() == 0)

        // A key made two hours ago, busy from its first hour, with no call before.
        let fresh = try await world(keyCreatedAt: Self.start.addingTimeInterval(-7200))
        await fresh.usage.add([fresh.row(at: Self.start.addingTimeInterval(-60), calls: 50_000, errors: 500)])
        #expect(try await fresh.service.detect() == 0)
        #expect(fresh.mail.sent.isEmpty)
        #expect(steady.mail.sent.isEmpty)
    }

    @Test func membersSeeTheAlertsOfProjectsTheyReadAndThoseWhoMayChangeTheKeyDismissThem() async throws {
        let world = try await world()
        await world.usage.add([
            world.row(at: Self.start.addingTimeInterval(-50 * 86_400), calls: 1),
            world.row(at: Self.start.addingTimeInterval(-60), calls: 1),
        ])
        #expect(try await world.service.detect() == 1)
        let alert = try #require(await world.usage.all.first)
        let owner = try await world.repositories.membership(of: world.account.user.id, in: world.organization)
        let outsider = Membership(organization: world.account.organization, role: .reader, addedAt: Self.start)
        let viewer = Membership(
            organization: world.account.organization, role: .reader, addedAt: Self.start,
            projectRoles: [world.project: .viewer])
        let viewerID = UserID.generate()

        #expect(try await world.service.alerts(for: owner).map(\.id) == [alert.id])
        #expect(try await world.service.alerts(for: outsider).isEmpty)
        #expect(try await world.service.notices(in: world.project, for: outsider, user: viewerID).isEmpty)
        let seen = try await world.service.notices(in: world.project, for: viewer, user: viewerID)
        #expect(seen.map(\.canDismiss) == [false])
        let owners = try await world.service.notices(in: world.project, for: owner, user: world.account.user.id)
        #expect(owners.map(\.canDismiss) == [true])

        let refused = await refusal {
            try await world.service.dismiss(alert.id.rawValue, membership: viewer, user: viewerID, actor: .system)
        }
        #expect(refused == "insufficient_permissions")
        let byOutsider = try await world.service.dismiss(
            alert.id.rawValue, membership: outsider, user: viewerID, actor: .system)
        #expect(byOutsider == .notFound)
        let actor = AuditActor(type: "session", userID: world.account.user.id.rawValue)
        let dismissed = try await world.service.dismiss(
            alert.id.rawValue, membership: owner, user: world.account.user.id, actor: actor)
        #expect(dismissed == .dismissed)
        let again = try await world.service.dismiss(
            alert.id.rawValue, membership: owner, user: world.account.user.id, actor: actor)
        #expect(again == .alreadyDismissed)
        let unknown = try await world.service.dismiss(
            "keyalert_nothing", membership: owner, user: world.account.user.id, actor: actor)
        #expect(unknown == .notFound)
        #expect(try await world.service.alerts(for: owner).isEmpty)
        #expect(try await world.service.notices(in: world.project, for: owner, user: world.account.user.id).isEmpty)
        #expect(try await world.service.alerts(for: owner, includeDismissed: true).count == 1)
        let audited = try await world.repositories.audit.events(
            in: world.organization, types: [.apiKeyAlertDismissed], from: nil, until: nil, after: nil, limit: 10)
        #expect(audited.items.map(\.actor) == [actor])

        // A week later the alert has left the lists even without being dismissed.
        world.time.advance(by: 7 * 86_400 + 1)
        #expect(try await world.service.alerts(for: owner, includeDismissed: true).isEmpty)
    }
}
