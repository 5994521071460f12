import Foundation
import HTTPTypes
import KeywardenServer
import SQLKit
import Testing

/// The edges of access: keys made or rotated around a change of role, people left with no
/// organization, and invites brought back after a newer one.
@Suite("Team access at its edges")
struct TeamAccessEdgeTests {
    @Test func anAdminKeyActsOnlyWhileItsOwnerStillOwnsTheOrganization() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, services in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let admin = try await api.request(
                .post, "/v1/organization/admin_api_keys", token: token, json: #"{"name":"ops"}"#)
            let adminKey = try #require(admin.string("value"))
            #expect(try await api.request(.get, "/v1/organization/users", token: adminKey).status == .ok)

            // As if the key were stored in the instant its owner was demoted, after the demotion
            // revoked the keys that existed: the key stays in the index, but acts for nobody.
            try await services.database.withConnection { db in
                try await db.raw("UPDATE organization_members SET role = 'reader'").run()
            }
            let refused = try await api.request(.get, "/v1/organization/users", token: adminKey)
            #expect(refused.status == .unauthorized)
        }
    }

    @Test func aKeyRotatedBySomeoneElseBelongsToWhoeverRotatedIt() async throws {
        let outbox = TestOutbox()
        let mailbox = TestMailbox()
        try await withApp(outbox: outbox, mailbox: mailbox) { api, _ in
            let owner = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let adaID = try #require(try await api.request(.get, "/v1/me", token: owner).string("id"))
            let organization = try #require(try await api.request(.get, "/v1/organization", token: owner).string("id"))
            let project = try await api.defaultProject(owner)
            _ = try await api.invite(owner, email: "grace@example.com")
            let (grace, graceID) = try await api.join("grace@example.com", mailbox: mailbox)
            let keys = "/v1/organization/projects/\(project)/api_keys"
            let graces = try await api.request(
                .post, keys, token: grace, json: #"{"name":"mine"}"#, headers: TestAPI.acting(in: organization))
            #expect(graces.string("owner.id") == graceID)
            let graceKeyID = try #require(graces.string("id"))

            let rotated = try await api.request(.post, "\(keys)/\(graceKeyID)/rotate", token: owner)
            #expect(rotated.status == .created)
            #expect(rotated.string("owner.id") == adaID)
        }
    }

    @Test func someoneRemovedFromTheirLastOrganizationGetsANewPersonalOne() async throws {
        let mailbox = TestMailbox()
        try await withApp(mailbox: mailbox) { api, _ in
            let ada = try await api.signUp("ada@example.com")
            let adaToken = try #require(ada.string("session_token"))
            let adaOrganization = try #require(ada.string("organization.id"))
            // Grace owns Ada's organization too; Ada owns Grace's.
            _ = try await api.invite(adaToken, email: "grace@example.com", role: "owner")
            let (grace, graceID) = try await api.join("grace@example.com", mailbox: mailbox)
            let me = try await api.request(.get, "/v1/me", token: grace)
            let graceOrganization = try #require(
                (me.value("organizations.data") as? [[String: Any]])?
                    .compactMap { $0["id"] as? String }.first { $0 != adaOrganization })
            let inGraces = TestAPI.acting(in: graceOrganization)
            let invited = try await api.request(
                .post, "/v1/organization/invites", token: grace, json: #"{"email":"ada@example.com","role":"owner"}"#,
                headers: inGraces)
            #expect(invited.status == .created)
            let accepted = try await api.accept(try #require(mailbox.inviteToken(to: "ada@example.com")), as: adaToken)
            #expect(accepted.status == .ok)

            // Ada removes Grace from both.
            for organization in [graceOrganization, adaOrganization] {
                let removed = try await api.request(
                    .delete, "/v1/organization/users/\(graceID)", token: adaToken,
                    headers: TestAPI.acting(in: organization))
                #expect(removed.status == .ok, "\(String(decoding: removed.body, as: UTF8.self))")
            }
            let after = try await api.request(.get, "/v1/me", token: grace)
            let left = try #require(after.value("organizations.data") as? [[String: Any]])
            #expect(left.count == 1)
            #expect(left.first?["name"] as? String == "Personal")
            #expect(![graceOrganization, adaOrganization].contains(left.first?["id"] as? String ?? ""))
        }
    }

    @Test func anOlderInviteCannotBeResentOnceANewerOneWasSentEvenAfterItExpired() async throws {
        let mailbox = TestMailbox()
        let time = ManualClock()
        try await withApp(clock: time.clock, mailbox: mailbox, configure: { $0.accounts.inviteLifetime = 3600 }) {
            api, _ in
            let owner = try await api.token("ada@example.com")
            let old = try #require(try await api.invite(owner, email: "bob@example.com", role: "owner").string("id"))
            time.advance(by: 7200)
            let newer = try await api.invite(owner, email: "bob@example.com", role: "reader")
            #expect(newer.status == .created)
            let resent = try await api.request(.post, "/v1/organization/invites/\(old)/resend", token: owner)
            #expect(resent.status != .ok)
            #expect(resent.status.code >= 400)
        }
    }
}
