import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenServer
import Testing

extension TestAPI {
    /// Signs in again, from a browser named `agent`; returns the new session's token.
    func logIn(
        _ email: String = "ada@example.com", password: String = "correct horse battery", agent: String? = nil
    ) async throws -> String {
        var headers = HTTPFields()
        if let agent { headers[.userAgent] = agent }
        let response = try await request(
            .post, "/v1/auth/login", json: #"{"email":"\#(email)","password":"\#(password)"}"#, headers: headers)
        return try #require(response.string("session_token"), "\(String(decoding: response.body, as: UTF8.self))")
    }

    /// The types of the caller's organization's audit events, newest first.
    func auditTypes(_ token: String) async throws -> [String] {
        let audit = try await request(.get, "/v1/organization/audit_logs?limit=100", token: token)
        return (audit.value("data") as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }
    }
}

@Suite("Password reset, change and sessions API")
struct PasswordAndSessionAPITests {
    static let newPassword = "a brand new passphrase"

    @Test func forgotAnswersAlikeForEveryAddressAndTheLinkResetsOnceEndingEverySession() async throws {
        let mailbox = TestMailbox()
        try await withApp(mailbox: mailbox) { api, _ in
            let first = try await api.token(confirmed: false)
            let second = try await api.logIn()
            let known = try await api.request(.post, "/v1/auth/password/forgot", json: #"{"email":"ada@example.com"}"#)
            let unknown = try await api.request(
                .post, "/v1/auth/password/forgot", json: #"{"email":"nobody@example.com"}"#)
            #expect(known.status == .accepted)
            #expect(known.status == unknown.status)
            #expect(known.body == unknown.body)
            #expect(known.string("object") == "password_reset_request")
            #expect(mailbox.sent(to: "nobody@example.com").isEmpty)
            let token = try #require(mailbox.token(to: "ada@example.com", path: "/reset-password"))

            let weak = try await api.request(
                .post, "/v1/auth/password/reset", json: #"{"token":"\#(token)","password":"short"}"#)
            #expect(weak.string("error.code") == "weak_password")
            #expect(weak.string("error.param") == "password")
            let reset = try await api.request(
                .post, "/v1/auth/password/reset", json: #"{"token":"\#(token)","password":"\#(Self.newPassword)"}"#)
            #expect(reset.status == .ok)
            #expect(reset.value("email_confirmed") as? Bool == true)
            for old in [first, second] {
                #expect(try await api.request(.get, "/v1/me", token: old).status == .unauthorized)
            }
            let wrong = try await api.request(
                .post, "/v1/auth/login", json: #"{"email":"ada@example.com","password":"correct horse battery"}"#)
            #expect(wrong.status == .unauthorized)
            let signedIn = try await api.logIn(password: Self.newPassword)
            #expect(try await api.auditTypes(signedIn).contains("user.password_reset"))
            let again = try await api.request(
                .post, "/v1/auth/password/reset", json: #"{"token":"\#(token)","password":"another passphrase"}"#)
            #expect(again.status == .badRequest)
            #expect(again.string("error.code") == "invalid_token")
        }
    }

    @Test func forgotRefusesAMalformedAddressAndThrottlesRepeats() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock, mailbox: TestMailbox()) { api, _ in
            let malformed = try await api.request(.post, "/v1/auth/password/forgot", json: #"{"email":"ada"}"#)
            #expect(malformed.string("error.code") == "invalid_email")
            let body = #"{"email":"someone@example.com"}"#
            #expect(try await api.request(.post, "/v1/auth/password/forgot", json: body).status == .accepted)
            let repeated = try await api.request(.post, "/v1/auth/password/forgot", json: body)
            #expect(repeated.status == .tooManyRequests)
            #expect(repeated.string("error.code") == "too_many_email_requests")
            #expect(repeated.headers[.retryAfter] != nil)
        }
    }

    @Test func changingThePasswordNeedsTheCurrentOneAndSignsOutTheOtherSessions() async throws {
        let mailbox = TestMailbox()
        try await withApp(mailbox: mailbox) { api, _ in
            let current = try await api.token()
            let other = try await api.logIn()
            let wrong = try await api.request(
                .post, "/v1/me/password", token: current,
                json: #"{"current_password":"not it at all","new_password":"\#(Self.newPassword)"}"#)
            #expect(wrong.status == .badRequest)
            #expect(wrong.string("error.code") == "invalid_credentials")
            #expect(wrong.string("error.param") == "current_password")
            let weak = try await api.request(
                .post, "/v1/me/password", token: current,
                json: #"{"current_password":"correct horse battery","new_password":"short"}"#)
            #expect(weak.string("error.param") == "new_password")

            let changed = try await api.request(
                .post, "/v1/me/password", token: current,
                json: #"{"current_password":"correct horse battery","new_password":"\#(Self.newPassword)"}"#)
            #expect(changed.status == .ok)
            #expect(changed.string("object") == "user")
            #expect(try await api.request(.get, "/v1/me", token: current).status == .ok)
            #expect(try await api.request(.get, "/v1/me", token: other).status == .unauthorized)
            #expect(mailbox.sent(to: "ada@example.com").last?.subject == "Your Keywarden password was changed")
            #expect(try await api.auditTypes(current).contains("user.password_changed"))
            _ = try await api.logIn(password: Self.newPassword)
        }
    }

    @Test func wrongCurrentPasswordsCountAgainstTheSignInLimit() async throws {
        try await withApp(clock: windowAlignedClock(), configure: { $0.accounts.loginAttemptsPerAccount = 2 }) {
            api, _ in
            let token = try await api.token()
            let body = #"{"current_password":"not it at all","new_password":"\#(Self.newPassword)"}"#
            for _ in 0..<2 {
                let wrong = try await api.request(.post, "/v1/me/password", token: token, json: body)
                #expect(wrong.string("error.code") == "invalid_credentials")
            }
            let limited = try await api.request(.post, "/v1/me/password", token: token, json: body)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.string("error.code") == "too_many_login_attempts")
        }
    }

    @Test func theSessionsListShowsEachLiveSessionWithWhereItCameFromAndWhichIsThisOne() async throws {
        try await withApp { api, _ in
            let current = try await api.token()
            let agent = "Mozilla/5.0 (X11; Linux x86_64) " + String(repeating: "Gecko ", count: 60)
            let other = try await api.logIn(agent: agent)
            let ended = try await api.logIn()
            _ = try await api.request(.post, "/v1/auth/logout", token: ended)

            let listed = try await api.request(.get, "/v1/me/sessions", token: current)
            #expect(listed.status == .ok)
            #expect(listed.string("object") == "list")
            let sessions = try #require(listed.value("data") as? [[String: Any]])
            #expect(sessions.count == 2)
            #expect(sessions.filter { $0["current"] as? Bool == true }.count == 1)
            let theirs = try #require(sessions.first { $0["current"] as? Bool == false })
            #expect(theirs["object"] as? String == "session")
            #expect((theirs["id"] as? String)?.hasPrefix("sessid_") == true)
            let summary = try #require(theirs["user_agent"] as? String)
            #expect(summary.count == 200)
            #expect(agent.hasPrefix(summary))
            #expect(theirs.keys.contains("ip_address"))
            for key in ["created_at", "last_seen_at", "expires_at"] {
                #expect(theirs[key] is Int, "\(key)")
            }
            #expect(!String(decoding: listed.body, as: UTF8.self).contains(other))
        }
    }

    @Test func revokingASessionEndsItOnItsNextRequestAndOnlyOnesOwnOtherSessionsCanBeRevoked() async throws {
        try await withApp { api, _ in
            let current = try await api.token()
            let other = try await api.logIn()
            let stranger = try await api.token("grace@example.com")
            let sessions = try await api.request(.get, "/v1/me/sessions", token: current)
            let all = try #require(sessions.value("data") as? [[String: Any]])
            let otherID = try #require(all.first { $0["current"] as? Bool == false }?["id"] as? String)
            let currentID = try #require(all.first { $0["current"] as? Bool == true }?["id"] as? String)
            let strangers = try await api.request(.get, "/v1/me/sessions", token: stranger)
            let strangerID = try #require((strangers.value("data") as? [[String: Any]])?.first?["id"] as? String)

            let foreign = try await api.request(.delete, "/v1/me/sessions/\(strangerID)", token: current)
            #expect(foreign.status == .notFound)
            #expect(foreign.string("error.code") == "session_not_found")
            #expect(try await api.request(.get, "/v1/me", token: stranger).status == .ok)
            let own = try await api.request(.delete, "/v1/me/sessions/\(currentID)", token: current)
            #expect(own.status == .badRequest)
            #expect(own.string("error.param") == "session_id")
            let malformed = try await api.request(.delete, "/v1/me/sessions/not-a-session", token: current)
            #expect(malformed.status == .notFound)

            let revoked = try await api.request(.delete, "/v1/me/sessions/\(otherID)", token: current)
            #expect(revoked.status == .ok)
            #expect(revoked.string("id") == otherID)
            #expect(revoked.value("revoked") as? Bool == true)
            #expect(try await api.request(.get, "/v1/me", token: other).status == .unauthorized)
            #expect(try await api.request(.get, "/v1/me", token: current).status == .ok)
            let twice = try await api.request(.delete, "/v1/me/sessions/\(otherID)", token: current)
            #expect(twice.status == .notFound)
            #expect(try await api.auditTypes(current).contains("session.revoked"))
        }
    }

    @Test func theAccountRoutesNeedASessionNotAKey() async throws {
        try await withApp { api, _ in
            for (method, path) in [
                (HTTPRequest.Method.get, "/v1/me/sessions"), (.post, "/v1/me/password"),
                (.delete, "/v1/me/sessions/sessid_abc"), (.post, "/v1/auth/email/confirmation"),
            ] {
                let response = try await api.request(method, path, token: "sk-proj-invented")
                #expect(response.status == .unauthorized, "\(method) \(path)")
            }
        }
    }
}
