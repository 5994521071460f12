import Foundation
import KeywardenCore
import Testing

@Suite("Password reset and change")
struct PasswordRecoveryTests {
    static let newPassword = "a brand new passphrase"

    @Test func askingForAResetAnswersAlikeForAnyAddressAndMailsOnlyAccounts() async throws {
        let bench = AccountBench()
        _ = try await bench.signUp()
        try await bench.service.requestPasswordReset(email: "nobody@example.com", clientAddress: nil)
        #expect(bench.mail.sent(to: "nobody@example.com").isEmpty)
        try await bench.service.requestPasswordReset(email: " ADA@example.com ", clientAddress: nil)
        let message = try #require(bench.mail.sent(to: "ada@example.com").last)
        #expect(message.subject == "Reset your Keywarden password")
        #expect(bench.mail.token(to: "ada@example.com", path: "/reset-password") != nil)
        let malformed = await refusal {
            try await bench.service.requestPasswordReset(email: "not an address", clientAddress: nil)
        }
        #expect(malformed == "invalid_email")
    }

    @Test func aResetLinkSetsThePasswordOnceEndsEverySessionAndConfirmsTheAddress() async throws {
        let bench = AccountBench()
        let result = try await bench.signUp()
        let other = try await bench.logIn()
        try await bench.service.requestPasswordReset(email: "ada@example.com", clientAddress: nil)
        let token = try #require(bench.mail.token(to: "ada@example.com", path: "/reset-password"))

        let user = try await bench.service.resetPassword(
            token: token, password: Self.newPassword, clientAddress: "203.0.113.7")
        #expect(user.isEmailConfirmed)
        #expect(try await bench.session(result.token) == nil)
        #expect(try await bench.session(other) == nil)
        let old = await refusal { try await bench.logIn() }
        #expect(old == "invalid_credentials")
        _ = try await bench.logIn(password: Self.newPassword)
        let types = await bench.auditTypes(of: result.organization.id)
        #expect(types.contains("user.password_reset"))
        let event = await bench.repositories.database.auditEvents(in: result.organization.id).first {
            $0.type == .userPasswordReset
        }
        #expect(event?.details == ["sessions_ended": "2"])
        let again = await refusalError {
            try await bench.service.resetPassword(token: token, password: "yet another passphrase", clientAddress: nil)
        }
        #expect(again?.code == .invalidToken)
    }

    @Test func aResetLinkOlderThanAnHourDoesNotWork() async throws {
        let bench = AccountBench()
        _ = try await bench.signUp()
        try await bench.service.requestPasswordReset(email: "ada@example.com", clientAddress: nil)
        let token = try #require(bench.mail.token(to: "ada@example.com", path: "/reset-password"))
        bench.time.advance(by: 3600)

        let code = await refusal {
            try await bench.service.resetPassword(token: token, password: Self.newPassword, clientAddress: nil)
        }
        #expect(code == "invalid_token")
        _ = try await bench.logIn()
    }

    @Test func aWeakNewPasswordIsRefusedAndLeavesTheLinkUsable() async throws {
        let bench = AccountBench()
        _ = try await bench.signUp()
        try await bench.service.requestPasswordReset(email: "ada@example.com", clientAddress: nil)
        let token = try #require(bench.mail.token(to: "ada@example.com", path: "/reset-password"))

        let weak = await refusalError {
            try await bench.service.resetPassword(token: token, password: "short", clientAddress: nil)
        }
        #expect(weak?.code == .weakPassword)
        #expect(weak?.param == "password")
        _ = try await bench.service.resetPassword(token: token, password: Self.newPassword, clientAddress: nil)
    }

    @Test func aConfirmationLinkDoesNotResetAndAResetLinkDoesNotConfirm() async throws {
        let bench = AccountBench()
        _ = try await bench.signUp()
        let confirmation = try #require(bench.mail.token(to: "ada@example.com", path: "/confirm-email"))
        try await bench.service.requestPasswordReset(email: "ada@example.com", clientAddress: nil)
        let reset = try #require(bench.mail.token(to: "ada@example.com", path: "/reset-password"))

        let resetWithConfirmation = await refusal {
            try await bench.service.resetPassword(token: confirmation, password: Self.newPassword, clientAddress: nil)
        }
        #expect(resetWithConfirmation == "invalid_token")
        let confirmWithReset = await refusal { try await bench.service.confirmEmail(token: reset, clientAddress: nil) }
        #expect(confirmWithReset == "invalid_token")
    }

