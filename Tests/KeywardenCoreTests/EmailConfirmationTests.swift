import Foundation
import KeywardenCore
import Synchronization
import Testing

@Suite("Email confirmation")
struct EmailConfirmationTests {
    @Test func signUpMailsALinkWhoseTokenIsStoredOnlyAsItsDigest() async throws {
        let bench = AccountBench()
        let result = try await bench.signUp()
        #expect(!result.user.isEmailConfirmed)
        let message = try #require(bench.mail.sent(to: "ada@example.com").last)
        #expect(message.subject == "Confirm your email address for Keywarden")
        let link = try #require(bench.mail.link(to: "ada@example.com", path: "/confirm-email"))
        #expect(message.html?.contains(link) == true)
        let token = try #require(bench.mail.token(to: "ada@example.com", path: "/confirm-email"))
        // 256 bits, base64url without padding.
        #expect(token.count == 43)
        let stored = await bench.repositories.tokens.stored()
        #expect(stored.count == 1)
        #expect(stored.first?.digest == Digest.sha256Hex(token))
        #expect(stored.first?.purpose == .emailConfirmation)
        #expect(stored.first?.expiresAt == AccountBench.opening.addingTimeInterval(24 * 3600))
        #expect(!stored.contains { $0.digest == token })
    }

    @Test func theLinkConfirmsTheAddressOnceAndIsAudited() async throws {
        let bench = AccountBench()
        let result = try await bench.signUp()
        let token = try #require(bench.mail.token(to: "ada@example.com", path: "/confirm-email"))
        bench.time.advance(by: 30)

        let confirmed = try await bench.service.confirmEmail(token: token, clientAddress: "203.0.113.7")
        #expect(confirmed.emailConfirmedAt == AccountBench.opening.addingTimeInterval(30))
        #expect(try await bench.user(result.user.id).isEmailConfirmed)
        #expect(await bench.auditTypes(of: result.organization.id) == ["user.email_confirmed"])
        let again = await refusalError { try await bench.service.confirmEmail(token: token, clientAddress: nil) }
        #expect(again?.code == .invalidToken)
        #expect(again?.param == "token")
    }

    @Test func aLinkOlderThanADayDoesNotConfirm() async throws {
        let bench = AccountBench()
        let result = try await bench.signUp()
        let token = try #require(bench.mail.token(to: "ada@example.com", path: "/confirm-email"))
        bench.time.advance(by: 24 * 3600)

        let refused = await refusal { try await bench.service.confirmEmail(token: token, clientAddress: nil) }
        #expect(refused == "invalid_token")
        #expect(try await bench.user(result.user.id).isEmailConfirmed == false)
    }

    @Test func unknownEmptyAndOversizedTokensAreRefusedAlike() async throws {
        let bench = AccountBench()
        _ = try await bench.signUp()
        for token in ["", "   ", AccountToken.generate().value, String(repeating: "a", count: 5000)] {
            let code = await refusal { try await bench.service.confirmEmail(token: token, clientAddress: nil) }
            #expect(code == "invalid_token")
        }
    }

    @Test func aNewLinkEndsTheOlderOne() async throws {
        let bench = AccountBench()
        let result = try await bench.signUp()
        let first = try #require(bench.mail.token(to: "ada@example.com", path: "/confirm-email"))
        bench.time.advance(by: 1)
        try await bench.service.resendConfirmation(to: result.user)
        let second = try #require(bench.mail.token(to: "ada@example.com", path: "/confirm-email"))
        #expect(first != second)

        let refused = await refusal { try await bench.service.confirmEmail(token: first, clientAddress: nil) }
        #expect(refused == "invalid_token")
        _ = try await bench.service.confirmEmail(token: second, clientAddress: nil)
    }

    @Test func linksAreSentAgainAtMostOnceAMinuteAndFiveTimesADay() async throws {
        let bench = AccountBench()
        let user = try await bench.signUp().user
        try await bench.service.resendConfirmation(to: user)
        let tooSoon = await refusalError { try await bench.service.resendConfirmation(to: user) }
        #expect(tooSoon?.code == .tooManyEmailRequests)
        #expect(tooSoon?.kind == .rateLimited)
        #expect((1...60).contains(tooSoon?.retryAfterSeconds ?? 0))
        for _ in 0..<4 {
            bench.time.advance(by: 61)
            try await bench.service.resendConfirmation(to: user)
        }
        bench.time.advance(by: 61)
        let fiveADay = await refusalError { try await bench.service.resendConfirmation(to: user) }
        #expect(fiveADay?.code == .tooManyEmailRequests)
        #expect((fiveADay?.retryAfterSeconds ?? 0) > 60)
        // The sign-up's own email and the five asked for.
        #expect(bench.mail.sent(to: "ada@example.com").count == 6)
    }

    @Test func aConfirmedAddressGetsNoNewLink() async throws {
        let bench = AccountBench()
        _ = try await bench.signUp()
        let token = try #require(bench.mail.token(to: "ada@example.com", path: "/confirm-email"))
        let confirmed = try await bench.service.confirmEmail(token: token, clientAddress: nil)

        let code = await refusal { try await bench.service.resendConfirmation(to: confirmed) }
        #expect(code == "email_already_confirmed")
        #expect(bench.mail.sent.count == 1)
    }

    @Test func aMailOutageNeitherStopsSignUpNorUsesUpTheResendBudget() async throws {
        let bench = AccountBench()
        bench.mail.failing.withLock { $0 = true }
        let result = try await bench.signUp()
        #expect(bench.mail.sent.isEmpty)
        let refused = await refusalError { try await bench.service.resendConfirmation(to: result.user) }
        #expect(refused?.code == .emailProviderUnavailable)
        #expect(refused?.kind == .unavailable)

        bench.mail.failing.withLock { $0 = false }
        try await bench.service.resendConfirmation(to: result.user)
        #expect(bench.mail.sent(to: "ada@example.com").count == 1)
    }

    @Test func ofTwoSimultaneousUsesOfOneLinkExactlyOneConfirms() async throws {
        let bench = AccountBench()
        _ = try await bench.signUp()
        let token = try #require(bench.mail.token(to: "ada@example.com", path: "/confirm-email"))
        let service = bench.service
        let outcomes = await withTaskGroup(of: String.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    await refusal { try await service.confirmEmail(token: token, clientAddress: nil) } ?? "confirmed"
                }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == "confirmed" }.count == 1)
        #expect(outcomes.filter { $0 == "invalid_token" }.count == 7)
    }
}
