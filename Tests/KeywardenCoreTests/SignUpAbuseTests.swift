import Foundation
import KeywardenCore
import Synchronization
import Testing

/// A CAPTCHA provider that answers as told and remembers what it was asked.
final class StubHumanCheck: Sendable {
    enum Answer: Sendable {
        case pass, fail, unreachable
    }

    let answer: Mutex<Answer>
    private let asked = Mutex<[String]>([])

    init(_ answer: Answer) {
        self.answer = Mutex(answer)
    }

    /// Each question as the response token, a space and the client address (`-` without one).
    var questions: [String] { asked.withLock { $0 } }

    var check: HumanCheck {
        HumanCheck(
            widget: HumanCheck.Widget(
                provider: "turnstile", siteKey: "site-key", scriptURL: "https://challenges.example/api.js",
                elementClass: "cf-turnstile", formField: "cf-turnstile-response",
                origins: ["https://challenges.example"])
        ) { response, clientAddress in
            self.asked.withLock { $0.append("\(response) \(clientAddress ?? "-")") }
            switch self.answer.withLock({ $0 }) {
            case .pass: return true
            case .fail: return false
            case .unreachable: throw ProviderError(provider: "turnstile", detail: "down")
            }
        }
    }
}

@Suite("Sign-up abuse: per-address limits, refused domains, CAPTCHA")
struct SignUpAbuseTests {
    static let address = "203.0.113.7"

    func limited(to limit: Int) -> AccountBench {
        AccountBench(settings: { $0.signUpLimitPerClientAddress = FixedWindowLimit(limit: limit, window: 3600) })
    }

    @Test func signUpsPerClientAddressAreLimitedAndFailedAttemptsCount() async throws {
        let bench = limited(to: 3)
        _ = try await bench.signUp("one@example.com", clientAddress: Self.address)
        _ = try await bench.signUp("two@example.com", clientAddress: Self.address)
        // An address already taken still counts.
        let taken = await refusal { try await bench.signUp("one@example.com", clientAddress: Self.address) }
        #expect(taken == "email_taken")
        let refused = await refusalError { try await bench.signUp("three@example.com", clientAddress: Self.address) }
        #expect(refused?.code == .tooManySignups)
        #expect(refused?.kind == .rateLimited)
        #expect((1...3600).contains(refused?.retryAfterSeconds ?? 0))
        #expect(await refusal { try await bench.logIn("three@example.com") } == "invalid_credentials")
        // Another address, and a request with no address, are not held back.
        _ = try await bench.signUp("three@example.com", clientAddress: "198.51.100.1")
        _ = try await bench.signUp("four@example.com")
    }

    @Test func whatIsRefusedForWhatWasTypedDoesNotCount() async throws {
        let bench = limited(to: 1)
        for email in ["not an address", "ada@example"] {
            let code = await refusal {
                try await bench.service.signUp(
                    email: email, password: AccountBench.password, name: nil, clientAddress: Self.address)
            }
            #expect(code == "invalid_email")
        }
        let weak = await refusal {
            try await bench.service.signUp(
                email: "ada@example.com", password: "short", name: nil, clientAddress: Self.address)
        }
        #expect(weak == "weak_password")
        _ = try await bench.signUp("ada@example.com", clientAddress: Self.address)
    }

    @Test func theLimitLiftsWhenItsHourEnds() async throws {
        let bench = limited(to: 1)
        _ = try await bench.signUp("one@example.com", clientAddress: Self.address)
        let refused = await refusalError { try await bench.signUp("two@example.com", clientAddress: Self.address) }
        #expect(refused?.code == .tooManySignups)
        bench.time.advance(by: TimeInterval(refused?.retryAfterSeconds ?? 3600))
        _ = try await bench.signUp("two@example.com", clientAddress: Self.address)
    }

    @Test func simultaneousSignUpsFromOneAddressMakeNoMoreAccountsThanTheLimit() async throws {
        let bench = limited(to: 5)
        let service = bench.service
        let outcomes = await withTaskGroup(of: String.self) { group in
            for index in 0..<100 {
                group.addTask {
                    let code = await refusal {
                        try await service.signUp(
                            email: "person\(index)@example.com", password: AccountBench.password, name: nil,
                            clientAddress: Self.address)
                    }
                    return code ?? "created"
                }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == "created" }.count == 5)
        #expect(outcomes.filter { $0 == "too_many_signups" }.count == 95)
    }

    @Test func refusedDomainsAndTheirSubdomainsCannotSignUp() async throws {
        let bench = AccountBench(settings: {
            $0.refusedEmailDomains = RefusedEmailDomains([" Mailinator.com", "@tempmail.example", ""])
        })
        for email in ["a@mailinator.com", "b@eu.MAILINATOR.com", "c@tempmail.example"] {
            let refused = await refusalError { try await bench.signUp(email) }
            #expect(refused?.code == .emailDomainNotAllowed, "\(email)")
            #expect(refused?.param == "email", "\(email)")
        }
        _ = try await bench.signUp("d@notmailinator.com")
        _ = try await bench.signUp("e@mailinator.com.example.org")
    }

    @Test func aRequiredCaptchaIsAskedWithTheClientAddressAndItsAnswerDecides() async throws {
        let provider = StubHumanCheck(.pass)
        let bench = AccountBench(humanCheck: provider.check)
        func signUp(_ email: String, response: String?) async -> String? {
            await refusal {
                try await bench.service.signUp(
                    email: email, password: AccountBench.password, name: nil, clientAddress: Self.address,
                    humanCheckResponse: response)
            }
        }
        #expect(await signUp("one@example.com", response: nil) == "captcha_failed")
        #expect(await signUp("one@example.com", response: "") == "captcha_failed")
        #expect(provider.questions.isEmpty)
        #expect(await signUp("one@example.com", response: "token-1") == nil)
        #expect(provider.questions == ["token-1 \(Self.address)"])
        provider.answer.withLock { $0 = .fail }
        #expect(await signUp("two@example.com", response: "token-2") == "captcha_failed")
        provider.answer.withLock { $0 = .unreachable }
        let unavailable = await refusalError {
            try await bench.service.signUp(
                email: "two@example.com", password: AccountBench.password, name: nil, humanCheckResponse: "token-3")
        }
        #expect(unavailable?.code == .captchaUnavailable)
        #expect(unavailable?.kind == .unavailable)
        #expect(await refusal { try await bench.logIn("two@example.com") } == "invalid_credentials")
    }
}
