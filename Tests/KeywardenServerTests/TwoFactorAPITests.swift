import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenServer
import Testing

extension TestAPI {
    /// Turns two-factor authentication on for the session's person; the app's secret and the
    /// recovery codes.
    func enableTwoFactor(_ token: String, clock: ManualClock) async throws -> (TOTPSecret, [String]) {
        let begun = try await request(.post, "/v1/me/mfa/totp", token: token)
        #expect(begun.status == .created)
        let url = try #require(begun.string("otpauth_url"))
        let base32 = try #require(begun.string("secret"))
        let secret = TOTPSecret.fromBase32(base32)
        #expect(url.contains("secret=" + (begun.string("secret") ?? "-")))
        let code = secret.code(atStep: TOTPSecret.step(at: clock.now))
        let confirmed = try await request(.post, "/v1/me/mfa/totp/confirm", token: token, json: #"{"code":"\#(code)"}"#)
        #expect(confirmed.value("enabled") as? Bool == true)
        let codes = try #require(confirmed.value("recovery_codes") as? [String])
        clock.advance(by: 30)
        return (secret, codes)
    }
}

extension TOTPSecret {
    /// The secret whose setup key is `base32` (what an authenticator app is given).
    static func fromBase32(_ base32: String) -> TOTPSecret {
        TOTPSecret(text: String(decoding: TestAuthenticator.base32Decoded(base32), as: UTF8.self))
    }
}

@Suite("Two-factor authentication and step-up API")
struct TwoFactorAPITests {
    static let credentials = #"{"email":"ada@example.com","password":"correct horse battery"}"#

    @Test func loginAnswersAChallengeThatACodeTurnsIntoASession() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, _ in
            let token = try await api.token()
            let before = try await api.request(.get, "/v1/me/mfa", token: token)
            #expect(before.value("enabled") as? Bool == false)
            let (secret, codes) = try await api.enableTwoFactor(token, clock: time)
            #expect(codes.count == 10)
            let status = try await api.request(.get, "/v1/me/mfa", token: token)
            #expect(status.value("recovery_codes_remaining") as? Int == 10)
            #expect(status.value("recovery_codes") == nil)

