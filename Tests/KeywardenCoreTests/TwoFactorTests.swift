import Foundation
import KeywardenCore
import Testing

/// The secret behind an enrolment, read back from its setup key as an authenticator app does.
func secret(of enrolment: TwoFactorEnrolment) -> TOTPSecret {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    var bytes: [UInt8] = []
    var buffer = 0
    var bits = 0
    for character in enrolment.setupKey where character != " " {
        buffer = (buffer << 5) | (alphabet.firstIndex(of: character) ?? 0)
        bits += 5
        if bits >= 8 {
            bytes.append(UInt8((buffer >> (bits - 8)) & 0xFF))
            bits -= 8
        }
    }
    return TOTPSecret(text: String(decoding: bytes, as: UTF8.self))
}

extension AccountBench {
    /// The current code of the app set up with `secret`.
    func code(_ secret: TOTPSecret) -> String {
        secret.code(atStep: TOTPSecret.step(at: time.now))
    }

    /// Signs a person up and turns two-factor authentication on; the secret and the recovery codes.
    func signUpWithTwoFactor(
        _ email: String = "ada@example.com"
    ) async throws -> (SignUpResult, TOTPSecret, [String]) {
        let account = try await signUp(email)
        let enrolment = try await service.beginTwoFactorEnrolment(for: account.user, session: nil)
        let secret = secret(of: enrolment)
        let codes = try await service.confirmTwoFactor(code: code(secret), for: account.user, clientAddress: nil)
        time.advance(by: 30)
        return (account, secret, codes)
    }

    /// The challenge a right password earns with two-factor authentication on.
    func challenge(_ email: String = "ada@example.com") async throws -> String {
        guard
            case .secondFactorRequired(let challenge) = try await service.logIn(
                email: email, password: Self.password, clientAddress: nil)
        else {
            Issue.record("sign-in did not ask for a code")
            return ""
        }
        return challenge.token
    }
}

@Suite("Two-factor authentication: enrolment, sign-in, recovery codes, step-up")
struct TwoFactorTests {
    @Test func theCodesFollowRFC6238() {
        // RFC 6238's SHA-1 secret and times, cut to six digits.
        let secret = TOTPSecret(text: "12345678901234567890")
        #expect(secret.code(atStep: TOTPSecret.step(at: Date(timeIntervalSince1970: 59))) == "287082")
        #expect(secret.code(atStep: TOTPSecret.step(at: Date(timeIntervalSince1970: 1_111_111_109))) == "081804")
        #expect(secret.code(atStep: TOTPSecret.step(at: Date(timeIntervalSince1970: 2_000_000_000))) == "279037")
    }

    @Test func aNewSecretHas160RandomBitsAndAnAuthenticatorURL() {
        let secret = TOTPSecret.generate()
        #expect(secret.text.count == 32)
        #expect(secret.text != TOTPSecret.generate().text)
        let url = secret.authenticatorURL(account: "ada@example.com")
        #expect(url.hasPrefix("otpauth://totp/Keywarden:ada"))
        #expect(url.contains("secret=" + secret.setupKey.replacingOccurrences(of: " ", with: "")))
        #expect(url.contains("issuer=Keywarden"))
    }

