import Foundation
import HTTPTypes
import KeywardenCore
import Testing

@Suite("Accounts API")
struct AccountsAPITests {
    @Test func signUpCreatesUserPersonalOrganizationAndDefaultProject() async throws {
        try await withApp { api, _ in
            let response = try await api.signUp("Ada@Example.com")
            #expect(response.status == .created)
            #expect(response.string("user.email") == "ada@example.com")
            #expect(response.string("user.id")?.hasPrefix("user_") == true)
            #expect(response.string("organization.role") == "owner")
            #expect(response.string("default_project.name") == "Default project")
            let token = try #require(response.string("session_token"))
            #expect(token.hasPrefix("sess_"))

            let me = try await api.request(.get, "/v1/me", token: token)
            #expect(me.status == .ok)
            #expect(me.string("object") == "user")
            #expect(me.string("id") == response.string("user.id"))
            #expect(me.string("email") == "ada@example.com")
            #expect(me.value("created_at") as? Int == response.value("user.created_at") as? Int)
            #expect(me.value("organizations.object") as? String == "list")
            let organizations = try #require(me.value("organizations.data") as? [[String: Any]])
            #expect(organizations.count == 1)
            #expect(organizations.first?["id"] as? String == response.string("organization.id"))
            #expect(organizations.first?["role"] as? String == "owner")

            let projects = try await api.request(.get, "/v1/organization/projects", token: token)
            let data = try #require(projects.value("data") as? [[String: Any]])
            #expect(data.map { $0["id"] as? String } == [response.string("default_project.id")])
        }
    }

    @Test func signUpWithAnEmailThatDiffersOnlyInCaseIsRefused() async throws {
        try await withApp { api, _ in
            #expect(try await api.signUp("Ada@Example.com").status == .created)
            let duplicate = try await api.signUp("  ada@example.COM ")
            #expect(duplicate.status == .conflict)
            #expect(duplicate.string("error.code") == "email_taken")
            #expect(duplicate.string("error.param") == "email")
        }
    }

    @Test func passwordShorterThanTenCharactersIsRefusedAsWeak() async throws {
        try await withApp { api, _ in
            let response = try await api.signUp(password: "short pw1")
            #expect(response.status == .badRequest)
            #expect(response.string("error.code") == "weak_password")
            #expect(response.string("error.param") == "password")
            let login = try await api.request(
                .post, "/v1/auth/login", json: #"{"email":"ada@example.com","password":"short pw1"}"#)
            #expect(login.status == .unauthorized)
        }
    }

    @Test func malformedEmailIsRefused() async throws {
        try await withApp { api, _ in
            for email in ["", "ada", "ada@", "@example.com", "ada@example", "a b@example.com"] {
                let response = try await api.signUp(email)
                #expect(response.status == .badRequest, "\(email)")
                #expect(response.string("error.code") == "invalid_email", "\(email)")
            }
        }
    }

    @Test func wrongPasswordAndUnknownEmailGetOneIdenticalRefusal() async throws {
        try await withApp { api, _ in
            try await api.signUp()
            let wrongPassword = try await api.request(
                .post, "/v1/auth/login", json: #"{"email":"ada@example.com","password":"not the password"}"#)
            let unknownEmail = try await api.request(
                .post, "/v1/auth/login", json: #"{"email":"grace@example.com","password":"not the password"}"#)
            #expect(wrongPassword.status == .unauthorized)
            #expect(wrongPassword.string("error.code") == "invalid_credentials")
            #expect(wrongPassword.status == unknownEmail.status)
            #expect(wrongPassword.body == unknownEmail.body)
        }
    }

    @Test func loginReturnsAWorkingSessionAndLogoutEndsIt() async throws {
        try await withApp { api, _ in
            try await api.signUp()
            let login = try await api.request(
                .post, "/v1/auth/login", json: #"{"email":"ADA@example.com","password":"correct horse battery"}"#)
            #expect(login.status == .ok)
            #expect(login.string("user.email") == "ada@example.com")
            let token = try #require(login.string("session_token"))
            #expect(try await api.request(.get, "/v1/me", token: token).status == .ok)

            let logout = try await api.request(.post, "/v1/auth/logout", token: token)
            #expect(logout.status == .ok)
            #expect(logout.value("revoked") as? Bool == true)
            let after = try await api.request(.get, "/v1/me", token: token)
            #expect(after.status == .unauthorized)
            #expect(after.string("error.code") == "unauthenticated")
        }
    }

    @Test func signedInRoutesRefuseMissingAndInventedTokens() async throws {
        try await withApp { api, _ in
            for token in [nil, "sess_invented", "sk-proj-abc", ""] as [String?] {
                let response = try await api.request(.get, "/v1/me", token: token)
                #expect(response.status == .unauthorized)
                #expect(response.errorFields == ["code", "message", "param", "type"])
            }
        }
    }

    @Test func failedLoginsAreThrottledPerAccountEvenWithTheRightPasswordAfterwards() async throws {
        try await withApp(clock: windowAlignedClock(), configure: { $0.accounts.loginAttemptsPerAccount = 3 }) {
            api, _ in
            try await api.signUp()
            for _ in 0..<3 {
                let response = try await api.request(
                    .post, "/v1/auth/login", json: #"{"email":"ada@example.com","password":"wrong password!"}"#)
                #expect(response.status == .unauthorized)
            }
            let throttled = try await api.request(
                .post, "/v1/auth/login", json: #"{"email":"ada@example.com","password":"correct horse battery"}"#)
            #expect(throttled.status == .tooManyRequests)
            #expect(throttled.string("error.code") == "too_many_login_attempts")
            let retryAfter = try #require(throttled.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...900).contains(retryAfter))
        }
    }
}
