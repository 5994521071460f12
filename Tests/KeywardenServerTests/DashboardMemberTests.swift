import Foundation
import HTTPTypes
import KeywardenServer
import Testing

@Suite("Dashboard: Members, invites and organizations")
struct DashboardMemberTests {
    static let members = "/settings/organization/members"

    /// The id of the organization the browser's session acts in first, and its default project.
    func organization(_ api: TestAPI, _ browser: TestBrowser) async throws -> (id: String, project: String) {
        let token = try #require(browser.cookieSessionToken)
        let organization = try await api.request(.get, "/v1/organization", token: token)
        return (try #require(organization.string("id")), try await api.defaultProject(token))
    }

    @Test func anOwnerInvitesTheInviteeSignsUpFromTheLinkJoinsAndIsChangedAndRemoved() async throws {
        let mailbox = TestMailbox()
        try await withApp(mailbox: mailbox) { api, _ in
            let owner = TestBrowser(api)
            try await owner.signUp("ada@example.com")
            let (organization, project) = try await organization(api, owner)
            try await owner.get(Self.members)
            #expect(owner.lastPage.contains("<h1>Members</h1>"))
            #expect(owner.lastPage.contains(#"<label for="invite-email">Email address</label>"#))
            #expect(owner.lastPage.contains("No invites are waiting."))
            #expect(!owner.lastPage.contains("Leave organization"), "the only organization cannot be left")
            let sent = try await owner.post(
                Self.members + "/invite",
                [("email", "grace@example.com"), ("role", "reader"), ("project_\(project)", "member")])
            #expect(sent.status == .seeOther)
            try await owner.follow(sent)
            #expect(owner.lastPage.contains("Invite sent."))
            #expect(owner.lastPage.contains("<td>grace@example.com</td>"))
            #expect(owner.lastPage.contains(">Resend</button>"))

            // The invitee opens the emailed link signed out, signs up from it and comes back.
            let token = try #require(mailbox.inviteToken(to: "grace@example.com"))
            let invitee = TestBrowser(api)
            try await invitee.get("/invite?token=\(token)")
            #expect(invitee.lastPage.contains("<strong>Personal</strong>"))
            #expect(invitee.lastPage.contains("ada@example.com"))
            let next = FormEncodingForTests.escape("/invite?token=\(token)")
            #expect(invitee.lastPage.contains(#"href="/signup?next=\#(next)""#))
            try await invitee.get("/signup?next=\(next)")
            let signedUp = try await invitee.post(
                "/signup",
                [
                    ("email", "grace@example.com"), ("password", "correct horse battery"), ("name", "Grace"),
                    ("next", "/invite?token=\(token)"),
                ])
            #expect(signedUp.headers[.location] == "/invite?token=\(token)")
            try await invitee.follow(signedUp)
            #expect(invitee.lastPage.contains(">Join Personal</button>"))
            let joined = try await invitee.post("/invite", [("token", token)])
            #expect(joined.headers[.location] == "/api-keys")
            #expect(invitee.cookies["keywarden_organization"] == organization)
            try await invitee.follow(joined)
            #expect(invitee.lastPage.contains("You joined Personal."))
            #expect(invitee.lastPage.contains(#"<option value="\#(organization)" selected>"#))

            // The owner sees them, makes them an owner, then removes them.
            try await owner.get(Self.members)
            let graceID = try #require(
                owner.lastPage.firstMatch(of: /members\/(user_[A-Za-z0-9]+)\/remove/).map { String($0.output.1) })
            let promoted = try await owner.post(Self.members + "/\(graceID)/role", [("role", "owner")])
            try await owner.follow(promoted)
            #expect(owner.lastPage.contains("Role saved."))
            let removed = try await owner.post(Self.members + "/\(graceID)/remove")
            try await owner.follow(removed)
            #expect(owner.lastPage.contains("Member removed."))
            #expect(!owner.lastPage.contains("grace@example.com"))

            // Her next page no longer offers the organization.
            try await invitee.get("/api-keys")
            #expect(!invitee.lastPage.contains(#"value="\#(organization)""#))
        }
    }

