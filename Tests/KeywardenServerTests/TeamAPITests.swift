import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenServer
import Testing

@Suite("Teams API: invites, members and project users")
struct TeamAPITests {
    @Test func anInviteIsEmailedAcceptedAndTheMemberChangedAndRemoved() async throws {
        let mailbox = TestMailbox()
        try await withApp(mailbox: mailbox) { api, _ in
            let ada = try await api.signUp("ada@example.com")
            let owner = try #require(ada.string("session_token"))
            let organization = try #require(ada.string("organization.id"))
            let project = try #require(ada.string("default_project.id"))
            let invited = try await api.invite(owner, email: "Grace@Example.com")
            #expect(invited.status == .created)
            #expect(invited.string("object") == "organization.invite")
            #expect(invited.string("id")?.hasPrefix("inv_") == true)
            #expect(invited.string("email") == "grace@example.com")
            #expect(invited.string("status") == "pending")
            #expect(invited.json["accepted_at"] is NSNull)
            let grants = try #require(invited.value("projects") as? [[String: Any]])
            #expect(grants.first?["id"] as? String == project)
            #expect(grants.first?["role"] as? String == "member")
            let inviteID = try #require(invited.string("id"))
            let mail = try #require(mailbox.sent(to: "grace@example.com").last)
            #expect(mail.subject.contains("Personal"))
            #expect(mail.text.contains("ada@example.com"))
            #expect(mailbox.link(to: "grace@example.com", containing: "/invite?token=") != nil)
            let emailed = try #require(mailbox.inviteToken(to: "grace@example.com"))
            #expect(!String(decoding: invited.body, as: UTF8.self).contains(emailed))

            let listed = try await api.request(.get, "/v1/organization/invites", token: owner)
            #expect((listed.value("data") as? [[String: Any]])?.compactMap { $0["id"] as? String } == [inviteID])
            let (grace, graceID) = try await api.join("grace@example.com", mailbox: mailbox)
            let shown = try await api.request(.get, "/v1/organization/invites/\(inviteID)", token: owner)
            #expect(shown.string("status") == "accepted")

            let inAda = TestAPI.acting(in: organization)
            let me = try await api.request(.get, "/v1/organization", token: grace, headers: inAda)
            #expect(me.string("role") == "reader")
            let projects = try await api.request(.get, "/v1/organization/projects", token: grace, headers: inAda)
            #expect((projects.value("data") as? [[String: Any]])?.compactMap { $0["id"] as? String } == [project])
            let user = try await api.request(.get, "/v1/organization/users/\(graceID)", token: owner)
            #expect(user.string("object") == "organization.user")
            #expect(user.string("role") == "reader")

            let promoted = try await api.request(
                .post, "/v1/organization/users/\(graceID)", token: owner, json: #"{"role":"owner"}"#)
            #expect(promoted.string("role") == "owner")
            let demoted = try await api.request(
                .post, "/v1/organization/users/\(graceID)", token: owner, json: #"{"role":"reader"}"#)
            #expect(demoted.string("role") == "reader")
            let removed = try await api.request(.delete, "/v1/organization/users/\(graceID)", token: owner)
            #expect(removed.string("object") == "organization.user.deleted")
            #expect(removed.string("id") == graceID)
            #expect(removed.value("deleted") as? Bool == true)
            let gone = try await api.request(.get, "/v1/organization", token: grace, headers: inAda)
            #expect(gone.string("error.code") == "organization_not_found")

            let audit = try await api.request(.get, "/v1/organization/audit_logs", token: owner)
            let types = (audit.value("data") as? [[String: Any]])?.compactMap { $0["type"] as? String } ?? []
            for type in ["invite.sent", "invite.accepted", "user.added", "user.updated", "user.deleted"] {
                #expect(types.contains(type), "\(type)")
            }
        }
    }

    @Test func theLastOwnerCanNeitherLeaveNorBeDemotedButAnotherOwnerMayLeave() async throws {
        let mailbox = TestMailbox()
        try await withApp(mailbox: mailbox) { api, _ in
            let ada = try await api.signUp("ada@example.com")
            let owner = try #require(ada.string("session_token"))
            let adaID = try #require(ada.string("user.id"))
            let organization = try #require(ada.string("organization.id"))
            let leave = try await api.request(.delete, "/v1/organization/users/\(adaID)", token: owner)
            #expect(leave.status == .conflict)
            #expect(leave.string("error.code") == "last_owner")
            let demote = try await api.request(
                .post, "/v1/organization/users/\(adaID)", token: owner, json: #"{"role":"reader"}"#)
            #expect(demote.string("error.code") == "last_owner")

            _ = try await api.invite(owner, email: "grace@example.com", role: "owner")
            let (grace, graceID) = try await api.join("grace@example.com", mailbox: mailbox)
            let inAda = TestAPI.acting(in: organization)
            let left = try await api.request(.delete, "/v1/organization/users/\(adaID)", token: owner)
            #expect(left.status == .ok)
            let alone = try await api.request(
                .delete, "/v1/organization/users/\(graceID)", token: grace, headers: inAda)
            #expect(alone.string("error.code") == "last_owner")
        }
    }

    @Test func invitesAreRefusedInWordsWhereTheyShouldBe() async throws {
        let mailbox = TestMailbox()
        try await withApp(mailbox: mailbox) { api, _ in
            let ada = try await api.signUp("ada@example.com")
            let owner = try #require(ada.string("session_token"))
            let organization = try #require(ada.string("organization.id"))
            _ = try await api.invite(owner, email: "grace@example.com")
            let graceToken = try #require(mailbox.inviteToken(to: "grace@example.com"))

            // Someone else holding the link is told to use the right address, not which it is.
            let mallory = try await api.token("mallory@example.com")
            let mismatch = try await api.accept(graceToken, as: mallory)
            #expect(mismatch.status == .forbidden)
            #expect(mismatch.string("error.code") == "invite_email_mismatch")
            #expect(mismatch.string("error.message")?.contains("grace") == false)
            let unknown = try await api.accept("not-a-token", as: mallory)
            #expect(unknown.string("error.code") == "invite_not_found")

            let (grace, _) = try await api.join("grace@example.com", mailbox: mailbox)
            let again = try await api.invite(owner, email: "grace@example.com")
            #expect(again.status == .conflict)
            #expect(again.string("error.code") == "already_member")
            let reader = try await api.request(
                .post, "/v1/organization/invites", token: grace, json: #"{"email":"x@example.com","role":"reader"}"#,
                headers: TestAPI.acting(in: organization))
            #expect(reader.status == .forbidden)
            let badRole = try await api.invite(owner, email: "alan@example.com", role: "admin")
            #expect(badRole.string("error.param") == "role")
            let badField = try await api.invite(
                owner, email: "alan@example.com", projects: #"[{"id":"proj_x","role":"member","extra":1}]"#)
            #expect(badField.string("error.code") == "unknown_parameter")
            let missing = try await api.invite(
                owner, email: "alan@example.com", projects: #"[{"id":"proj_missing","role":"member"}]"#)
            #expect(missing.string("error.code") == "project_not_found")

            // A second send makes a new link; the first stops working. A revoked invite is gone.
            let alan = try await api.invite(owner, email: "alan@example.com")
            let alanID = try #require(alan.string("id"))
            let first = try #require(mailbox.inviteToken(to: "alan@example.com"))
            let resent = try await api.request(.post, "/v1/organization/invites/\(alanID)/resend", token: owner)
            #expect(resent.status == .ok)
            let second = try #require(mailbox.inviteToken(to: "alan@example.com"))
            #expect(first != second)
            let alanToken = try await api.token("alan@example.com")
            #expect(try await api.accept(first, as: alanToken).string("error.code") == "invite_not_found")
            let deleted = try await api.request(.delete, "/v1/organization/invites/\(alanID)", token: owner)
            #expect(deleted.string("object") == "organization.invite.deleted")
            #expect(try await api.accept(second, as: alanToken).string("error.code") == "invite_not_found")
            let fetched = try await api.request(.get, "/v1/organization/invites/\(alanID)", token: owner)
            #expect(fetched.string("error.code") == "invite_not_found")
        }
    }

    @Test func anInviteExpiresAfterTheConfiguredLifetime() async throws {
        let mailbox = TestMailbox()
        let time = ManualClock()
        try await withApp(clock: time.clock, mailbox: mailbox, configure: { $0.accounts.inviteLifetime = 3600 }) {
            api, _ in
            let owner = try await api.token("ada@example.com")
            let invited = try await api.invite(owner, email: "grace@example.com")
            #expect(invited.value("expires_at") as? Int == 1_750_000_000 + 3600)
            time.advance(by: 3600)
            let grace = try await api.token("grace@example.com")
            let expired = try await api.accept(try #require(mailbox.inviteToken(to: "grace@example.com")), as: grace)
            #expect(expired.status == .gone)
            #expect(expired.string("error.code") == "invite_expired")
            let listed = try await api.request(.get, "/v1/organization/invites", token: owner)
            #expect((listed.value("data") as? [[String: Any]])?.first?["status"] as? String == "expired")
        }
    }

    @Test func projectUsersAreAddedChangedAndRemovedByProjectOwnersOnly() async throws {
        let mailbox = TestMailbox()
        try await withApp(mailbox: mailbox) { api, _ in
            let ada = try await api.signUp("ada@example.com")
            let owner = try #require(ada.string("session_token"))
            let organization = try #require(ada.string("organization.id"))
            let project = try #require(ada.string("default_project.id"))
            let side = try await api.request(
                .post, "/v1/organization/projects", token: owner, json: #"{"name":"Side"}"#)
            let sideID = try #require(side.string("id"))
            _ = try await api.invite(owner, email: "grace@example.com", projects: "[]")
            let (grace, graceID) = try await api.join("grace@example.com", mailbox: mailbox)
            let stranger = try await api.signUp("stranger@example.com")
            let inAda = TestAPI.acting(in: organization)
            let users = "/v1/organization/projects/\(sideID)/users"

            let hidden = try await api.request(
                .get, "/v1/organization/projects/\(sideID)", token: grace, headers: inAda)
            #expect(hidden.string("error.code") == "project_not_found")
            let outsider = try await api.request(
                .post, users, token: owner,
                json: #"{"user_id":"\#(try #require(stranger.string("user.id")))","role":"member"}"#)
            #expect(outsider.string("error.code") == "user_not_found")
            let added = try await api.request(
                .post, users, token: owner, json: #"{"user_id":"\#(graceID)","role":"viewer"}"#)
            #expect(added.status == .created)
            #expect(added.string("object") == "organization.project.user")
            #expect(added.string("role") == "viewer")
            let twice = try await api.request(
                .post, users, token: owner, json: #"{"user_id":"\#(graceID)","role":"owner"}"#)
            #expect(twice.string("error.code") == "already_member")
            let listed = try await api.request(.get, users, token: grace, headers: inAda)
            #expect((listed.value("data") as? [[String: Any]])?.compactMap { $0["id"] as? String } == [graceID])
            let viewerKey = try await api.request(
                .post, "/v1/organization/projects/\(sideID)/api_keys", token: grace, json: #"{"name":"x"}"#,
                headers: inAda)
            #expect(viewerKey.status == .forbidden)
            #expect(viewerKey.string("error.param") == "project_id")
            let selfPromotion = try await api.request(
                .post, "\(users)/\(graceID)", token: grace, json: #"{"role":"owner"}"#, headers: inAda)
            #expect(selfPromotion.status == .forbidden)
            let changed = try await api.request(
                .post, "\(users)/\(graceID)", token: owner, json: #"{"role":"owner"}"#)
            #expect(changed.string("role") == "owner")
            let one = try await api.request(.get, "\(users)/\(graceID)", token: grace, headers: inAda)
            #expect(one.string("role") == "owner")
            let removed = try await api.request(.delete, "\(users)/\(graceID)", token: owner)
            #expect(removed.string("object") == "organization.project.user.deleted")
            let after = try await api.request(.get, "\(users)/\(graceID)", token: owner)
            #expect(after.string("error.code") == "user_not_found")
            let projects = try await api.request(.get, "/v1/organization/projects", token: grace, headers: inAda)
            // The default project, which an invite to no project grants, is all that is left.
            #expect((projects.value("data") as? [[String: Any]])?.compactMap { $0["id"] as? String } == [project])
        }
    }

    @Test func aFurtherOrganizationIsCreatedRenamedAndListed() async throws {
        try await withApp { api, _ in
            let token = try await api.token("ada@example.com")
            let created = try await api.request(.post, "/v1/organizations", token: token, json: #"{"name":"Engines"}"#)
            #expect(created.status == .created)
            #expect(created.string("role") == "owner")
            #expect(created.value("personal") as? Bool == false)
            let id = try #require(created.string("id"))
            let me = try await api.request(.get, "/v1/me", token: token)
            #expect((me.value("organizations.data") as? [[String: Any]])?.count == 2)
            let inEngines = TestAPI.acting(in: id)
            let projects = try await api.request(.get, "/v1/organization/projects", token: token, headers: inEngines)
            #expect((projects.value("data") as? [[String: Any]])?.first?["name"] as? String == "Default project")
            let renamed = try await api.request(
                .post, "/v1/organization", token: token, json: #"{"name":"Difference Engines"}"#, headers: inEngines)
            #expect(renamed.string("name") == "Difference Engines")
            let unnamed = try await api.request(.post, "/v1/organizations", token: token, json: #"{"name":""}"#)
            #expect(unnamed.status == .badRequest)
        }
    }
}