    @Test func resetLinksAreLimitedPerAddressTypedAndPerClientAddress() async throws {
        let bench = AccountBench(settings: {
            $0.passwordResetLimitPerClientAddress = FixedWindowLimit(limit: 3, window: 3600)
        })
        _ = try await bench.signUp()
        try await bench.service.requestPasswordReset(email: "ada@example.com", clientAddress: "203.0.113.7")
        let perAddress = await refusalError {
            try await bench.service.requestPasswordReset(email: "ada@example.com", clientAddress: "198.51.100.1")
        }
        #expect(perAddress?.code == .tooManyEmailRequests)
        // An address without an account is counted the same way, so the limit tells nobody anything.
        try await bench.service.requestPasswordReset(email: "nobody@example.com", clientAddress: "203.0.113.7")
        let unknownAgain = await refusal {
            try await bench.service.requestPasswordReset(email: "nobody@example.com", clientAddress: "198.51.100.1")
        }
        #expect(unknownAgain == "too_many_email_requests")
        try await bench.service.requestPasswordReset(email: "grace@example.com", clientAddress: "203.0.113.7")
        let perClient = await refusal {
            try await bench.service.requestPasswordReset(email: "alan@example.com", clientAddress: "203.0.113.7")
        }
        #expect(perClient == "too_many_email_requests")
        #expect(bench.mail.sent(to: "ada@example.com").filter { $0.subject.hasPrefix("Reset") }.count == 1)
    }

    @Test func changingThePasswordNeedsTheCurrentOneAndEndsOnlyTheOtherSessions() async throws {
        let bench = AccountBench()
        let result = try await bench.signUp()
        let other = try await bench.logIn()
        let current = try #require(try await bench.session(result.token))

        let wrong = await refusalError {
            try await bench.service.changePassword(
                current: "not the password", new: Self.newPassword, session: current.session, user: current.user,
                clientAddress: nil)
        }
        #expect(wrong?.code == .invalidCredentials)
        #expect(wrong?.kind == .invalidRequest)
        #expect(wrong?.param == "current_password")
        #expect(try await bench.session(other) != nil)

        _ = try await bench.service.changePassword(
            current: AccountBench.password, new: Self.newPassword, session: current.session, user: current.user,
            clientAddress: nil)
        #expect(try await bench.session(result.token) != nil)
        #expect(try await bench.session(other) == nil)
        #expect(await refusal { try await bench.logIn() } == "invalid_credentials")
        _ = try await bench.logIn(password: Self.newPassword)
        #expect(bench.mail.sent(to: "ada@example.com").last?.subject == "Your Keywarden password was changed")
        let types = await bench.auditTypes(of: result.organization.id)
        #expect(types.filter { $0 == "user.password_changed" }.count == 1)
    }

    @Test func aWeakNewPasswordIsRefusedBeforeTheCurrentOneIsWeighed() async throws {
        let bench = AccountBench(settings: { $0.loginLimitPerAccount = FixedWindowLimit(limit: 1, window: 900) })
        let result = try await bench.signUp()
        let current = try #require(try await bench.session(result.token))
        for _ in 0..<3 {
            let weak = await refusalError {
                try await bench.service.changePassword(
                    current: "not the password", new: "short", session: current.session, user: current.user,
                    clientAddress: nil)
            }
            #expect(weak?.code == .weakPassword)
            #expect(weak?.param == "new_password")
        }
    }

    @Test func wrongCurrentPasswordsCountAgainstTheSignInThrottle() async throws {
        let bench = AccountBench(settings: { $0.loginLimitPerAccount = FixedWindowLimit(limit: 2, window: 900) })
        let result = try await bench.signUp()
        let current = try #require(try await bench.session(result.token))
        func change(from password: String) async -> String? {
            await refusal {
                try await bench.service.changePassword(
                    current: password, new: Self.newPassword, session: current.session, user: current.user,
                    clientAddress: nil)
            }
        }
        #expect(await change(from: "wrong password 1") == "invalid_credentials")
        #expect(await change(from: "wrong password 2") == "invalid_credentials")
        #expect(await change(from: AccountBench.password) == "too_many_login_attempts")
        #expect(await refusal { try await bench.logIn() } == "too_many_login_attempts")
    }
}
