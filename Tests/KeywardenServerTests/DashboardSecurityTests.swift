import Foundation
import HTTPTypes
import KeywardenServer
import Testing

extension TestBrowser {
    /// Logs in from the log-in page; returns the answer.
    @discardableResult
    func logIn(
        _ email: String = "ada@example.com", password: String = "correct horse battery"
    ) async throws -> TestResponse {
        try await get("/login")
        return try await post("/login", [("email", email), ("password", password)])
    }

    /// The ids of the sessions the Security page offers to sign out, in table order.
    var revocableSessions: [String] {
        lastPage.matches(of: /action="\/settings\/security\/sessions\/(sessid_[A-Za-z0-9]+)\/revoke"/)
            .map { String($0.output.1) }
    }
}

@Suite("Dashboard: Settings → Security")
struct DashboardSecurityTests {
    static let page = "/settings/security"

    @Test func theSecurityPageHasItsSectionsLabelsAndNavEntry() async throws {
        try await withApp { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            let page = try await browser.get(Self.page)
            #expect(page.status == .ok)
            let html = browser.lastPage
            #expect(html.contains("<h1>Security</h1>"))
            #expect(html.contains(#"<a href="/settings/security" aria-current="page">Security</a>"#))
            for heading in ["Password", "Sessions", "Two-factor authentication"] {
                #expect(html.contains("<h2>\(heading)</h2>"), "\(heading)")
            }
            #expect(html.contains(#"<label for="current_password">Current password</label>"#))
            #expect(html.contains(#"<label for="new_password">New password</label>"#))
            #expect(html.contains(#"<label for="confirm_password">Confirm new password</label>"#))
            #expect(html.contains(#"<button type="submit">Change password</button>"#))
            #expect(html.contains(#"<form method="post" action="/settings/security/two-factor/setup">"#))
            #expect(html.contains(#"<button type="submit">Set up two-factor authentication</button>"#))
            for column in ["Device", "Address", "Signed in (UTC)", "Last active (UTC)"] {
                #expect(html.contains(#"<th scope="col">\#(column)</th>"#), "\(column)")
            }
            #expect(html.contains("This session"))
            // One session, this one: nothing to sign out.
            #expect(browser.revocableSessions.isEmpty)
            #expect(!html.contains("Sign out of all other sessions"))
            #expect(!browserHasInlineScriptOrStyle(html))
            let old = try await browser.get("/settings/account/security")
            #expect(old.status == .seeOther)
            #expect(old.headers[.location] == Self.page)
        }
    }

