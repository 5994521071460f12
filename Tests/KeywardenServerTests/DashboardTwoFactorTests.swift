import Foundation
import HTTPTypes
import KeywardenCore
import Testing

/// What an authenticator app does with the setup key the page shows: the key is the base32 of
/// the secret's text, whose codes ``TOTPSecret`` computes.
enum TestAuthenticator {
    /// The code the app shows at `date` for `setupKey` (spaces allowed).
    static func code(setupKey: String, at date: Date) -> String {
        TOTPSecret.fromBase32(setupKey).code(atStep: TOTPSecret.step(at: date))
    }

    /// A six-digit code that is not the app's code at `date` or a step either side of it.
    static func wrongCode(setupKey: String, at date: Date) -> String {
        let near = [-30.0, 0, 30].map { code(setupKey: setupKey, at: date.addingTimeInterval($0)) }
        return ["000000", "111111", "222222", "333333"].first { !near.contains($0) } ?? "444444"
    }

    /// RFC 4648 base32 without padding, upper case; spaces and other characters are skipped.
    static func base32Decoded(_ text: String) -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var bytes: [UInt8] = []
        var buffer = 0
        var bits = 0
        for character in text.uppercased() {
            guard let value = alphabet.firstIndex(of: character) else { continue }
            buffer = (buffer << 5) | value
            bits += 5
            if bits >= 8 {
                bytes.append(UInt8((buffer >> (bits - 8)) & 0xFF))
                bits -= 8
            }
            buffer &= (1 << bits) - 1
        }
        return bytes
    }
}

extension TestBrowser {
    /// The setup key the last page shows.
    var shownSetupKey: String? {
        lastPage.firstMatch(of: /<code id="totp-setup-key">([A-Z2-7 ]+)<\/code>/).map { String($0.output.1) }
    }

    /// The recovery codes the last page lists.
    var shownRecoveryCodes: [String] {
        lastPage.matches(of: /<li><code>([a-z0-9-]+)<\/code><\/li>/).map { String($0.output.1) }
    }

    /// The fields "Confirm it's you" carries on the last page, but its form token.
    var carriedFields: [(String, String)] {
        lastPage.matches(of: /<input type="hidden" name="([^"]+)" value="([^"]*)">/).compactMap { match in
            let name = String(match.output.1)
            guard name != "csrf_token" else { return nil }
            let value = String(match.output.2).replacingOccurrences(of: "&quot;", with: "\"")
                .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&lt;", with: "<")
                .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
            return (name, value)
        }
    }

    /// Turns two-factor authentication on from the Security page at the time `clock` says;
    /// returns the setup key and the recovery codes shown.
    func turnOnTwoFactor(at clock: ManualClock) async throws -> (setupKey: String, recoveryCodes: [String]) {
        try await get(DashboardTwoFactorTests.security)
        let begun = try await post(DashboardTwoFactorTests.security + "/two-factor/setup")
        #expect(begun.headers[.location] == DashboardTwoFactorTests.setup)
        try await follow(begun)
        let setupKey = try #require(shownSetupKey)
        let code = TestAuthenticator.code(setupKey: setupKey, at: clock.clock.now())
        let turnedOn = try await post(DashboardTwoFactorTests.setup, [("code", code)])
        #expect(turnedOn.status == .ok)
        return (setupKey, shownRecoveryCodes)
    }
}

@Suite("Dashboard: two-factor authentication")
struct DashboardTwoFactorTests {
    static let security = "/settings/security"
    static let setup = "/settings/security/two-factor"
    static let secondStep = "/login/two-factor"

    @Test func settingUpShowsAQRCodeAndTheSetupKeyAndTheRightCodeTurnsItOnWithTenRecoveryCodes() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            try await browser.get(Self.security)
            #expect(browser.lastPage.contains(#"<p id="two-factor-status"><strong>Off</strong></p>"#))
            #expect(browser.lastPage.contains(#"<button type="submit">Set up two-factor authentication</button>"#))

