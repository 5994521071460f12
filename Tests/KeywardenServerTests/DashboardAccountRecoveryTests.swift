import Foundation
import HTTPTypes
import Testing

@Suite("Dashboard: confirming the email address, forgot and reset password")
struct DashboardAccountRecoveryTests {
    static let banner = "Confirm your email address: we sent a link to ada@example.com."

    @Test func theBannerShowsUntilTheLinkIsOpenedAndItsButtonPressed() async throws {
        let mailbox = TestMailbox()
        try await withApp(mailbox: mailbox) { api, _ in
            let browser = TestBrowser(api)
            try await browser.follow(try await browser.signUp(confirmed: false))
            #expect(browser.lastPage.contains(Self.banner))
            #expect(browser.lastPage.contains(#"<button type="submit" class="secondary">Send the link again</button>"#))
            let token = try #require(mailbox.token(to: "ada@example.com", path: "/confirm-email"))

            // Opening the link only shows the button: a mail scanner that fetches it confirms nothing.
            let opened = try await browser.get("/confirm-email?token=\(token)")
            #expect(opened.status == .ok)
            #expect(browser.lastPage.contains("<h1>Confirm email address</h1>"))
            #expect(browser.lastPage.contains(#"<button type="submit">Confirm email address</button>"#))
            #expect(browser.lastPage.contains(#"name="token" value="\#(token)""#))
            #expect(!browserHasInlineScriptOrStyle(browser.lastPage))
            let me = try await api.request(.get, "/v1/me", token: browser.cookies["keywarden_session"])
            #expect(me.value("email_confirmed") as? Bool == false)

            let confirmed = try await browser.post("/confirm-email", [("token", token)])
            #expect(confirmed.status == .seeOther)
            #expect(confirmed.headers[.location] == "/api-keys")
            try await browser.follow(confirmed)
            #expect(browser.lastPage.contains("Your email address is confirmed."))
            #expect(!browser.lastPage.contains(Self.banner))
        }
    }

    @Test func aLinkOpenedSignedOutConfirmsAndAsksToLogIn() async throws {
        let mailbox = TestMailbox()
        try await withApp(mailbox: mailbox) { api, _ in
            try await api.signUp(confirmed: false)
            let token = try #require(mailbox.token(to: "ada@example.com", path: "/confirm-email"))
            let elsewhere = TestBrowser(api)
            try await elsewhere.get("/confirm-email?token=\(token)")
            let confirmed = try await elsewhere.post("/confirm-email", [("token", token)])
            #expect(confirmed.headers[.location] == "/login")
            try await elsewhere.follow(confirmed)
            #expect(elsewhere.lastPage.contains("Your email address is confirmed. Log in to go on."))

            try await elsewhere.get("/confirm-email?token=\(token)")
            let again = try await elsewhere.post("/confirm-email", [("token", token)])
            #expect(again.status == .badRequest)
            #expect(elsewhere.lastPage.contains("This link has expired, has been used already"))
            #expect(!elsewhere.lastPage.contains(#"name="token""#))
            let bare = try await elsewhere.get("/confirm-email")
            #expect(bare.status == .ok)
            #expect(elsewhere.lastPage.contains("This page needs the link from your email."))
        }
    }

    @Test func sendTheLinkAgainGoesBackToThePageSayingWhatHappened() async throws {
        let mailbox = TestMailbox()
        try await withApp(clock: windowAlignedClock(), mailbox: mailbox) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp(confirmed: false)
            try await browser.get("/usage")
            let sent = try await browser.post("/confirm-email/resend")
            #expect(sent.status == .seeOther)
            try await browser.follow(sent)
            #expect(browser.lastPage.contains("We sent a new link to ada@example.com. It works for 24 hours."))
            #expect(mailbox.sent(to: "ada@example.com").count == 2)
            let again = try await browser.post("/confirm-email/resend")
            try await browser.follow(again)
            #expect(browser.lastPage.contains("An email was sent moments ago. You can ask for another in"))
            #expect(mailbox.sent(to: "ada@example.com").count == 2)
        }
    }

    @Test func forgotPasswordAnswersAlikeAndTheResetLinkSetsANewPasswordAndSignsOutEverywhere() async throws {
        let mailbox = TestMailbox()
        try await withApp(mailbox: mailbox) { api, _ in
            let signedIn = TestBrowser(api)
            try await signedIn.signUp()
            let browser = TestBrowser(api)
            try await browser.get("/login")
            #expect(browser.lastPage.contains(#"<a href="/forgot-password">Forgot your password?</a>"#))
            try await browser.get("/forgot-password")
            #expect(browser.lastPage.contains("<h1>Forgot your password?</h1>"))
            #expect(browser.lastPage.contains(#"<label for="email">Email address</label>"#))
            var flashes: [String] = []
            for email in ["nobody@example.com", "ada@example.com"] {
                let sent = try await browser.post("/forgot-password", [("email", email)])
                #expect(sent.headers[.location] == "/forgot-password")
                try await browser.follow(sent)
                let flash = browser.lastPage.firstMatch(of: /<p class="flash" role="status">([^<]*)<\/p>/)
                let text = try #require(flash.map { String($0.output.1) })
                flashes.append(text.replacingOccurrences(of: email, with: "X"))
            }
            #expect(flashes[0] == flashes[1])
            #expect(mailbox.sent(to: "nobody@example.com").isEmpty)
            let token = try #require(mailbox.token(to: "ada@example.com", path: "/reset-password"))

            try await browser.get("/reset-password?token=\(token)")
            #expect(browser.lastPage.contains(#"<label for="password">New password</label>"#))
            #expect(browser.lastPage.contains(#"<label for="confirm_password">Confirm new password</label>"#))
            let differ = try await browser.post(
                "/reset-password",
                [("token", token), ("password", "a brand new passphrase"), ("confirm_password", "another one")])
            #expect(differ.status == .badRequest)
            #expect(browser.lastPage.contains(#"id="confirm_password-error""#))
            let weak = try await browser.post(
                "/reset-password", [("token", token), ("password", "short"), ("confirm_password", "short")])
            #expect(weak.status == .badRequest)
            #expect(browser.lastPage.contains(#"id="password-error""#))
            #expect(browser.lastPage.contains(#"name="token" value="\#(token)""#))
            let new = "a brand new passphrase"
            let reset = try await browser.post(
                "/reset-password", [("token", token), ("password", new), ("confirm_password", new)])
            #expect(reset.headers[.location] == "/login")
            try await browser.follow(reset)
            #expect(browser.lastPage.contains("Your password is changed. Sign in."))

            let away = try await signedIn.get("/api-keys")
            #expect(away.status == .seeOther)
            #expect(away.headers[.location]?.hasPrefix("/login") == true)
            let back = try await browser.post(
                "/login", [("email", "ada@example.com"), ("password", "a brand new passphrase")])
            #expect(back.headers[.location] == "/")
        }
    }

    @Test func tokenPagesSendTheSameReferrerPolicyAsEveryPageAndLoadNothingFromElsewhere() async throws {
        try await withApp { api, _ in
            let browser = TestBrowser(api)
            for path in ["/confirm-email?token=abc", "/reset-password?token=abc", "/forgot-password"] {
                let page = try await browser.get(path)
                #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "same-origin", "\(path)")
                let policy = page.headers[HTTPField.Name("Content-Security-Policy")!]
                #expect(policy == "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
                #expect(page.headers[.cacheControl] == "no-store", "\(path)")
            }
        }
    }
}
