import Foundation
import HTTPTypes
import KeywardenServer
import Testing

@Suite("Dashboard: editing, disabling and enabling keys, expiry and allowed addresses")
struct DashboardKeyControlsTests {
    static let formRefusal = "This form has expired or did not come from this page"

    /// A verified organization's browser with one key named `ci`: the key's value, id and project.
    func keyed(
        _ browser: TestBrowser, outbox: TestOutbox
    ) async throws -> (value: String, id: String, project: String) {
        try await browser.signUpVerified(outbox: outbox)
        try await browser.createKey([("owner", "you"), ("name", "ci"), ("permissions", "all")])
        let value = try #require(browser.shownKey)
        try await browser.get("/api-keys")
        return (value, try #require(browser.listedKeyIDs.first), try #require(browser.pageProject))
    }

    @Test func theEditFormChangesAKeyAtOnceAndKeepsWhatWasTypedWhenRefused() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: { $0.gateway.upstream = .echo }) { api, _ in
            let browser = TestBrowser(api)
            let (value, id, project) = try await keyed(browser, outbox: outbox)
            #expect(browser.lastPage.contains(#"<a class="button secondary" href="/api-keys/\#(id)/edit">Edit</a>"#))
            #expect(browser.lastPage.contains("<td>Active</td>"))

            try await browser.get("/api-keys/\(id)/edit")
            #expect(browser.lastPage.contains("<h1>Edit secret key</h1>"))
            #expect(browser.lastPage.contains(#"value="ci""#))
            #expect(browser.lastPage.contains(#"value="all" checked"#))
            #expect(browser.lastPage.contains(#"<label for="allowed_ips">Allowed IP addresses</label>"#))
            #expect(!browser.lastPage.contains(#"<label for="expires_in_seconds">"#))
            #expect(!browserHasInlineScriptOrStyle(browser.lastPage))

            let refused = try await browser.post(
                "/api-keys/\(id)/edit",
                [
                    ("project_id", project), ("name", "calls only"), ("permissions", "restricted"),
                    ("scope_model_request", "write"), ("allowed_ips", "10.0.0.0/8\n300.1.1.1"),
                ])
            #expect(refused.status == .badRequest)
            #expect(browser.lastPage.contains(#"id="allowed_ips-error""#))
            #expect(browser.lastPage.contains("300.1.1.1&#39; is not an IP address or CIDR range"))
            #expect(browser.lastPage.contains(#"value="calls only""#))
            #expect(browser.lastPage.contains(#"value="restricted" checked"#))
            #expect(
                browser.lastPage.contains(
                    #"id="scope-model-request-write" name="scope_model_request" value="write" checked"#))
            #expect(browser.lastPage.contains(">10.0.0.0/8\n300.1.1.1</textarea>"))
            #expect(try await api.request(.get, "/v1/models", token: value).status == .ok)

            let none = try await browser.post(
                "/api-keys/\(id)/edit", [("project_id", project), ("name", "x"), ("permissions", "restricted")])
            #expect(none.status == .badRequest)
            #expect(browser.lastPage.contains(#"id="scopes-error""#))

            let saved = try await browser.post(
                "/api-keys/\(id)/edit",
                [
                    ("project_id", project), ("name", "calls only"), ("permissions", "restricted"),
                    ("scope_model_request", "write"), ("allowed_ips", ""),
                ])
            #expect(saved.status == .seeOther)
            #expect(saved.headers[.location] == "/api-keys")
            try await browser.follow(saved)
            #expect(browser.lastPage.contains("Key updated."))
            #expect(browser.lastPage.contains("<td>calls only"))
            #expect(browser.lastPage.contains(#"Restricted<p class="hint">model.request</p>"#))
            // The gateway holds the key to its new permissions from the next call.
            #expect(try await api.request(.get, "/v1/models", token: value).status == .forbidden)

            try await browser.get("/api-keys/\(id)/edit")
            try await browser.post(
                "/api-keys/\(id)/edit",
                [
                    ("project_id", project), ("name", "calls only"), ("permissions", "restricted"),
                    ("scope_model_request", "write"), ("allowed_ips", "203.0.113.0/24, 2001:DB8::/32"),
                ])
            let token = try #require(browser.cookieSessionToken)
            let key = try #require(try await api.projectKeyObjects(token, project: project).first)
            #expect(key["allowed_ips"] as? [String] == ["203.0.113.0/24", "2001:db8::/32"])
            try await browser.get("/api-keys")
            #expect(browser.lastPage.contains("Only from 203.0.113.0/24, 2001:db8::/32"))
            try await browser.get("/api-keys/\(id)/edit")
            #expect(browser.lastPage.contains(">203.0.113.0/24\n2001:db8::/32</textarea>"))
        }
    }

