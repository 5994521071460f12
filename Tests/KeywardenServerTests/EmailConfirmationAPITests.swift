import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenServer
import Synchronization
import Testing

extension TestMailbox {
    /// The token of the latest link to `path` mailed to `address`.
    func token(to address: String, path: String) -> String? {
        guard let link = link(to: address, containing: path + "?token="),
            let components = URLComponents(string: link)
        else { return nil }
        return components.queryItems?.first { $0.name == "token" }?.value
    }
}

extension TestAPI {
    /// Opens the confirmation link mailed to `address`, as `POST /v1/auth/email/confirm`.
    func confirm(_ address: String, from mailbox: TestMailbox) async throws -> TestResponse {
        let token = try #require(mailbox.token(to: address, path: "/confirm-email"))
        return try await request(.post, "/v1/auth/email/confirm", json: #"{"token":"\#(token)"}"#)
    }
}

@Suite("Email confirmation API")
struct EmailConfirmationAPITests {
    @Test func signUpMailsATextAndHTMLLinkAndTheUserSaysItIsUnconfirmedUntilItIsOpened() async throws {
        let mailbox = TestMailbox()
        try await withApp(
            mailbox: mailbox, configure: { $0.providers.publicURL = "https://keys.example.com/" }
        ) { api, _ in
            let signUp = try await api.signUp(confirmed: false)
            #expect(signUp.value("user.email_confirmed") as? Bool == false)
            let token = try #require(signUp.string("session_token"))
            let message = try #require(mailbox.sent(to: "ada@example.com").last)
            let link = try #require(mailbox.link(to: "ada@example.com", containing: "/confirm-email"))
            #expect(link.hasPrefix("https://keys.example.com/confirm-email?token="))
            #expect(message.html?.contains(link) == true)
            let me = try await api.request(.get, "/v1/me", token: token)
            #expect(me.value("email_confirmed") as? Bool == false)

            let confirmed = try await api.confirm("ada@example.com", from: mailbox)
            #expect(confirmed.status == .ok)
            #expect(confirmed.string("object") == "user")
            #expect(confirmed.value("email_confirmed") as? Bool == true)
            let after = try await api.request(.get, "/v1/me", token: token)
            #expect(after.value("email_confirmed") as? Bool == true)

            let again = try await api.confirm("ada@example.com", from: mailbox)
            #expect(again.status == .badRequest)
            #expect(again.string("error.code") == "invalid_token")
            #expect(again.string("error.param") == "token")
        }
    }

    @Test func confirmingIsAuditedInThePersonsOrganizations() async throws {
        let mailbox = TestMailbox()
        try await withApp(mailbox: mailbox) { api, _ in
            let token = try await api.token(confirmed: false)
            _ = try await api.confirm("ada@example.com", from: mailbox)
            let audit = try await api.request(
                .get, "/v1/organization/audit_logs?event_types[]=user.email_confirmed", token: token)
            let events = try #require(audit.value("data") as? [[String: Any]])
            #expect(events.count == 1)
        }
    }

    @Test func aMalformedOrForeignTokenIsRefusedAlike() async throws {
        try await withApp { api, _ in
            for body in [#"{"token":"nope"}"#, #"{"token":""}"#, #"{"token":"\#(AccountToken.generate().value)"}"#] {
                let response = try await api.request(.post, "/v1/auth/email/confirm", json: body)
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.string("error.code") == "invalid_token", "\(body)")
            }
            let missing = try await api.request(.post, "/v1/auth/email/confirm", json: "{}")
            #expect(missing.string("error.code") == "missing_required_parameter")
        }
    }

