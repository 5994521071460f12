import Foundation
import KeywardenCore
import KeywardenServer
import Synchronization
import Testing

/// A clock that stands still until a test moves it.
final class ManualClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_750_000_000))

    var clock: Clock { Clock(now: { self.current.withLock { $0 } }) }

    /// The time it shows.
    var now: Date { current.withLock { $0 } }

    func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}

@Suite("Account service")
struct AccountServiceTests {
    @Test func failedLoginsAreThrottledPerClientAddressAcrossEmails() async throws {
        try await withServices(configure: { $0.accounts.loginAttemptsPerAddress = 2 }) { services in
            let accounts = services.accounts
            for email in ["one@example.com", "two@example.com"] {
                await #expect(throws: DomainError.self) {
                    try await accounts.logIn(email: email, password: "whatever123", clientAddress: "203.0.113.7")
                }
            }
            let error = await #expect(throws: DomainError.self) {
                try await accounts.logIn(
                    email: "three@example.com", password: "whatever123", clientAddress: "203.0.113.7")
            }
            #expect(error?.code == .tooManyLoginAttempts)
            #expect(error?.retryAfterSeconds != nil)
            // Another address is not affected.
            let other = await #expect(throws: DomainError.self) {
                try await accounts.logIn(
                    email: "three@example.com", password: "whatever123", clientAddress: "198.51.100.1")
            }
            #expect(other?.code == .invalidCredentials)
        }
    }

    @Test func simultaneousWrongPasswordsAreCheckedNoMoreTimesThanTheLimit() async throws {
        try await withServices(configure: { $0.accounts.loginAttemptsPerAccount = 3 }) { services in
            _ = try await services.accounts.signUp(
                email: "ada@example.com", password: "correct horse battery", name: nil)
            let codes = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<12 {
                    group.addTask {
                        do {
                            _ = try await services.accounts.logIn(
                                email: "ada@example.com", password: "wrong password", clientAddress: nil)
                            return "signed in"
                        } catch let error as DomainError {
                            return error.code.rawValue
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            // Only three guesses were weighed; the other nine were turned away unchecked.
            #expect(codes.filter { $0 == "invalid_credentials" }.count == 3)
            #expect(codes.filter { $0 == "too_many_login_attempts" }.count == 9)
        }
    }

    @Test func aSuccessfulSignInDoesNotUseUpTheBudget() async throws {
        try await withServices(configure: { $0.accounts.loginAttemptsPerAccount = 2 }) { services in
            _ = try await services.accounts.signUp(
                email: "ada@example.com", password: "correct horse battery", name: nil)
            for _ in 0..<5 {
                _ = try await services.accounts.logIn(
                    email: "ada@example.com", password: "correct horse battery", clientAddress: nil)
            }
            await #expect(throws: DomainError.self) {
                try await services.accounts.logIn(
                    email: "ada@example.com", password: "wrong password", clientAddress: nil)
            }
            let (user, _) = try #require(
                try await services.accounts.logIn(
                    email: "ada@example.com", password: "correct horse battery", clientAddress: nil
                ).session)
            #expect(user.email.value == "ada@example.com")
        }
    }

    @Test func throttleLiftsWhenItsWindowEnds() async throws {
        let time = ManualClock()
        try await withServices(clock: time.clock, configure: { $0.accounts.loginAttemptsPerAccount = 1 }) { services in
            _ = try await services.accounts.signUp(
                email: "ada@example.com", password: "correct horse battery", name: nil)
            await #expect(throws: DomainError.self) {
                try await services.accounts.logIn(
                    email: "ada@example.com", password: "wrong password", clientAddress: nil)
            }
            let throttled = await #expect(throws: DomainError.self) {
                try await services.accounts.logIn(
                    email: "ada@example.com", password: "correct horse battery", clientAddress: nil)
            }
            #expect(throttled?.code == .tooManyLoginAttempts)
            time.advance(by: 901)
            let (user, _) = try #require(
                try await services.accounts.logIn(
                    email: "ada@example.com", password: "correct horse battery", clientAddress: nil
                ).session)
            #expect(user.email.value == "ada@example.com")
        }
    }

    @Test func sessionUnusedForTheIdleTimeoutEnds() async throws {
        let time = ManualClock()
        try await withServices(clock: time.clock, configure: { $0.accounts.sessionIdleTimeout = 3600 }) { services in
            let token = try await services.accounts.signUp(
                email: "ada@example.com", password: "correct horse battery", name: "Ada"
            ).token
            time.advance(by: 3000)
            let active = try await services.accounts.authenticate(token: token.value)
            #expect(active != nil)
            // Use at 3000 s moved the idle deadline to 6600 s.
            time.advance(by: 3000)
            let stillActive = try await services.accounts.authenticate(token: token.value)
            #expect(stillActive != nil)
            time.advance(by: 3601)
            let idle = try await services.accounts.authenticate(token: token.value)
            #expect(idle == nil)
        }
    }

    @Test func sessionEndsAtItsLifetimeHoweverActive() async throws {
        let time = ManualClock()
        try await withServices(
            clock: time.clock,
            configure: {
                $0.accounts.sessionIdleTimeout = 3600
                $0.accounts.sessionLifetime = 7200
            }
        ) { services in
            let token = try await services.accounts.signUp(
                email: "ada@example.com", password: "correct horse battery", name: nil
            ).token
            for _ in 0..<3 {
                time.advance(by: 2000)
                _ = try await services.accounts.authenticate(token: token.value)
            }
            time.advance(by: 1300)
            let expired = try await services.accounts.authenticate(token: token.value)
            #expect(expired == nil)
        }
    }

    @Test func passwordsBeyondBcryptsSeventyTwoBytesStillCount() async throws {
        try await withServices { services in
            let long = String(repeating: "a", count: 100)
            _ = try await services.accounts.signUp(email: "ada@example.com", password: long + "1", name: nil)
            let error = await #expect(throws: DomainError.self) {
                try await services.accounts.logIn(email: "ada@example.com", password: long + "2", clientAddress: nil)
            }
            #expect(error?.code == .invalidCredentials)
        }
    }
}