    @Test func disableAndEnableButtonsStopAndStartTheKey() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: { $0.gateway.upstream = .echo }) { api, _ in
            let browser = TestBrowser(api)
            let (value, id, project) = try await keyed(browser, outbox: outbox)
            #expect(browser.lastPage.contains(#"<form method="post" action="/api-keys/\#(id)/disable">"#))
            #expect(!browser.lastPage.contains(#"action="/api-keys/\#(id)/enable""#))

            let disabled = try await browser.post("/api-keys/\(id)/disable", [("project_id", project)])
            #expect(disabled.status == .seeOther)
            try await browser.follow(disabled)
            #expect(browser.lastPage.contains("Key disabled."))
            #expect(browser.lastPage.contains(#"<span class="status status-declined">Disabled</span>"#))
            #expect(browser.lastPage.contains(#"<form method="post" action="/api-keys/\#(id)/enable">"#))
            #expect(browser.listedKeyIDs == [id])
            #expect(try await api.request(.get, "/v1/models", token: value).status == .unauthorized)

            // Rotating a disabled key is refused in words.
            let rotated = try await browser.post(
                "/api-keys/\(id)/rotate",
                [("project_id", project), ("grace_period_seconds", "0"), ("confirmed", "yes")])
            #expect(rotated.status == .conflict)
            #expect(browser.lastPage.contains("This key is disabled. Enable it first, then rotate it."))

            let enabled = try await browser.post("/api-keys/\(id)/enable", [("project_id", project)])
            #expect(enabled.status == .seeOther)
            try await browser.follow(enabled)
            #expect(browser.lastPage.contains("Key enabled."))
            #expect(!browser.lastPage.contains("status-declined"))
            #expect(try await api.request(.get, "/v1/models", token: value).status == .ok)
        }
    }

    @Test func theKeyControlsRefuseAFormWithoutItsTokenOrFromAnotherSite() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: { $0.gateway.upstream = .echo }) { api, _ in
            let browser = TestBrowser(api)
            let (value, id, project) = try await keyed(browser, outbox: outbox)
            let posts: [(String, [(String, String)])] = [
                ("/api-keys/\(id)/disable", [("project_id", project)]),
                ("/api-keys/\(id)/enable", [("project_id", project)]),
                ("/api-keys/\(id)/edit", [("project_id", project), ("name", "x"), ("permissions", "read_only")]),
            ]
            for (path, fields) in posts {
                try await browser.get("/api-keys")
                let noToken = try await browser.post(path, fields, token: .some(nil))
                #expect(noToken.status == .forbidden, "\(path)")
                #expect(browser.lastPage.contains(Self.formRefusal), "\(path)")
                try await browser.get("/api-keys")
                let wrongToken = try await browser.post(path, fields, token: .some(String(repeating: "0", count: 64)))
                #expect(wrongToken.status == .forbidden, "\(path)")
                try await browser.get("/api-keys")
                let foreign = try await browser.post(path, fields, origin: "http://evil.example")
                #expect(foreign.status == .forbidden, "\(path)")
            }
            let token = try #require(browser.cookieSessionToken)
            let key = try #require(try await api.projectKeyObjects(token, project: project).first)
            #expect(key["name"] as? String == "ci")
            #expect(key["disabled_at"] is NSNull)
            #expect(try await api.request(.get, "/v1/models", token: value).status == .ok)
        }
    }

    @Test func theCreateFormSetsAnExpiryAndAllowedAddressesAndKeepsThemWhenRefused() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: { $0.gateway.upstream = .echo }) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUpVerified(outbox: outbox)
            try await browser.get("/api-keys/new")
            #expect(browser.lastPage.contains(#"<label for="expires_in_seconds">Expires</label>"#))
            #expect(browser.lastPage.contains(#"<option value="never" selected>Never</option>"#))
            for label in ["1 day", "7 days", "30 days", "90 days", "1 year"] {
                #expect(browser.lastPage.contains(">\(label)</option>"), "\(label)")
            }
            #expect(browser.lastPage.contains(#"<label for="allowed_ips">Allowed IP addresses</label>"#))

            let unknown = try await browser.createKey(
                [
                    ("owner", "you"), ("name", "odd"), ("permissions", "all"), ("expires_in_seconds", "12345"),
                    ("allowed_ips", "203.0.113.0/24"),
                ])
            #expect(unknown.status == .badRequest)
            #expect(browser.lastPage.contains(#"id="expires_in_seconds-error""#))
            #expect(browser.lastPage.contains("Choose when the key stops working"))
            #expect(browser.lastPage.contains(">203.0.113.0/24</textarea>"))

            let badRanges = try await browser.createKey(
                [
                    ("owner", "you"), ("name", "odd"), ("permissions", "all"), ("expires_in_seconds", "604800"),
                    ("allowed_ips", "1.2.3.4/33"),
                ])
            #expect(badRanges.status == .badRequest)
            #expect(browser.lastPage.contains(#"id="allowed_ips-error""#))
            #expect(browser.lastPage.contains(#"<option value="604800" selected>7 days</option>"#))
            #expect(browser.shownKey == nil)

            let made = try await browser.createKey(
                [
                    ("owner", "you"), ("name", "week"), ("permissions", "all"), ("expires_in_seconds", "604800"),
                    ("allowed_ips", "203.0.113.0/24\r\n2001:db8::/32\r\n"),
                ])
            #expect(made.status == .created)
            let token = try #require(browser.cookieSessionToken)
            let project = try await api.defaultProject(token)
            let keys = try await api.projectKeyObjects(token, project: project)
            #expect(keys.count == 1)
            let key = try #require(keys.first)
            let created = try #require(key["created_at"] as? Int)
            #expect(key["expires_at"] as? Int == created + 604_800)
            #expect(key["allowed_ips"] as? [String] == ["203.0.113.0/24", "2001:db8::/32"])
            try await browser.get("/api-keys")
            #expect(browser.lastPage.contains("Stops working"))
            #expect(browser.lastPage.contains("Only from 203.0.113.0/24, 2001:db8::/32"))

            let service = try await browser.createKey(
                [
                    ("owner", "service_account"), ("name", "bot"), ("permissions", "all"),
                    ("expires_in_seconds", "86400"),
                ])
            #expect(service.status == .created)
            let account = try #require(
                try await api.projectKeyObjects(token, project: project).first { $0["name"] as? String == "bot" })
            #expect(account["expires_at"] as? Int == (account["created_at"] as? Int).map { $0 + 86_400 })
        }
    }
}