            let begun = try await browser.post(Self.security + "/two-factor/setup")
            #expect(begun.status == .seeOther)
            #expect(begun.headers[.location] == Self.setup)
            let page = try await browser.follow(begun)
            #expect(page.status == .ok)
            let html = browser.lastPage
            #expect(html.contains(#"<div id="totp-qr" class="qr"><svg xmlns="http://www.w3.org/2000/svg""#))
            #expect(!html.contains("&lt;svg"))
            #expect(html.contains(#"<label for="code">Authentication code</label>"#))
            #expect(html.contains(#"<button type="submit">Turn on</button>"#))
            #expect(page.headers[HTTPField.Name("Content-Security-Policy")!]?.hasPrefix("default-src 'self'") == true)
            #expect(!browserHasInlineScriptOrStyle(html))
            let setupKey = try #require(browser.shownSetupKey)
            #expect(setupKey.filter { !$0.isWhitespace }.count == 52)

            let wrong = try await browser.post(
                Self.setup, [("code", TestAuthenticator.wrongCode(setupKey: setupKey, at: time.clock.now()))])
            #expect(wrong.status == .badRequest)
            #expect(
                browser.lastPage.contains(#"<p class="field-error" id="code-error">That code is not right."#))
            #expect(browser.shownSetupKey == setupKey)

            let code = TestAuthenticator.code(setupKey: setupKey, at: time.clock.now())
            let turnedOn = try await browser.post(Self.setup, [("code", code)])
            #expect(turnedOn.status == .ok)
            #expect(turnedOn.headers[.cacheControl] == "no-store")
            #expect(browser.lastPage.contains("<h1>Save your recovery codes</h1>"))
            #expect(browser.lastPage.contains(#"<ul id="recovery-codes" class="secret">"#))
            let codes = browser.shownRecoveryCodes
            #expect(codes.count == 10)
            #expect(Set(codes).count == 10)
            #expect(browser.lastPage.contains(#"<a class="button" href="/settings/security">Done</a>"#))

            try await browser.get(Self.security)
            #expect(browser.lastPage.contains("On since 2025-06-15 15:06 UTC"))
            #expect(browser.lastPage.contains("10 recovery codes left"))
            #expect(browser.lastPage.contains(#"<label for="disable_code">Authentication code</label>"#))
            #expect(browser.lastPage.contains(#"<button type="submit" class="danger">Turn off</button>"#))
            #expect(browser.lastPage.contains("Generate new recovery codes"))
            // The secret is shown no more.
            let again = try await browser.get(Self.setup)
            #expect(again.headers[.location] == Self.security)
        }
    }

    @Test func loggingInThenAsksForTheCodeAndTheRightCodeSignsIn() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, _ in
            let owner = TestBrowser(api)
            try await owner.signUp()
            let (setupKey, _) = try await owner.turnOnTwoFactor(at: time)

            let browser = TestBrowser(api)
            let password = try await browser.logIn()
            #expect(password.status == .seeOther)
            #expect(password.headers[.location] == Self.secondStep)
            #expect(browser.cookies["keywarden_session"] == nil)
            let cookie = try #require(
                password.headers[values: .setCookie].first { $0.hasPrefix("keywarden_sign_in_challenge=") })
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Strict"))
            #expect(cookie.contains("Max-Age=300"))

            let step = try await browser.follow(password)
            #expect(step.status == .ok)
            let html = browser.lastPage
            #expect(html.contains("<h1>Two-factor authentication</h1>"))
            #expect(html.contains(#"<label for="code">Authentication code</label>"#))
            #expect(html.contains(#"autocomplete="one-time-code""#))
            #expect(
                html.contains("Enter the 6-digit code from your authenticator app, or one of your recovery codes."))
            #expect(html.contains(#"<button type="submit">Verify</button>"#))
            #expect(!browserHasInlineScriptOrStyle(html))

            let wrong = try await browser.post(
                Self.secondStep, [("code", TestAuthenticator.wrongCode(setupKey: setupKey, at: time.clock.now()))])
            #expect(wrong.status == .badRequest)
            #expect(browser.lastPage.contains(#"id="code-error""#))
            #expect(browser.cookies["keywarden_session"] == nil)

            // The step whose code turned it on cannot be used again: the next one's code signs in.
            time.advance(by: 30)
            let code = TestAuthenticator.code(setupKey: setupKey, at: time.clock.now())
            let signedIn = try await browser.post(Self.secondStep, [("code", code)])
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.headers[.location] == "/api-keys")
            #expect(browser.cookies["keywarden_session"]?.hasPrefix("sess_") == true)
            #expect(browser.cookies["keywarden_sign_in_challenge"] == nil)
            #expect(try await browser.get("/api-keys").status == .ok)
        }
    }

    @Test func anExpiredOrMissingSignInChallengeSendsTheBrowserBackToLogIn() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, _ in
            let owner = TestBrowser(api)
            try await owner.signUp()
            let (setupKey, _) = try await owner.turnOnTwoFactor(at: time)

            let missing = try await TestBrowser(api).get(Self.secondStep)
            #expect(missing.headers[.location] == "/login")

            let browser = TestBrowser(api)
            try await browser.follow(try await browser.logIn())
            time.advance(by: 301)
            let code = TestAuthenticator.code(setupKey: setupKey, at: time.clock.now())
            let expired = try await browser.post(Self.secondStep, [("code", code)])
            #expect(expired.status == .seeOther)
            #expect(expired.headers[.location] == "/login")
            #expect(browser.cookies["keywarden_session"] == nil)
            #expect(browser.cookies["keywarden_sign_in_challenge"] == nil)
            try await browser.follow(expired)
            #expect(browser.lastPage.contains("Your sign-in expired. Log in again."))
        }
    }

    @Test func aRecoveryCodeSignsInOnceOnly() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, _ in
            let owner = TestBrowser(api)
            try await owner.signUp()
            let (_, codes) = try await owner.turnOnTwoFactor(at: time)
            let recovery = try #require(codes.first)

            let first = TestBrowser(api)
            try await first.follow(try await first.logIn())
            let signedIn = try await first.post(Self.secondStep, [("code", recovery)])
            #expect(signedIn.headers[.location] == "/api-keys")
            #expect(first.cookies["keywarden_session"] != nil)

            let second = TestBrowser(api)
            try await second.follow(try await second.logIn())
            let refused = try await second.post(Self.secondStep, [("code", recovery)])
            #expect(refused.status == .badRequest)
            #expect(second.lastPage.contains(#"<p class="field-error" id="code-error">That code is not right."#))
            #expect(second.cookies["keywarden_session"] == nil)

            try await owner.get(Self.security)
            #expect(owner.lastPage.contains("9 recovery codes left"))
        }
    }

    @Test func aStaleSessionCreatingAKeyIsAskedToConfirmAndAfterThePasswordTheKeyIsCreated() async throws {
        let outbox = TestOutbox()
        let time = ManualClock()
        try await withApp(clock: time.clock, outbox: outbox) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUpVerified(outbox: outbox)
            time.advance(by: 11 * 60)
            let asked = try await browser.createKey([("owner", "you"), ("name", "ci"), ("permissions", "all")])
            #expect(asked.status == .forbidden)
            let html = browser.lastPage
            #expect(html.contains("<h1>Confirm it's you</h1>"))
            #expect(html.contains("For your security, enter your password to continue."))
            #expect(html.contains(#"<form method="post" action="/api-keys">"#))
            #expect(html.contains(#"<label for="reauth_password">Password</label>"#))
            #expect(!html.contains(#"<label for="reauth_code">"#))
            #expect(html.contains(#"<button type="submit">Confirm</button>"#))
            #expect(html.contains(#"<input type="hidden" name="name" value="ci">"#))
            #expect(browser.shownKey == nil)
            let token = try #require(browser.cookieSessionToken)
            let project = try #require(browser.carriedFields.first { $0.0 == "project_id" }?.1)
            #expect(try await api.projectKeyObjects(token, project: project).isEmpty)

            let carried = browser.carriedFields
            let wrong = try await browser.post("/api-keys", carried + [("reauth_password", "not my password")])
            #expect(wrong.status == .badRequest)
            #expect(browser.lastPage.contains(#"<p class="field-error" id="reauth_password-error">"#))
            #expect(browser.lastPage.contains("That password is not right."))
            #expect(try await api.projectKeyObjects(token, project: project).isEmpty)

            let confirmed = try await browser.post(
                "/api-keys", browser.carriedFields + [("reauth_password", "correct horse battery")])
            #expect(confirmed.status == .created)
            #expect(browser.lastPage.contains("<h1>Save your key</h1>"))
            #expect(browser.shownKey != nil)
            #expect(try await api.projectKeyObjects(token, project: project).count == 1)

            // Confirmed just now: the next key is made without asking.
            let next = try await browser.createKey([("owner", "you"), ("name", "cd"), ("permissions", "all")])
            #expect(next.status == .created)
        }
    }

    @Test func withTwoFactorOnACodeConfirmsInsteadOfThePasswordAndNewRecoveryCodesReplaceTheOld() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            let (setupKey, oldCodes) = try await browser.turnOnTwoFactor(at: time)
            time.advance(by: 11 * 60)
            try await browser.get(Self.security)
            let asked = try await browser.post(Self.security + "/two-factor/recovery-codes")
            #expect(asked.status == .forbidden)
            #expect(browser.lastPage.contains("<h1>Confirm it's you</h1>"))
            #expect(browser.lastPage.contains(#"<label for="reauth_code">Authentication code</label>"#))

            let code = TestAuthenticator.code(setupKey: setupKey, at: time.clock.now())
            let confirmed = try await browser.post(
                Self.security + "/two-factor/recovery-codes", browser.carriedFields + [("reauth_code", code)])
            #expect(confirmed.status == .ok)
            #expect(browser.lastPage.contains("<h1>Save your recovery codes</h1>"))
            let newCodes = browser.shownRecoveryCodes
            #expect(newCodes.count == 10)
            #expect(Set(newCodes).isDisjoint(with: oldCodes))

            let other = TestBrowser(api)
            try await other.follow(try await other.logIn())
            let old = try await other.post(Self.secondStep, [("code", try #require(oldCodes.first))])
            #expect(old.status == .badRequest)
        }
    }

    @Test func turningItOffNeedsACodeAndThenThePasswordAloneSignsIn() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            let (setupKey, _) = try await browser.turnOnTwoFactor(at: time)
            try await browser.get(Self.security)
            let wrong = try await browser.post(
                Self.security + "/two-factor/disable",
                [("code", TestAuthenticator.wrongCode(setupKey: setupKey, at: time.clock.now()))])
            #expect(wrong.status == .badRequest)
            #expect(browser.lastPage.contains(#"<p class="field-error" id="disable_code-error">"#))

            time.advance(by: 30)
            let code = TestAuthenticator.code(setupKey: setupKey, at: time.clock.now())
            let off = try await browser.post(Self.security + "/two-factor/disable", [("code", code)])
            #expect(off.headers[.location] == Self.security)
            try await browser.follow(off)
            #expect(browser.lastPage.contains("Two-factor authentication is off."))
            #expect(browser.lastPage.contains(#"<p id="two-factor-status"><strong>Off</strong></p>"#))

            let other = TestBrowser(api)
            let signedIn = try await other.logIn()
            #expect(signedIn.headers[.location] != Self.secondStep)
            #expect(other.cookies["keywarden_session"] != nil)
        }
    }

    @Test func aStaleSessionOpeningThePendingSetupIsSentBackToTheSecurityPage() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            try await browser.get(Self.security)
            try await browser.post(Self.security + "/two-factor/setup")
            time.advance(by: 11 * 60)
            let refused = try await browser.get(Self.setup)
            #expect(refused.status == .seeOther)
            #expect(refused.headers[.location] == Self.security)
            try await browser.follow(refused)
            #expect(browser.lastPage.contains("For your security, that needs a recent sign-in."))
            #expect(browser.shownSetupKey == nil)
        }
    }
}