    @Test func changingThePasswordNeedsTheCurrentOneTwiceTheNewOneAndSignsOutTheOtherSessions() async throws {
        try await withApp(mailbox: TestMailbox()) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            let other = TestBrowser(api)
            try await other.logIn()
            try await browser.get(Self.page)
            let new = "a brand new passphrase"
            let wrong = try await browser.post(
                "/settings/security/password",
                [("current_password", "not it at all"), ("new_password", new), ("confirm_password", new)])
            #expect(wrong.status == .badRequest)
            #expect(browser.lastPage.contains(#"id="current_password-error""#))
            #expect(browser.lastPage.contains("That is not your current password."))
            let differ = try await browser.post(
                "/settings/security/password",
                [("current_password", "correct horse battery"), ("new_password", new), ("confirm_password", "x")])
            #expect(differ.status == .badRequest)
            #expect(browser.lastPage.contains(#"id="confirm_password-error""#))
            let weak = try await browser.post(
                "/settings/security/password",
                [
                    ("current_password", "correct horse battery"), ("new_password", "short"),
                    ("confirm_password", "short"),
                ])
            #expect(browser.lastPage.contains(#"id="new_password-error""#))
            #expect(weak.status == .badRequest)

            let changed = try await browser.post(
                "/settings/security/password",
                [("current_password", "correct horse battery"), ("new_password", new), ("confirm_password", new)])
            #expect(changed.headers[.location] == Self.page)
            try await browser.follow(changed)
            #expect(browser.lastPage.contains("Your password is changed. Your other sessions are signed out."))
            #expect(try await other.get("/api-keys").status == .seeOther)
            #expect(try await browser.get("/api-keys").status == .ok)
        }
    }

    @Test func eachOtherSessionCanBeSignedOutAndAllOfThemAtOnce() async throws {
        try await withApp { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            let phone = TestBrowser(api)
            try await phone.logIn()
            let laptop = TestBrowser(api)
            try await laptop.logIn()
            try await browser.get(Self.page)
            #expect(browser.revocableSessions.count == 2)
            #expect(browser.lastPage.contains("Sign out of all other sessions"))

            let first = try #require(browser.revocableSessions.first)
            let out = try await browser.post("/settings/security/sessions/\(first)/revoke")
            #expect(out.headers[.location] == Self.page)
            try await browser.follow(out)
            #expect(browser.lastPage.contains("That session is signed out."))
            #expect(browser.revocableSessions.count == 1)
            let stillIn = [try await phone.get("/api-keys").status, try await laptop.get("/api-keys").status]
            #expect(stillIn.sorted { $0.code < $1.code } == [.ok, .seeOther])

            let all = try await browser.post("/settings/security/sessions/revoke-others")
            try await browser.follow(all)
            #expect(browser.lastPage.contains("Signed out of 1 other session."))
            #expect(browser.revocableSessions.isEmpty)
            #expect(try await phone.get("/api-keys").status == .seeOther)
            #expect(try await laptop.get("/api-keys").status == .seeOther)
            #expect(try await browser.get("/api-keys").status == .ok)
        }
    }

    @Test func anotherPersonsSessionCannotBeSignedOutFromHere() async throws {
        try await withApp { api, _ in
            let grace = TestBrowser(api)
            try await grace.signUp("grace@example.com")
            let graceSession = try await api.request(
                .get, "/v1/me/sessions", token: grace.cookies["keywarden_session"])
            let id = try #require((graceSession.value("data") as? [[String: Any]])?.first?["id"] as? String)
            let browser = TestBrowser(api)
            try await browser.signUp()
            try await browser.get(Self.page)
            let refused = try await browser.post("/settings/security/sessions/\(id)/revoke")
            #expect(refused.status == .notFound)
            #expect(browser.lastPage.contains("That session has already ended."))
            #expect(try await grace.get("/api-keys").status == .ok)
        }
    }

    @Test func withACaptchaProviderTheSignUpAndPhonePagesCarryTheWidgetAndAPolicyThatLetsItLoad() async throws {
        let stub = siteVerifyStub()
        let outbox = TestOutbox()
        try await stub.run { base in
            let captcha = CaptchaSettings(
                provider: .turnstile, secret: "captcha-secret", siteKey: "the-site-key",
                verifyURL: base + "/siteverify")
            try await withApp(outbox: outbox, configure: { $0.accounts.captcha = captcha }) { api, services in
                let browser = TestBrowser(api)
                let signup = try await browser.get("/signup")
                try Self.expectWidget(signup, browser.lastPage)
                let fields = [("email", "ada@example.com"), ("password", "correct horse battery")]
                let refused = try await browser.post("/signup", fields)
                #expect(refused.status == .badRequest)
                #expect(browser.lastPage.contains("Complete the check that you are a person"))
                let signedUp = try await browser.post("/signup", fields + [("cf-turnstile-response", "pass")])
                #expect(signedUp.status == .seeOther)
                try await services.confirmEmail(of: "ada@example.com")

                let phone = try await browser.get("/settings/account/phone")
                try Self.expectWidget(phone, browser.lastPage)
                let unchecked = try await browser.post(
                    "/settings/account/phone", [("country", "US"), ("phone_number", Numbers.us)])
                #expect(unchecked.status == .badRequest)
                #expect(browser.lastPage.contains("Complete the check that you are a person"))
                #expect(outbox.sent.isEmpty)

                let login = try await TestBrowser(api).get("/login")
                let loginPolicy = try #require(login.headers[HTTPField.Name("Content-Security-Policy")!])
                #expect(!loginPolicy.contains("challenges.cloudflare.com"))
                #expect(!String(decoding: login.body, as: UTF8.self).contains("challenges.cloudflare.com"))
            }
        }
    }

    /// The Turnstile widget, its script, and a page policy that lets both load.
    static func expectWidget(_ response: TestResponse, _ html: String) throws {
        let policy = try #require(response.headers[HTTPField.Name("Content-Security-Policy")!])
        #expect(policy.hasPrefix("default-src 'self'; script-src 'self' https://challenges.cloudflare.com;"))
        #expect(policy.contains("frame-src https://challenges.cloudflare.com;"))
        #expect(policy.hasSuffix("frame-ancestors 'none'; form-action 'self'; base-uri 'none'"))
        #expect(html.contains(#"<div class="captcha cf-turnstile" data-sitekey="the-site-key"></div>"#))
        #expect(html.contains(#"<script src="https://challenges.cloudflare.com/turnstile/v0/api.js" async defer>"#))
        #expect(!browserHasInlineScriptOrStyle(html))
    }
}