            let login = try await api.request(.post, "/v1/auth/login", json: Self.credentials)
            #expect(login.status == .ok)
            #expect(login.value("mfa_required") as? Bool == true)
            #expect(login.string("session_token") == nil)
            let challenge = try #require(login.string("challenge"))
            let wrong = try await api.request(
                .post, "/v1/auth/login/mfa", json: #"{"challenge":"\#(challenge)","code":"000000"}"#)
            #expect(wrong.status == .badRequest)
            #expect(wrong.string("error.code") == "incorrect_code")
            #expect(wrong.string("error.param") == "code")
            let code = secret.code(atStep: TOTPSecret.step(at: time.now))
            let done = try await api.request(
                .post, "/v1/auth/login/mfa", json: #"{"challenge":"\#(challenge)","code":"\#(code)"}"#)
            #expect(done.status == .ok)
            let session = try #require(done.string("session_token"))
            #expect(try await api.request(.get, "/v1/me", token: session).status == .ok)

            // A recovery code works once, on a challenge of its own.
            for (index, expected) in [(0, HTTPResponse.Status.ok), (0, .badRequest)] {
                let again = try #require(
                    try await api.request(.post, "/v1/auth/login", json: Self.credentials).string("challenge"))
                let used = try await api.request(
                    .post, "/v1/auth/login/mfa", json: #"{"challenge":"\#(again)","code":"\#(codes[index])"}"#)
                #expect(used.status == expected)
            }
            let expired = try await api.request(
                .post, "/v1/auth/login/mfa", json: #"{"challenge":"\#(challenge)","code":"\#(codes[1])"}"#)
            #expect(expired.status == .unauthorized)
            #expect(expired.string("error.code") == "invalid_token")
            #expect(try await api.auditTypes(session).contains("mfa.enabled"))
        }
    }

    @Test func aStaleSessionIsAskedToConfirmBeforeMakingAKeyAndThenMakesIt() async throws {
        let time = ManualClock()
        let outbox = TestOutbox()
        try await withApp(clock: time.clock, outbox: outbox) { api, _ in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let project = try await api.defaultProject(token)
            #expect(try await api.createKey(token, project: project).status == .created)
            time.advance(by: 601)
            let stale = try await api.createKey(token, project: project)
            #expect(stale.status == .forbidden)
            #expect(stale.string("error.code") == "reauthentication_required")
            let invite = try await api.request(
                .post, "/v1/organization/invites", token: token, json: #"{"email":"grace@example.com","role":"owner"}"#)
            #expect(invite.string("error.code") == "reauthentication_required")
            let reader = try await api.request(
                .post, "/v1/organization/invites", token: token, json: #"{"email":"grace@example.com","role":"reader"}"#
            )
            #expect(reader.status == .ok || reader.status == .created)
            #expect(
                try await api.request(.post, "/v1/me/mfa/totp", token: token).string("error.code")
                    == "reauthentication_required")

            let wrong = try await api.request(
                .post, "/v1/auth/reauthenticate", token: token, json: #"{"password":"not my password"}"#)
            #expect(wrong.status == .badRequest)
            #expect(wrong.string("error.code") == "invalid_credentials")
            #expect(wrong.string("error.param") == "password")
            let confirmed = try await api.request(
                .post, "/v1/auth/reauthenticate", token: token, json: #"{"password":"correct horse battery"}"#)
            #expect(confirmed.status == .ok)
            let ends = try #require(confirmed.value("step_up_expires_at") as? Int)
            #expect(ends == Int(time.now.timeIntervalSince1970) + 600)
            #expect(try await api.createKey(token, project: project).status == .created)
            #expect(try await api.auditTypes(token).contains("session.reauthenticated"))
        }
    }

    @Test func turningItOffNeedsACodeAndThenLoginAsksForNone() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, _ in
            let token = try await api.token()
            let (secret, _) = try await api.enableTwoFactor(token, clock: time)
            let again = try await api.request(.post, "/v1/me/mfa/totp", token: token)
            #expect(again.status == .conflict)
            #expect(again.string("error.code") == "mfa_already_enabled")
            let wrong = try await api.request(.post, "/v1/me/mfa/disable", token: token, json: #"{"code":"000000"}"#)
            #expect(wrong.string("error.code") == "incorrect_code")
            let code = secret.code(atStep: TOTPSecret.step(at: time.now))
            let off = try await api.request(.post, "/v1/me/mfa/disable", token: token, json: #"{"code":"\#(code)"}"#)
            #expect(off.status == .ok)
            #expect(off.value("enabled") as? Bool == false)
            let login = try await api.request(.post, "/v1/auth/login", json: Self.credentials)
            #expect(login.string("session_token") != nil)
            #expect(try await api.auditTypes(token).contains("mfa.disabled"))
        }
    }

    @Test func malformedBodiesGetTheErrorEnvelope() async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            for (path, body) in [
                ("/v1/auth/login/mfa", #"{"challenge":1,"code":"1"}"#), ("/v1/auth/login/mfa", #"{"code":"1"}"#),
                ("/v1/me/mfa/totp/confirm", #"{"code":"1","extra":true}"#), ("/v1/auth/reauthenticate", "[]"),
            ] {
                let response = try await api.request(.post, path, token: token, json: body)
                #expect(response.status == .badRequest, "\(path) \(body)")
                #expect(response.errorFields == ["code", "message", "param", "type"])
            }
            let notPending = try await api.request(
                .post, "/v1/me/mfa/totp/confirm", token: token, json: #"{"code":"123456"}"#)
            #expect(notPending.string("error.code") == "mfa_not_enabled")
        }
    }
}
