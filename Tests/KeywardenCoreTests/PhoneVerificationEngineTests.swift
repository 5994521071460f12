import Foundation
import KeywardenCore
import Testing

@Suite("Phone verification engine")
struct PhoneVerificationEngineTests {
    let opening = VerificationBench.opening

    // MARK: Start and check

    @Test func theRightCodeApprovesTheVerificationAndVerifiesTheOrganization() async throws {
        let bench = VerificationBench()
        let ada = try await bench.owner()
        let started = try await bench.start(ada)
        #expect(started.status == .pending)
        #expect(started.maskedPhoneNumber == TestNumbers.usMasked)
        #expect(started.country == "US")
        #expect(started.attempts == 0)
        #expect(started.sends == 1)
        #expect(started.expiresAt == opening.addingTimeInterval(600))
        #expect(started.nextResendAt == opening.addingTimeInterval(30))
        #expect(bench.sms.sent.map(\.to) == [TestNumbers.usE164])
        #expect(bench.sms.sent.first?.verificationID == started.id)
        let code = try bench.code(for: started)
        // Storage holds the number sealed and the code as a digest, never in the clear.
        #expect(started.sealedPhoneNumber?.contains("2015550123") == false)
        #expect(started.codeDigest != nil && started.codeDigest != code)
        #expect(started.sealedCode != code)

        bench.time.advance(by: 10)
        let approved = try await bench.check(started, code: code, by: ada)
        let approvedAt = opening.addingTimeInterval(10)
        #expect(approved.status == .approved)
        #expect(approved.approvedAt == approvedAt)
        #expect(approved.attempts == 1)
        #expect(approved.sealedPhoneNumber == nil)
        #expect(approved.sealedCode == nil)
        #expect(
            try await bench.organization(of: ada).verification
                == OrganizationVerification(
                    status: .verified, method: "phone", verifiedAt: approvedAt,
                    maskedPhoneNumber: TestNumbers.usMasked))
        #expect(try await bench.repositories.verifications.userHasApprovedVerification(ada.user.id))
        let events = await bench.auditEvents(of: ada)
        #expect(events.map(\.type.rawValue) == ["phone_verification.started", "phone_verification.approved"])
        #expect(events.allSatisfy { $0.actor == .session(ada.user, ipAddress: "203.0.113.9") })
        let details = events.flatMap(\.details.values)
        #expect(!details.contains { value in value.contains("2015550123") || value.contains(code) })
    }

    @Test func wrongCodesCountDownToMaxAttempts() async throws {
        let bench = VerificationBench()
        let ada = try await bench.owner()
        let started = try await bench.start(ada)
        let wrong = try bench.wrongCode(for: started)
        for remaining in (1...4).reversed() {
            let error = await refusalError { try await bench.check(started, code: wrong, by: ada) }
            #expect(refusalCode(of: error) == "incorrect_code")
            #expect(error?.message.contains("You have \(remaining) attempt") == true)
        }
        let last = await refusal { try await bench.check(started, code: wrong, by: ada) }
        #expect(last == "max_attempts_reached")
        let right = await refusal { try await bench.check(started, code: try bench.code(for: started), by: ada) }
        #expect(right == "max_attempts_reached")

        let stored = try await bench.stored(started)
        #expect(stored.status == .maxAttemptsReached)
        #expect(stored.attempts == bench.engine.maxChecks)
        #expect(stored.sealedPhoneNumber == nil)
        #expect(try await bench.organization(of: ada).verification.status == .unverified)
        let failures = await bench.auditEvents(of: ada).filter { $0.type.rawValue == "phone_verification.failed" }
        #expect(failures.map { $0.details["reason"] } == ["max_attempts_reached"])
    }

    @Test func aMalformedCodeUsesNoAttempt() async throws {
        let bench = VerificationBench()
        let ada = try await bench.owner()
        let started = try await bench.start(ada)
        let error = await refusalError { try await bench.check(started, code: "12ab", by: ada) }
        #expect(refusalCode(of: error) == "invalid_value")
        #expect(error?.param == "code")
        #expect(try await bench.stored(started).attempts == 0)
    }

    @Test func aCodeExpiresTenMinutesAfterTheStart() async throws {
        let bench = VerificationBench()
        let ada = try await bench.owner()
        let started = try await bench.start(ada)
        let code = try bench.code(for: started)
        bench.time.advance(by: 599)
        let wrong = try bench.wrongCode(for: started)
        let lastMoment = await refusal { try await bench.check(started, code: wrong, by: ada) }
        #expect(lastMoment == "incorrect_code")

        bench.time.advance(by: 1)
        let late = await refusal { try await bench.check(started, code: code, by: ada) }
        #expect(late == "verification_expired")
        let resend = await refusal { try await bench.resend(started, by: ada) }
        #expect(resend == "verification_expired")
        let stored = try await bench.stored(started)
        #expect(stored.status == .expired)
        #expect(stored.sealedPhoneNumber == nil)
        #expect(stored.sealedCode == nil)
        let expiries = await bench.auditEvents(of: ada).filter { $0.type.rawValue == "phone_verification.expired" }
        #expect(expiries.map(\.actor) == [.system])
        #expect(try await bench.organization(of: ada).verification.status == .unverified)
    }

    @Test func theSweeperExpiresForgottenVerificationsOnce() async throws {
        let bench = VerificationBench()
        let ada = try await bench.owner()
        let started = try await bench.start(ada)
        #expect(try await bench.engine.expireStale() == 0)
        bench.time.advance(by: 600)
        #expect(try await bench.engine.expireStale() == 1)
        #expect(try await bench.engine.expireStale() == 0)
        #expect(try await bench.stored(started).status == .expired)
        let types = await bench.auditEvents(of: ada).map(\.type.rawValue)
        #expect(types == ["phone_verification.started", "phone_verification.expired"])
    }

    // MARK: Resend

    @Test func resendRepeatsTheCodeAfterACooldownThatDoubles() async throws {
        let bench = VerificationBench()
        let ada = try await bench.owner()
        let started = try await bench.start(ada)
        let code = try bench.code(for: started)
        let early = await refusalError { try await bench.resend(started, by: ada) }
        #expect(refusalCode(of: early) == "resend_too_soon")
        #expect(early?.retryAfterSeconds == 30)
        #expect(bench.sms.sent.count == 1)

        bench.time.advance(by: 30)
        let resent = try await bench.resend(started, by: ada)
        #expect(resent.sends == 2)
        #expect(resent.nextResendAt == bench.time.now.addingTimeInterval(60))
        #expect(bench.sms.sent.count == 2)
        #expect(try bench.code(for: started) == code)
        let again = await refusalError { try await bench.resend(started, by: ada) }
        #expect(refusalCode(of: again) == "resend_too_soon")
        #expect(again?.retryAfterSeconds == 60)

        // Starting again for the same number resends the live code, under the same cooldown.
        bench.time.advance(by: 60)
        let restarted = try await bench.start(ada)
        #expect(restarted.id == started.id)
        #expect(restarted.sends == 3)
        #expect(restarted.nextResendAt == bench.time.now.addingTimeInterval(120))
        #expect(try bench.code(for: started) == code)
        let tooSoon = await refusal { try await bench.start(ada) }
        #expect(tooSoon == "resend_too_soon")
        #expect(await bench.verifications(of: ada).count == 1)
        #expect(bench.sms.sent.count == 3)
        let types = await bench.auditEvents(of: ada).map(\.type.rawValue)
        #expect(types == ["phone_verification.started", "phone_verification.resent", "phone_verification.resent"])
    }

    // MARK: One organization, many verifications

    @Test func aVerifiedOrganizationMayVerifyAgainAndStaysVerifiedMeanwhile() async throws {
        let bench = VerificationBench()
        let ada = try await bench.owner()
        let first = try await bench.verify(ada)
        let before = try await bench.organization(of: ada).verification

        // The engine does not refuse an organization that is already verified.
        bench.time.advance(by: 60)
        let again = try await bench.start(ada)
        #expect(again.id != first.id)
        #expect(again.status == .pending)
        #expect(try await bench.organization(of: ada).verification == before)

        // Its approval replaces the organization's verification; the number still counts it once.
        let approved = try await bench.check(again, code: try bench.code(for: again), by: ada)
        #expect(approved.status == .approved)
        #expect(try await bench.organization(of: ada).verification.verifiedAt == bench.time.now)
        let types = await bench.auditEvents(of: ada).map(\.type.rawValue)
        #expect(Array(types.suffix(2)) == ["phone_verification.approved", "organization.verification_replaced"])
        let organizations = try await bench.repositories.verifications.organizationsVerified(
            withPhoneDigest: approved.phoneDigest, excluding: .generate())
        #expect(organizations == 1)
    }

    @Test func startingAnotherNumberCancelsThePendingVerification() async throws {
        let bench = VerificationBench()
        let ada = try await bench.owner()
        let first = try await bench.start(ada)
        let firstCode = try bench.code(for: first)
        let second = try await bench.start(ada, number: TestNumbers.britishMobile)
        let canceled = try await bench.stored(first)
        #expect(canceled.status == .canceled)
        #expect(canceled.sealedPhoneNumber == nil)
        #expect(canceled.sealedCode == nil)
        let late = await refusal { try await bench.check(first, code: firstCode, by: ada) }
        #expect(late == "verification_not_pending")
        #expect(try await bench.stored(second).status == .pending)
    }

    @Test func readersCannotStartCheckOrResend() async throws {
        let bench = VerificationBench()
        let ada = try await bench.owner("ada@example.com")
        let graceAccount = try await bench.repositories.signUp("grace@example.com", at: bench.time.now)
        let organization = ada.membership.organization.id
        try await bench.repositories.database.addMember(
            graceAccount.user.id, to: organization, role: .reader, at: bench.time.now)
        let grace = try await bench.requester(graceAccount.user, in: organization)
        let started = try await bench.start(ada)
        let code = try bench.code(for: started)
        var codes: [String?] = []
        codes.append(await refusal { try await bench.start(grace) })
        codes.append(await refusal { try await bench.check(started, code: code, by: grace) })
        codes.append(await refusal { try await bench.resend(started, by: grace) })
        #expect(codes == Array(repeating: "insufficient_permissions", count: 3))
        #expect(bench.sms.sent.count == 1)
        #expect(try await bench.stored(started).attempts == 0)
    }

    // MARK: Remote codes

    @Test func aRemoteProviderIsAskedOnlyAfterTheCheckIsCounted() async throws {
        let verifier = RecordingVerifier(acceptedCode: "424242")
        let bench = VerificationBench(delivery: verifier.delivery)
        let ada = try await bench.owner()
        let started = try await bench.start(ada)
        #expect(started.codeDigest == nil)
        #expect(started.sealedCode == nil)
        #expect(verifier.starts == [TestNumbers.usE164])
        #expect(bench.sms.sent.isEmpty)

        let wrong = await refusal { try await bench.check(started, code: "111111", by: ada) }
        #expect(wrong == "incorrect_code")
        #expect(try await bench.stored(started).attempts == 1)
        let approved = try await bench.check(started, code: "424242", by: ada)
        #expect(approved.status == .approved)
        #expect(approved.attempts == 2)
        #expect(verifier.checks == ["\(TestNumbers.usE164) 111111", "\(TestNumbers.usE164) 424242"])
        #expect(try await bench.organization(of: ada).verification.status == .verified)
    }
}
