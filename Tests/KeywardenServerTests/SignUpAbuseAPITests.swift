import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenProviders
import KeywardenServer
import KeywardenStorage
import SQLKit
import Testing

/// A CAPTCHA provider's siteverify endpoint: `pass` is the one response token it accepts.
func siteVerifyStub() -> StubServer {
    StubServer { request in
        let fields = Dictionary(FormEncoding.decode(request.body), uniquingKeysWith: { $1 })
        return (.ok, fields["response"] == "pass" ? #"{"success":true}"# : #"{"success":false}"#)
    }
}

@Suite("Sign-up abuse: per-address limits, refused domains, CAPTCHA")
struct SignUpAbuseAPITests {
    @Test func aHundredSignUpsFromOneAddressInAMinuteMakeAtMostTheConfiguredNumberOfAccounts() async throws {
        try await withServices(configure: { $0.accounts.signupsPerAddressPerHour = 5 }) { services in
            // Twenty in flight at a time, as a script with a connection pool would send them: all
            // hundred within seconds, without waiting out the test database's pool.
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                @Sendable func attempt(_ index: Int) async throws -> String {
                    do {
                        _ = try await services.accounts.signUp(
                            email: "script\(index)@example.com", password: "correct horse battery", name: nil,
                            clientAddress: "203.0.113.66")
                        return "created"
                    } catch let error as DomainError {
                        return error.code.rawValue
                    }
                }
                var results: [String] = []
                for index in 0..<100 {
                    if index >= 20, let done = try await group.next() { results.append(done) }
                    group.addTask { try await attempt(index) }
                }
                for try await done in group { results.append(done) }
                return results
            }
            #expect(outcomes.filter { $0 == "created" }.count == 5)
            #expect(outcomes.filter { $0 == "too_many_signups" }.count == 95)
            let users = try await services.database.withConnection { db in
                try await db.raw("SELECT COUNT(*) AS n FROM users").first()?.decode(column: "n", as: Int64.self)
            }
            #expect(users == 5)
            // Another address still signs up.
            _ = try await services.accounts.signUp(
                email: "person@example.com", password: "correct horse battery", name: nil,
                clientAddress: "198.51.100.1")
        }
    }

    @Test func theRefusalIsARateLimitWithRetryAfterAndSaysWhy() async throws {
        try await withServices(configure: { $0.accounts.signupsPerAddressPerHour = 1 }) { services in
            _ = try await services.accounts.signUp(
                email: "one@example.com", password: "correct horse battery", name: nil, clientAddress: "203.0.113.66")
            let error = await #expect(throws: DomainError.self) {
                try await services.accounts.signUp(
                    email: "two@example.com", password: "correct horse battery", name: nil,
                    clientAddress: "203.0.113.66")
            }
            #expect(error?.code == .tooManySignups)
            #expect(error?.kind == .rateLimited)
            #expect((1...3600).contains(error?.retryAfterSeconds ?? 0))
            #expect(error?.message.contains("seconds") == true)
        }
    }

    @Test func refusedDomainsAndTheirSubdomainsAreRefusedNamingTheEmailField() async throws {
        let refusing: (inout KeywardenConfiguration) -> Void = {
            $0.accounts.refusedEmailDomains = ["mailinator.com", "temp.example"]
        }
        try await withApp(configure: refusing) { api, _ in
            for email in ["a@mailinator.com", "b@eu.mailinator.com", "c@TEMP.example"] {
                let refused = try await api.signUp(email)
                #expect(refused.status == .badRequest, "\(email)")
                #expect(refused.string("error.code") == "email_domain_not_allowed", "\(email)")
                #expect(refused.string("error.param") == "email", "\(email)")
            }
            #expect(try await api.signUp("d@notmailinator.com").status == .created)
        }
    }

    @Test func siteVerifyPostsTheSecretTheResponseAndTheClientAddressFormEncoded() async throws {
        let stub = siteVerifyStub()
        try await stub.run { base in
            for provider in SiteVerify.Provider.allCases {
                let check = SiteVerify(
                    provider: provider, secret: "captcha-secret", siteKey: "site-key", verifyURL: base + "/siteverify"
                ).check
                try await check.require("pass", clientAddress: "203.0.113.7")
                let refused = await #expect(throws: DomainError.self) {
                    try await check.require("fail", clientAddress: nil)
                }
                #expect(refused?.code == .captchaFailed)
            }
        }
        let first = try #require(stub.requests.first)
        #expect(first.method == .post)
        #expect(first.path == "/siteverify")
        #expect(first.headers[.contentType] == "application/x-www-form-urlencoded")
        let fields = Dictionary(FormEncoding.decode(first.body), uniquingKeysWith: { $1 })
        #expect(fields == ["secret": "captcha-secret", "response": "pass", "remoteip": "203.0.113.7"])
        #expect(stub.requests.count == 4)
        #expect(!stub.requests[1].body.contains("remoteip"))
    }

    @Test func theProvidersOwnURLsAndWidgetsAreTheDocumentedOnes() {
        #expect(SiteVerify.Provider.turnstile.verifyURL == "https://challenges.cloudflare.com/turnstile/v0/siteverify")
        #expect(SiteVerify.Provider.hcaptcha.verifyURL == "https://api.hcaptcha.com/siteverify")
        #expect(SiteVerify.Provider.turnstile.widget(siteKey: "k").formField == "cf-turnstile-response")
        #expect(SiteVerify.Provider.hcaptcha.widget(siteKey: "k").formField == "h-captcha-response")
    }

    @Test func anUnreachableProviderIsCaptchaUnavailable() async throws {
        let broken = StubServer { _ in (.internalServerError, "oops") }
        try await broken.run { base in
            let check = SiteVerify(
                provider: .turnstile, secret: "captcha-secret", siteKey: "site-key", verifyURL: base + "/siteverify"
            ).check
            let refused = await #expect(throws: DomainError.self) {
                try await check.require("pass", clientAddress: nil)
            }
            #expect(refused?.code == .captchaUnavailable)
            #expect(refused?.kind == .unavailable)
        }
    }

    @Test func withACaptchaProviderSignUpAndStartingAPhoneVerificationNeedAPassingToken() async throws {
        let stub = siteVerifyStub()
        let outbox = TestOutbox()
        try await stub.run { base in
            let captcha = CaptchaSettings(
                provider: .turnstile, secret: "captcha-secret", siteKey: "site-key", verifyURL: base + "/siteverify")
            try await withApp(outbox: outbox, configure: { $0.accounts.captcha = captcha }) { api, _ in
                let body = #"{"email":"ada@example.com","password":"correct horse battery""#
                let missing = try await api.request(.post, "/v1/auth/signup", json: body + "}")
                #expect(missing.status == .badRequest)
                #expect(missing.string("error.code") == "captcha_failed")
                #expect(missing.string("error.param") == "captcha_token")
                let failing = try await api.request(.post, "/v1/auth/signup", json: body + #","captcha_token":"no"}"#)
                #expect(failing.string("error.code") == "captcha_failed")
                let passing = try await api.request(
                    .post, "/v1/auth/signup", json: body + #","captcha_token":"pass"}"#)
                #expect(passing.status == .created)
                try await api.services?.confirmEmail(of: "ada@example.com")
                let token = try #require(passing.string("session_token"))

                let noToken = try await api.startVerification(token)
                #expect(noToken.string("error.code") == "captcha_failed")
                #expect(outbox.sent.isEmpty)
                let started = try await api.request(
                    .post, "/v1/organization/phone_verifications", token: token,
                    json: #"{"phone_number":"\#(Numbers.us)","country":"US","captcha_token":"pass"}"#)
                #expect(started.status == .created)
            }
        }
        #expect(stub.requests.count == 3)
    }
}