    @Test func aCodeFromTheAppTurnsItOnAndGivesTenSingleUseRecoveryCodes() async throws {
        let bench = AccountBench()
        let account = try await bench.signUp()
        let enrolment = try await bench.service.beginTwoFactorEnrolment(for: account.user, session: nil)
        #expect(try await bench.service.twoFactorStatus(of: account.user).enrolmentPending)
        #expect(
            await refusal {
                try await bench.service.confirmTwoFactor(code: "000000", for: account.user, clientAddress: nil)
            } == "incorrect_code")
        let codes = try await bench.service.confirmTwoFactor(
            code: bench.code(secret(of: enrolment)), for: account.user, clientAddress: nil)
        #expect(codes.count == 10)
        #expect(Set(codes).count == 10)
        let status = try await bench.service.twoFactorStatus(of: account.user)
        #expect(status.enabled && status.unusedRecoveryCodes == 10 && !status.enrolmentPending)
        #expect(await bench.auditTypes(of: account.organization.id).contains("mfa.enabled"))
        #expect(
            await refusal { try await bench.service.beginTwoFactorEnrolment(for: account.user, session: nil) }
                == "mfa_already_enabled")
    }

    @Test func signInAsksForACodeAfterThePasswordAndTheRightCodeStartsASession() async throws {
        let bench = AccountBench()
        let (account, secret, _) = try await bench.signUpWithTwoFactor()
        let challenge = try await bench.challenge()
        #expect(
            await refusal {
                try await bench.service.completeLogIn(challenge: challenge, code: "123456", clientAddress: nil)
            } == "incorrect_code")
        let (user, token) = try await bench.service.completeLogIn(
            challenge: challenge, code: bench.code(secret), clientAddress: nil)
        #expect(user.id == account.user.id)
        #expect(try await bench.session(token) != nil)
        bench.time.advance(by: 30)
        // The challenge was used up with the session it started.
        #expect(
            await refusal {
                try await bench.service.completeLogIn(
                    challenge: challenge, code: bench.code(secret), clientAddress: nil)
            } == "invalid_token")
    }

    @Test func aCodeIsNeverAcceptedTwice() async throws {
        let bench = AccountBench()
        let (_, secret, _) = try await bench.signUpWithTwoFactor()
        let code = bench.code(secret)
        _ = try await bench.service.completeLogIn(
            challenge: try await bench.challenge(), code: code, clientAddress: nil)
        let again = try await bench.challenge()
        #expect(
            await refusal { try await bench.service.completeLogIn(challenge: again, code: code, clientAddress: nil) }
                == "incorrect_code")
    }

    @Test func codesOneStepEitherSideOfNowAreAcceptedAndTwoStepsAreNot() async throws {
        let bench = AccountBench()
        let (_, secret, _) = try await bench.signUpWithTwoFactor()
        // The code that turned it on is two steps back: the steps tried here are all unused.
        bench.time.advance(by: 30)
        let now = TOTPSecret.step(at: bench.time.now)
        for (step, accepted) in [(now - 2, false), (now + 2, false), (now - 1, true), (now + 1, true)] {
            let challenge = try await bench.challenge()
            let outcome = await refusal {
                try await bench.service.completeLogIn(
                    challenge: challenge, code: secret.code(atStep: step), clientAddress: nil)
            }
            #expect((outcome == nil) == accepted, "step \(step - now)")
        }
    }

    @Test func aRecoveryCodeSignsInOnceAndThenNoMore() async throws {
        let bench = AccountBench()
        let (account, _, codes) = try await bench.signUpWithTwoFactor()
        let typed = codes[3].uppercased().replacingOccurrences(of: "-", with: " ")
        _ = try await bench.service.completeLogIn(
            challenge: try await bench.challenge(), code: typed, clientAddress: nil)
        #expect(try await bench.service.twoFactorStatus(of: account.user).unusedRecoveryCodes == 9)
        let again = try await bench.challenge()
        #expect(
            await refusal {
                try await bench.service.completeLogIn(challenge: again, code: codes[3], clientAddress: nil)
            }
                == "incorrect_code")
        #expect(await bench.auditTypes(of: account.organization.id).contains("mfa.recovery_code_used"))
    }

    @Test func wrongCodesAreThrottledSoEvenTheRightOneWaits() async throws {
        let bench = AccountBench()
        let (_, secret, _) = try await bench.signUpWithTwoFactor()
        let challenge = try await bench.challenge()
        for _ in 0..<5 {
            _ = await refusal {
                try await bench.service.completeLogIn(challenge: challenge, code: "000000", clientAddress: nil)
            }
        }
        let throttled = await refusalError {
            try await bench.service.completeLogIn(challenge: challenge, code: bench.code(secret), clientAddress: nil)
        }
        #expect(refusalCode(of: throttled) == "too_many_mfa_attempts")
        #expect((throttled?.retryAfterSeconds ?? 0) > 0)
    }

    @Test func theChallengeEndsAfterFiveMinutes() async throws {
        let bench = AccountBench()
        let (_, secret, _) = try await bench.signUpWithTwoFactor()
        let challenge = try await bench.challenge()
        bench.time.advance(by: 301)
        #expect(
            await refusal {
                try await bench.service.completeLogIn(
                    challenge: challenge, code: bench.code(secret), clientAddress: nil)
            } == "invalid_token")
        #expect(
            await refusal {
                try await bench.service.completeLogIn(
                    challenge: String(repeating: "x", count: 5000), code: "000000", clientAddress: nil)
            } == "invalid_token")
    }

    @Test func aStaleSessionMustConfirmWithItsPasswordOrACodeBeforeSensitiveActions() async throws {
        let bench = AccountBench()
        let (account, secret, _) = try await bench.signUpWithTwoFactor()
        var session = try #require(try await bench.session(account.token)).session
        try bench.service.requireRecentSignIn(session)
        bench.time.advance(by: 601)
        session = try #require(try await bench.session(account.token)).session
        #expect(await refusal { try bench.service.requireRecentSignIn(session) } == "reauthentication_required")
        #expect(
            await refusal {
                try await bench.service.disableTwoFactor(
                    code: bench.code(secret), for: account.user, session: session, clientAddress: nil)
            } == "reauthentication_required")
        let wrong = await refusalError {
            try await bench.service.reauthenticate(
                session: session, user: account.user, password: "not my password", code: nil, clientAddress: nil)
        }
        #expect(refusalCode(of: wrong) == "invalid_credentials")
        #expect(wrong?.param == "password")
        #expect(
            await refusal {
                try await bench.service.reauthenticate(
                    session: session, user: account.user, password: nil, code: nil, clientAddress: nil)
            } == "missing_required_parameter")
        _ = try await bench.service.reauthenticate(
            session: session, user: account.user, password: nil, code: bench.code(secret), clientAddress: nil)
        session = try #require(try await bench.session(account.token)).session
        try bench.service.requireRecentSignIn(session)
        bench.time.advance(by: 601)
        session = try #require(try await bench.session(account.token)).session
        _ = try await bench.service.reauthenticate(
            session: session, user: account.user, password: AccountBench.password, code: nil, clientAddress: nil)
        session = try #require(try await bench.session(account.token)).session
        try bench.service.requireRecentSignIn(session)
        #expect(await bench.auditTypes(of: account.organization.id).contains("session.reauthenticated"))
    }

    @Test func turningItOffNeedsACurrentCodeAndSignInThenAsksForNone() async throws {
        let bench = AccountBench()
        let (account, secret, _) = try await bench.signUpWithTwoFactor()
        #expect(
            await refusal {
                try await bench.service.disableTwoFactor(
                    code: "000000", for: account.user, session: nil, clientAddress: nil)
            } == "incorrect_code")
        try await bench.service.disableTwoFactor(
            code: bench.code(secret), for: account.user, session: nil, clientAddress: nil)
        #expect(try await bench.service.twoFactorStatus(of: account.user).enabled == false)
        #expect(
            try await bench.service.logIn(email: "ada@example.com", password: AccountBench.password, clientAddress: nil)
                .session != nil)
        #expect(await bench.auditTypes(of: account.organization.id).contains("mfa.disabled"))
    }

    @Test func newRecoveryCodesReplaceTheOldOnes() async throws {
        let bench = AccountBench()
        let (account, _, old) = try await bench.signUpWithTwoFactor()
        let fresh = try await bench.service.regenerateRecoveryCodes(for: account.user, session: nil, clientAddress: nil)
        #expect(Set(fresh).isDisjoint(with: old))
        let challenge = try await bench.challenge()
        #expect(
            await refusal {
                try await bench.service.completeLogIn(challenge: challenge, code: old[0], clientAddress: nil)
            }
                == "incorrect_code")
        _ = try await bench.service.completeLogIn(challenge: challenge, code: fresh[0], clientAddress: nil)
    }

    @Test func theSecretIsStoredSealedAndRecoveryCodesAsDigests() async throws {
        let bench = AccountBench()
        let (account, secret, codes) = try await bench.signUpWithTwoFactor()
        let stored = try #require(try await bench.repositories.twoFactor.credential(of: account.user.id))
        #expect(!stored.sealedSecret.contains(secret.text))
        let sealer = TOTPSecretSealer(serverSecret: "keywarden-core-tests-secret")
        #expect(try sealer.open(stored.sealedSecret, for: account.user.id) == secret)
        #expect(throws: (any Error).self) { try sealer.open(stored.sealedSecret, for: UserID.generate()) }
        #expect(throws: (any Error).self) {
            try TOTPSecretSealer(serverSecret: "another").open(stored.sealedSecret, for: account.user.id)
        }
        let digests = await bench.repositories.database.transaction { tables in tables.recoveryCodes.map(\.digest) }
        #expect(digests.count == 10)
        for code in codes { #expect(!digests.contains { $0.contains(code.replacingOccurrences(of: "-", with: "")) }) }
    }
}
