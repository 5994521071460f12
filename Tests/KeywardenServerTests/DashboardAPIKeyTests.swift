import Foundation
import HTTPTypes
import KeywardenServer
import Testing

@Suite("Dashboard: API keys")
struct DashboardAPIKeyTests {
    static let phoneStep = "Verify a phone number for this organization before creating API keys."

    @Test func anUnverifiedOrganizationSeesThePhoneStepInsteadOfCreatingAndAPostAnywayMakesNoKey() async throws {
        try await withApp { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            let list = try await browser.get("/api-keys")
            #expect(list.status == .ok)
            #expect(browser.lastPage.contains("<h1>API keys</h1>"))
            #expect(browser.lastPage.contains(Self.phoneStep))
            #expect(browser.lastPage.contains(#"<a href="/settings/account/phone">Verify a phone number</a>"#))
            #expect(!browser.lastPage.contains(#"href="/api-keys/new""#))
            #expect(!browser.lastPage.contains("Create new secret key"))

            try await browser.get("/api-keys/new")
            #expect(browser.lastPage.contains(Self.phoneStep))
            #expect(!browser.lastPage.contains(#"action="/api-keys""#))
            #expect(!browser.lastPage.contains("Create secret key"))

            let token = try #require(browser.cookieSessionToken)
            let project = try await api.defaultProject(token)
            let refused = try await browser.post(
                "/api-keys", [("owner", "you"), ("name", "anyway"), ("project_id", project), ("permissions", "all")])
            #expect(refused.status == .forbidden)
            #expect(browser.lastPage.contains(Self.phoneStep))
            #expect(browser.shownKey == nil)
            #expect(try await api.projectKeyObjects(token, project: project).isEmpty)
        }
    }