    @Test func askingForANewLinkIsThrottledAndEndsTheOldOne() async throws {
        let mailbox = TestMailbox()
        let time = ManualClock()
        try await withApp(clock: time.clock, mailbox: mailbox) { api, _ in
            let token = try await api.token(confirmed: false)
            let first = try #require(mailbox.token(to: "ada@example.com", path: "/confirm-email"))
            let resent = try await api.request(.post, "/v1/auth/email/confirmation", token: token)
            #expect(resent.status == .accepted)
            #expect(resent.string("object") == "email_confirmation")
            #expect(resent.value("sent") as? Bool == true)
            let second = try #require(mailbox.token(to: "ada@example.com", path: "/confirm-email"))
            #expect(first != second)

            let tooSoon = try await api.request(.post, "/v1/auth/email/confirmation", token: token)
            #expect(tooSoon.status == .tooManyRequests)
            #expect(tooSoon.string("error.code") == "too_many_email_requests")
            let wait = try #require(tooSoon.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...60).contains(wait))

            let old = try await api.request(.post, "/v1/auth/email/confirm", json: #"{"token":"\#(first)"}"#)
            #expect(old.string("error.code") == "invalid_token")
            let confirmed = try await api.request(.post, "/v1/auth/email/confirm", json: #"{"token":"\#(second)"}"#)
            #expect(confirmed.status == .ok)
            time.advance(by: 61)
            let done = try await api.request(.post, "/v1/auth/email/confirmation", token: token)
            #expect(done.status == .conflict)
            #expect(done.string("error.code") == "email_already_confirmed")
            let signedOut = try await api.request(.post, "/v1/auth/email/confirmation")
            #expect(signedOut.status == .unauthorized)
        }
    }

    @Test func aMailOutageDoesNotStopSignUpAndIsLoggedWithoutTheToken() async throws {
        let mailbox = TestMailbox()
        let logs = CapturedLogs()
        mailbox.failing.withLock { $0 = true }
        try await withApp(mailbox: mailbox, logger: logs.logger) { api, services in
            let signUp = try await api.signUp(confirmed: false)
            #expect(signUp.status == .created)
            let token = try #require(signUp.string("session_token"))
            let refused = try await api.request(.post, "/v1/auth/email/confirmation", token: token)
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.string("error.code") == "email_provider_unavailable")
            let warnings = logs.all.filter { $0.contains("confirmation email not sent") }
            #expect(warnings.count == 2)
            // The links were made (and stored) but never shown: no log line holds a stored token's value,
            // which only its digest could tell; the lines name the user and the provider only.
            #expect(warnings.allSatisfy { $0.contains("user_") && !$0.contains("token=") })
        }
    }

    @Test func untilTheAddressIsConfirmedPhoneVerificationAndKeyCreationAreRefusedSayingWhatToDo() async throws {
        let mailbox = TestMailbox()
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, mailbox: mailbox) { api, _ in
            let signUp = try await api.signUp(confirmed: false)
            let token = try #require(signUp.string("session_token"))
            let project = try #require(signUp.string("default_project.id"))
            let refusals = [
                try await api.startVerification(token),
                try await api.request(
                    .post, "/v1/organization/projects/\(project)/api_keys", token: token, json: #"{"name":"ci"}"#),
                try await api.request(
                    .post, "/v1/organization/projects/\(project)/service_accounts", token: token,
                    json: #"{"name":"bot"}"#),
                try await api.request(.post, "/v1/organization/admin_api_keys", token: token, json: "{}"),
            ]
            for refusal in refusals {
                #expect(refusal.status == .forbidden)
                #expect(refusal.string("error.code") == "email_not_confirmed")
                #expect(refusal.string("error.type") == "permission_error")
                #expect(refusal.string("error.message")?.contains("ada@example.com") == true)
                #expect(refusal.string("error.message")?.contains("/v1/auth/email/confirmation") == true)
            }
            #expect(outbox.sent.isEmpty)

            _ = try await api.confirm("ada@example.com", from: mailbox)
            #expect(try await api.startVerification(token).status == .created)
        }
    }

    @Test func withTheRuleOffAnUnconfirmedPersonMayVerifyAPhone() async throws {
        let off: (inout KeywardenConfiguration) -> Void = { $0.accounts.requireEmailConfirmation = false }
        try await withApp(outbox: TestOutbox(), configure: off) { api, _ in
            let token = try await api.token(confirmed: false)
            #expect(try await api.startVerification(token).status == .created)
        }
    }
}