    @Test func readersSeeTheMembersButNoControlsAndAreRefusedInWords() async throws {
        let mailbox = TestMailbox()
        try await withApp(mailbox: mailbox) { api, services in
            let owner = TestBrowser(api)
            try await owner.signUp("ada@example.com")
            let (organization, _) = try await organization(api, owner)
            let reader = TestBrowser(api)
            try await reader.signUp("grace@example.com")
            let me = try await api.request(.get, "/v1/me", token: reader.cookieSessionToken)
            try await services.addReader(try #require(me.string("id")), to: organization)
            try await reader.get(Self.members)
            try await reader.post("/switch", [("organization", organization)])
            try await reader.get(Self.members)
            #expect(reader.lastPage.contains("<td>ada@example.com</td>"))
            #expect(!reader.lastPage.contains("Invite member"))
            #expect(!reader.lastPage.contains(">Remove</button>"))
            #expect(reader.lastPage.contains("Only owners of this organization can invite, change or remove members."))
            #expect(reader.lastPage.contains("Leave organization"))
            let refused = try await reader.post(
                Self.members + "/invite", [("email", "alan@example.com"), ("role", "reader")])
            #expect(refused.status == .forbidden)
            #expect(reader.lastPage.contains("Only owners of this organization can do that."))
            #expect(mailbox.sent(to: "alan@example.com").isEmpty)

            // A reader may leave; the next page is about their own organization.
            let left = try await reader.post(Self.members + "/leave")
            #expect(left.headers[.location] == "/api-keys")
            try await reader.follow(left)
            #expect(reader.lastPage.contains("You left Personal."))
            #expect(!reader.lastPage.contains(#"value="\#(organization)""#))
        }
    }

    @Test func anInviteLinkOpenedByAnotherAccountOrBrokenSaysSoInWords() async throws {
        let mailbox = TestMailbox()
        try await withApp(mailbox: mailbox) { api, _ in
            let owner = TestBrowser(api)
            try await owner.signUp("ada@example.com")
            try await owner.get(Self.members)
            try await owner.post(Self.members + "/invite", [("email", "grace@example.com"), ("role", "reader")])
            let token = try #require(mailbox.inviteToken(to: "grace@example.com"))
            let other = TestBrowser(api)
            try await other.signUp("mallory@example.com")
            try await other.get("/invite?token=\(token)")
            #expect(
                other.lastPage.contains("This invite was sent to another email address; sign in with that address."))
            #expect(!other.lastPage.contains("grace@example.com"))
            #expect(!other.lastPage.contains(">Join Personal</button>"))
            let forced = try await other.post("/invite", [("token", token)])
            #expect(forced.status == .forbidden)
            let broken = try await other.get("/invite?token=nothing")
            #expect(broken.status == .notFound)
            #expect(other.lastPage.contains("This invite link no longer works"))

            // Revoked from the Members page, the link stops working.
            try await owner.get(Self.members)
            let inviteID = try #require(
                owner.lastPage.firstMatch(of: /invites\/(inv_[A-Za-z0-9]+)\/revoke/).map { String($0.output.1) })
            let revoked = try await owner.post("/settings/organization/invites/\(inviteID)/revoke")
            try await owner.follow(revoked)
            #expect(owner.lastPage.contains("Invite revoked."))
            #expect(try await other.get("/invite?token=\(token)").status == .notFound)
        }
    }

    @Test func aNewOrganizationIsCreatedFromGeneralAndTheLastOwnerCannotLeaveIt() async throws {
        try await withApp { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp("ada@example.com")
            try await browser.get("/settings/organization/general")
            let empty = try await browser.post("/settings/organizations", [("name", " ")])
            #expect(empty.status == .badRequest)
            #expect(browser.lastPage.contains(#"id="new-organization-name-error""#))
            let created = try await browser.post("/settings/organizations", [("name", "Engines")])
            #expect(created.headers[.location] == "/settings/organization/general")
            try await browser.follow(created)
            #expect(browser.lastPage.contains("Organization created."))
            #expect(browser.lastPage.contains("<dd>Engines</dd>"))
            try await browser.get(Self.members)
            #expect(browser.lastPage.contains("Leave organization"))
            let refused = try await browser.post(Self.members + "/leave")
            #expect(refused.status == .conflict)
            #expect(browser.lastPage.contains("An organization needs at least one owner."))
        }
    }

    @Test func aProjectOwnerAddsAReaderToAProjectAndRemovesThem() async throws {
        try await withApp { api, services in
            let owner = TestBrowser(api)
            try await owner.signUp("ada@example.com")
            let (organization, project) = try await organization(api, owner)
            let grace = try await api.signUp("grace@example.com")
            let graceID = try #require(grace.string("user.id"))
            try await services.addReader(graceID, to: organization)
            let page = "/settings/organization/projects/\(project)/members"
            try await owner.get(page)
            #expect(owner.lastPage.contains("No one was added to this project."))
            #expect(owner.lastPage.contains(#"<option value="\#(graceID)">grace@example.com</option>"#))
            let added = try await owner.post(page, [("user_id", graceID), ("role", "viewer")])
            try await owner.follow(added)
            #expect(owner.lastPage.contains("Member added."))
            #expect(owner.lastPage.contains("<td>grace@example.com</td>"))
            let graceToken = try #require(grace.string("session_token"))
            let inAda = TestAPI.acting(in: organization)
            let seen = try await api.request(
                .get, "/v1/organization/projects/\(project)", token: graceToken, headers: inAda)
            #expect(seen.status == .ok)
            let removed = try await owner.post(page + "/\(graceID)/remove")
            try await owner.follow(removed)
            #expect(owner.lastPage.contains("Member removed from the project."))
            let hidden = try await api.request(
                .get, "/v1/organization/projects/\(project)", token: graceToken, headers: inAda)
            #expect(hidden.status == .notFound)
        }
    }
}