    @Test func aNewKeyIsShownOnceInThePostsOwnAnswerAndWorksOnTheGatewayUntilRevoked() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: { $0.gateway.upstream = .echo }) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUpVerified(outbox: outbox)
            try await browser.get("/api-keys")
            #expect(browser.lastPage.contains(#"<a class="button" href="/api-keys/new">Create new secret key</a>"#))
            #expect(browser.lastPage.contains("This project has no active keys."))
            #expect(!browserHasInlineScriptOrStyle(browser.lastPage))

            try await browser.get("/api-keys/new")
            #expect(browser.lastPage.contains(#"<label for="name">Name</label>"#))
            #expect(browser.lastPage.contains(#"<label for="project_id">Project</label>"#))
            #expect(!browserHasInlineScriptOrStyle(browser.lastPage))
            let project = try #require(browser.pageProject)
            let created = try await browser.post(
                "/api-keys", [("owner", "you"), ("name", "ci"), ("project_id", project), ("permissions", "all")])
            #expect(created.status == .created)
            #expect(created.headers[.location] == nil)
            #expect(created.headers[.cacheControl] == "no-store")
            #expect(browser.lastPage.contains("<h1>Save your key</h1>"))
            #expect(browser.lastPage.contains("It will not be shown again"))
            #expect(
                browser.lastPage.contains(##"<button type="button" data-copy="#new-key-value" hidden>Copy</button>"##))
            #expect(browser.lastPage.contains(#"<a class="button" href="/api-keys">Done</a>"#))
            #expect(!browserHasInlineScriptOrStyle(browser.lastPage))
            let value = try #require(browser.shownKey)
            #expect(value.wholeMatch(of: /sk-proj-[A-Za-z0-9]{38}/) != nil)

            try await browser.get("/api-keys")
            let redacted = "sk-proj-..." + String(value.suffix(4))
            #expect(browser.lastPage.contains("<code>\(redacted)</code>"))
            #expect(!browser.lastPage.contains(value))
            #expect(browser.lastPage.contains("<td>Never</td>"))
            #expect(
                browser.lastPage.contains(
                    #"<td class="key-owner">ada@example.com <span class="muted">(Ada)</span></td>"#))
            #expect(browser.lastPage.firstMatch(of: /<td>\d{4}-\d{2}-\d{2} \d{2}:\d{2}<\/td>/) != nil)
            #expect(browser.lastPage.contains("<td>All</td>"))
            #expect(
                browser.lastPage.contains(#"data-confirm="Revoke this key? Calls made with it stop working at once.""#))
            let keyID = try #require(browser.listedKeyIDs.first)

            #expect(try await api.request(.get, "/v1/models", token: value).status == .ok)

            // Without the script's confirmation the form asks first, and nothing changes.
            let asked = try await browser.post(
                "/api-keys/\(keyID)/revoke", [("project_id", project), ("confirmed", "")])
            #expect(asked.status == .ok)
            #expect(browser.lastPage.contains("<h1>Revoke this key?</h1>"))
            #expect(!browserHasInlineScriptOrStyle(browser.lastPage))
            #expect(try await api.request(.get, "/v1/models", token: value).status == .ok)

            let revoked = try await browser.post(
                "/api-keys/\(keyID)/revoke", [("project_id", project), ("confirmed", "yes")])
            #expect(revoked.status == .seeOther)
            #expect(revoked.headers[.location] == "/api-keys")
            try await browser.follow(revoked)
            #expect(browser.lastPage.contains("Key revoked."))
            #expect(!browser.lastPage.contains(redacted))
            #expect(browser.listedKeyIDs.isEmpty)
            #expect(try await api.request(.get, "/v1/models", token: value).status == .unauthorized)
        }
    }

    @Test func rotatingShowsTheNewValueInItsOwnAnswerAndTheOldKeyStopsWhenItsGracePeriodEnds() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: { $0.gateway.upstream = .echo }) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUpVerified(outbox: outbox)
            try await browser.createKey([("owner", "you"), ("name", "ci"), ("permissions", "all")])
            let old = try #require(browser.shownKey)
            try await browser.get("/api-keys")
            let keyID = try #require(browser.listedKeyIDs.first)
            let project = try #require(browser.pageProject)

            // The table's Rotate button sends no grace period: the confirmation page asks for one.
            #expect(browser.lastPage.contains(#"formaction="/api-keys/\#(keyID)/rotate""#))
            try await browser.post("/api-keys/\(keyID)/rotate", [("project_id", project), ("confirmed", "yes")])
            #expect(browser.lastPage.contains("<h1>Rotate this key?</h1>"))
            #expect(browser.lastPage.contains(#"<option value="86400" selected>24 hours</option>"#))
            #expect(browser.shownKey == nil)
            try await browser.get("/api-keys")

            // Without the script's confirmation the form asks first, and rotates nothing.
            let asked = try await browser.post(
                "/api-keys/\(keyID)/rotate",
                [("project_id", project), ("grace_period_seconds", "3600"), ("confirmed", "")])
            #expect(asked.status == .ok)
            #expect(browser.lastPage.contains("<h1>Rotate this key?</h1>"))
            #expect(browser.lastPage.contains(#"<option value="3600" selected>1 hour</option>"#))
            #expect(browser.shownKey == nil)

            let rotated = try await browser.post(
                "/api-keys/\(keyID)/rotate",
                [("project_id", project), ("grace_period_seconds", "0"), ("confirmed", "yes")])
            #expect(rotated.status == .created)
            #expect(rotated.headers[.location] == nil)
            #expect(rotated.headers[.cacheControl] == "no-store")
            #expect(browser.lastPage.contains("<h1>Save your key</h1>"))
            #expect(browser.lastPage.contains("The key it replaces has stopped working."))
            let new = try #require(browser.shownKey)
            #expect(new != old)
            #expect(new.wholeMatch(of: /sk-proj-[A-Za-z0-9]{38}/) != nil)
            #expect(try await api.request(.get, "/v1/models", token: new).status == .ok)
            #expect(try await api.request(.get, "/v1/models", token: old).status == .unauthorized)

            try await browser.get("/api-keys")
            #expect(browser.lastPage.contains("sk-proj-..." + String(new.suffix(4))))
            #expect(!browser.lastPage.contains(new))
            let newID = try #require(browser.listedKeyIDs.first)
            #expect(browser.listedKeyIDs == [newID])

            // With a grace period the old key keeps working, and the list says until when.
            let graced = try await browser.post(
                "/api-keys/\(newID)/rotate",
                [("project_id", project), ("grace_period_seconds", "3600"), ("confirmed", "yes")])
            #expect(graced.status == .created)
            #expect(browser.lastPage.contains("The key it replaces keeps working until"))
            let newest = try #require(browser.shownKey)
            #expect(try await api.request(.get, "/v1/models", token: new).status == .ok)
            #expect(try await api.request(.get, "/v1/models", token: newest).status == .ok)
            try await browser.get("/api-keys")
            #expect(browser.listedKeyIDs.count == 2)
            #expect(browser.lastPage.contains(#"<p class="hint">Stops working "#))

            // A grace period the form does not offer is refused in words; nothing rotates.
            let odd = try await browser.post(
                "/api-keys/\(newID)/rotate",
                [("project_id", project), ("grace_period_seconds", "-5"), ("confirmed", "yes")])
            #expect(odd.status == .badRequest)
            #expect(browser.lastPage.contains("Choose how long the old key keeps working"))
            #expect(browser.listedKeyIDs.count == 2)
        }
    }

    @Test func aRestrictedKeyGetsTheScopesOfTheLevelsChosenAndNeedsAtLeastOne() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: { $0.gateway.upstream = .echo }) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUpVerified(outbox: outbox)
            let token = try #require(browser.cookieSessionToken)

            let none = try await browser.createKey([("owner", "you"), ("name", "files"), ("permissions", "restricted")])
            #expect(none.status == .badRequest)
            #expect(browser.lastPage.contains(#"id="scopes-error""#))
            #expect(browser.lastPage.contains(#"value="restricted" checked"#))
            #expect(browser.lastPage.contains(#"value="files""#))
            let project = try #require(browser.pageProject)
            #expect(try await api.projectKeyObjects(token, project: project).isEmpty)

            let made = try await browser.createKey(
                [("owner", "you"), ("name", "files"), ("permissions", "restricted"), ("scope_files", "read")])
            #expect(made.status == .created)
            let value = try #require(browser.shownKey)
            let keys = try await api.projectKeyObjects(token, project: project)
            #expect(keys.count == 1)
            #expect(keys.first?["permissions"] as? String == "restricted")
            #expect(keys.first?["scopes"] as? [String] == ["api.files.read"])
            // Listing models needs api.models.read, which this key lacks.
            #expect(try await api.request(.get, "/v1/models", token: value).status == .forbidden)

            try await browser.get("/api-keys")
            #expect(browser.lastPage.contains(#"Restricted<p class="hint">api.files.read</p>"#))

            let written = try await browser.createKey(
                [
                    ("owner", "you"), ("name", "calls"), ("permissions", "restricted"),
                    ("scope_model_request", "write"),
                    ("scope_batches", "write"),
                ])
            #expect(written.status == .created)
            let listed = try await api.projectKeyObjects(token, project: project)
            let scopes = listed.compactMap { $0["scopes"] as? [String] }
            #expect(scopes.contains(["api.batches.read", "api.batches.write", "model.request"]))
        }
    }

    @Test func aServiceAccountKeyNeedsANameHasAllPermissionsAndIsListedUnderTheAccount() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: { $0.gateway.upstream = .echo }) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUpVerified(outbox: outbox)

            let restricted = try await browser.createKey(
                [
                    ("owner", "service_account"), ("name", "deploy bot"), ("permissions", "restricted"),
                    ("scope_files", "read"),
                ])
            #expect(restricted.status == .badRequest)
            #expect(browser.lastPage.contains(#"id="permissions-error""#))
            #expect(browser.lastPage.contains("Choose All, or make the key owned by you."))
            #expect(browser.lastPage.contains(#"value="deploy bot""#))
            #expect(browser.lastPage.contains(#"value="service_account" checked"#))

            let unnamed = try await browser.createKey(
                [("owner", "service_account"), ("name", " "), ("permissions", "all")])
            #expect(unnamed.status == .badRequest)
            #expect(browser.lastPage.contains(#"<p class="field-error" id="name-error">Enter a name.</p>"#))
            #expect(browser.shownKey == nil)

            let made = try await browser.createKey(
                [("owner", "service_account"), ("name", "deploy bot"), ("permissions", "all")])
            #expect(made.status == .created)
            let value = try #require(browser.shownKey)
            #expect(value.hasPrefix("sk-svcacct-"))
            #expect(browser.lastPage.contains("Service account: deploy bot"))
            #expect(try await api.request(.get, "/v1/models", token: value).status == .ok)

            try await browser.get("/api-keys")
            #expect(browser.lastPage.contains(#"<td class="key-owner">Service account: deploy bot</td>"#))
            #expect(!browser.lastPage.contains(value))
        }
    }

    @Test func aProjectViewerSeesNoKeyControlsAndIsToldInWordsWhenPostingAnyway() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, services in
            let owner = try await api.signUp("ada@example.com")
            let ownerToken = try #require(owner.string("session_token"))
            let organization = try #require(owner.string("organization.id"))
            let project = try #require(owner.string("default_project.id"))
            try await api.verifyOrganizationPhone(ownerToken, outbox: outbox)

            let browser = TestBrowser(api)
            try await browser.signUp("grace@example.com")
            let me = try await api.request(.get, "/v1/me", token: browser.cookieSessionToken)
            try await services.addReader(try #require(me.string("id")), to: organization)
            try await services.addProjectMember(try #require(me.string("id")), to: project, role: "viewer")
            try await browser.get("/api-keys")
            try await browser.post("/switch", [("organization", organization)])
            try await browser.get("/api-keys")
            // A viewer sees the keys but no control to make or change one.
            #expect(!browser.lastPage.contains("Create new secret key"))
            try await browser.get("/api-keys/new")
            #expect(!browser.lastPage.contains(#"action="/api-keys""#))
            #expect(browser.lastPage.contains("lets you read their keys but not create them"))
            #expect(!browser.lastPage.contains(Self.phoneStep))

            let refused = try await browser.post(
                "/api-keys", [("owner", "you"), ("name", "mine"), ("project_id", project), ("permissions", "all")])
            #expect(refused.status == .forbidden)
            #expect(browser.lastPage.contains("Your role in this project does not allow that."))
            #expect(browser.shownKey == nil)
            #expect(try await api.projectKeyObjects(ownerToken, project: project).isEmpty)
        }
    }
}
