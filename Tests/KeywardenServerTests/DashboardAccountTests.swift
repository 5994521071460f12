import Foundation
import HTTPTypes
import Testing

@Suite("Dashboard: sign up, log in, log out")
struct DashboardAccountTests {
    @Test func signingUpSetsAnHttpOnlyLaxSessionCookieAndLandsOnAPIKeys() async throws {
        try await withApp { api, _ in
            let browser = TestBrowser(api)
            let form = try await browser.get("/signup")
            #expect(form.status == .ok)
            #expect(browser.lastPage.contains(#"<label for="email">Email address</label>"#))
            let signedUp = try await browser.signUp()
            #expect(signedUp.status == .seeOther)
            #expect(signedUp.headers[.location] == "/api-keys")
            let cookie = try #require(signedUp.headers[values: .setCookie].first { $0.hasPrefix("keywarden_session=") })
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Lax"))
            #expect(cookie.contains("Path=/"))
            #expect(!cookie.contains("Secure"))
            #expect(browser.cookies["keywarden_session"]?.hasPrefix("sess_") == true)
            // The same session answers the JSON API.
            let me = try await api.request(.get, "/v1/me", token: browser.cookies["keywarden_session"])
            #expect(me.string("email") == "ada@example.com")
        }
    }

    @Test func everyPageCarriesThePageHeaders() async throws {
        try await withApp { api, _ in
            let page = try await TestBrowser(api).get("/login")
            #expect(page.headers[HTTPField.Name("Content-Security-Policy")!]?.hasPrefix("default-src 'self'") == true)
            #expect(page.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "same-origin")
            #expect(page.headers[.cacheControl] == "no-store")
            #expect(!browserHasInlineScriptOrStyle(String(decoding: page.body, as: UTF8.self)))
        }
    }

    @Test func aFormWithoutItsTokenOrFromAnotherSiteIsRefusedAndDoesNothing() async throws {
        try await withApp { api, _ in
            let browser = TestBrowser(api)
            try await browser.get("/signup")
            let fields = [("email", "ada@example.com"), ("password", "correct horse battery")]
            let noToken = try await browser.post("/signup", fields, token: .some(nil))
            #expect(noToken.status == .forbidden)
            let wrongToken = try await browser.post("/signup", fields, token: "00")
            #expect(wrongToken.status == .forbidden)
            let foreign = try await browser.post("/signup", fields, origin: "http://evil.example")
            #expect(foreign.status == .forbidden)
            let noOrigin = try await browser.post("/signup", fields, origin: nil)
            #expect(noOrigin.status == .forbidden)
            #expect(browser.cookies["keywarden_session"] == nil)
            // Nothing was created: the address is still free.
            #expect(try await api.signUp().status == .created)
        }
    }

    @Test func refusalsAreShownNextToTheirFieldWithWhatWasTyped() async throws {
        try await withApp { api, _ in
            let browser = TestBrowser(api)
            try await browser.get("/signup")
            let weak = try await browser.post("/signup", [("email", "ada@example.com"), ("password", "short")])
            #expect(weak.status == .badRequest)
            #expect(browser.lastPage.contains(#"id="password-error""#))
            #expect(browser.lastPage.contains(#"value="ada@example.com""#))
            try await browser.signUp()
            let other = TestBrowser(api)
            try await other.signUp()
            #expect(other.lastPage.contains(#"id="email-error""#))
            #expect(other.lastPage.contains("Log in instead"))
        }
    }

    @Test func signedOutPagesGoToLogInAndBackToWhereTheyWereAsked() async throws {
        try await withApp { api, _ in
            try await api.signUp()
            let browser = TestBrowser(api)
            let away = try await browser.get("/usage?days=7")
            #expect(away.status == .seeOther)
            #expect(away.headers[.location] == "/login?next=%2Fusage%3Fdays%3D7")
            try await browser.follow(away)
            #expect(browser.lastPage.contains(#"name="next" value="/usage?days=7""#))
            let wrong = try await browser.post(
                "/login", [("email", "ada@example.com"), ("password", "wrong password"), ("next", "/usage?days=7")])
            #expect(wrong.status == .unauthorized)
            #expect(browser.lastPage.contains("do not match an account"))
            let back = try await browser.post(
                "/login",
                [("email", "ada@example.com"), ("password", "correct horse battery"), ("next", "/usage?days=7")])
            #expect(back.headers[.location] == "/usage?days=7")
            for outside in ["https://evil.example/", "//evil.example/", "/\\evil.example"] {
                let fresh = TestBrowser(api)
                try await fresh.get("/login")
                let sent = try await fresh.post(
                    "/login", [("email", "ada@example.com"), ("password", "correct horse battery"), ("next", outside)])
                #expect(sent.headers[.location] == "/", "next=\(outside)")
            }
        }
    }

    @Test func loggingOutEndsTheSessionEverywhere() async throws {
        try await withApp { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            let token = try #require(browser.cookies["keywarden_session"])
            try await browser.get("/usage")
            let out = try await browser.post("/logout")
            #expect(out.status == .seeOther)
            #expect(out.headers[.location] == "/login")
            #expect(browser.cookies["keywarden_session"] == nil)
            #expect(try await api.request(.get, "/v1/me", token: token).status == .unauthorized)
        }
    }

    @Test func unknownPagesAre404PagesWhileTheAPIKeepsItsJSON() async throws {
        try await withApp { api, _ in
            let page = try await api.request(.get, "/no-such-page")
            #expect(page.status == .notFound)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(String(decoding: page.body, as: UTF8.self).contains("Page not found"))
            let json = try await api.request(.get, "/v1/no-such-thing")
            #expect(json.status == .notFound)
            #expect(json.string("error.code") == "unknown_url")
        }
    }
}

/// Whether a page holds a `<script>` without `src`, a `<style>` element or a `style=` attribute.
func browserHasInlineScriptOrStyle(_ html: String) -> Bool {
    html.contains("<style") || html.contains(" style=") || html.contains("<script>")
        || html.firstMatch(of: /<script(?![^>]*\ssrc=)[^>]*>/) != nil
}

@Suite("Dashboard: the header's switchers")
struct DashboardSwitcherTests {
    @Test func theProjectChosenInTheHeaderIsKeptForTheNextPagesAndOnlyAProjectOfTheOrganizationCounts()
        async throws
    {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUpVerified(outbox: outbox)
            let token = try #require(browser.cookieSessionToken)
            let created = try await api.request(
                .post, "/v1/organization/projects", token: token, json: #"{"name":"Second project"}"#)
            let second = try #require(created.string("id"))
            try await browser.get("/api-keys")
            #expect(browser.lastPage.contains(#"<label for="switch-project">Project</label>"#))
            #expect(browser.lastPage.contains(#"<option value="\#(second)">Second project</option>"#))

            let switched = try await browser.post("/switch", [("project", second)])
            #expect(switched.status == .seeOther)
            try await browser.get("/api-keys")
            #expect(browser.lastPage.contains(#"<option value="\#(second)" selected>Second project</option>"#))
            try await browser.createKey([("name", "in the second project")])
            let keys = try await api.projectKeyObjects(token, project: second)
            #expect(keys.map { $0["name"] as? String } == ["in the second project"])
            try await browser.get("/api-keys")
            #expect(browser.lastPage.contains("<td>in the second project"))

            // Another organization's id is not a choice: the organization stays as it was.
            try await browser.get("/api-keys")
            try await browser.post("/switch", [("organization", "org_NotYours0000000000000")])
            #expect(browser.cookies["keywarden_organization"] == nil)
        }
    }
}

@Suite("Dashboard: escaping")
struct DashboardEscapingTests {
    @Test func aQuoteWithACombiningMarkIsEscapedLikeAnyQuote() async throws {
        try await withApp { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            let token = try #require(browser.cookieSessionToken)
            let name = "x\"\u{301} autofocus onfocus=alert(1) <b>"
            let json = String(decoding: try JSONEncoder().encode(["name": name]), as: UTF8.self)
            let created = try await api.request(.post, "/v1/organization/projects", token: token, json: json)
            #expect(created.status == .created)
            try await browser.get("/settings/organization/projects")
            let page = browser.lastPage
            let escaped = "x&quot;\u{301} autofocus onfocus=alert(1) &lt;b&gt;"
            let raw = "x\"\u{301}"
            #expect(page.contains(escaped))
            #expect(!page.contains(raw))
            #expect(!page.contains("<b>"))
        }
    }

    @Test func aNextPathWithQuotesOrAnglesIsReplacedByTheRoot() async throws {
        try await withApp { api, _ in
            let browser = TestBrowser(api)
            try await browser.get("/login?next=%2F%22%CC%81%20autofocus")
            #expect(browser.lastPage.contains(#"name="next" value="/""#))
        }
    }
}
