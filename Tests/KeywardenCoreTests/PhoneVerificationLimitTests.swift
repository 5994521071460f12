import Foundation
import KeywardenCore
import PhoneNumbers
import Testing

@Suite("Phone verification limits")
struct PhoneVerificationLimitTests {
    // MARK: Numbers

    @Test func aNumberThatVerifiesTheMostOrganizationsItMayIsRefused() async throws {
        let bench = VerificationBench()
        let ada = try await bench.owner("ada@example.com")
        let grace = try await bench.owner("grace@example.com")
        let alan = try await bench.owner("alan@example.com")
        try await bench.verify(ada)
        try await bench.verify(grace)
        let sent = bench.sms.sent.count
        let refused = await refusal { try await bench.start(alan) }
        #expect(refused == "phone_number_limit_reached")
        #expect(bench.sms.sent.count == sent)
        #expect(await bench.verifications(of: alan).isEmpty)

        // Ada moves to another number, which frees the first for a third organization.
        let moved = try await bench.verify(ada, number: TestNumbers.britishMobile)
        #expect(moved.status == .approved)
        #expect(await bench.auditEvents(of: ada).last?.type.rawValue == "organization.verification_replaced")
        #expect(try await bench.verify(alan).status == .approved)
    }

    @Test func anApprovalThatWouldPassTheNumbersLimitFailsTheVerification() async throws {
        let bench = VerificationBench()
        let ada = try await bench.owner("ada@example.com")
        let grace = try await bench.owner("grace@example.com")
        let alan = try await bench.owner("alan@example.com")
        try await bench.verify(ada)
        // Both start while the number verifies one organization; only one of them can finish.
        let graces = try await bench.start(grace)
        let alans = try await bench.start(alan)
        #expect(try await bench.check(graces, code: try bench.code(for: graces), by: grace).status == .approved)
        let refused = await refusal { try await bench.check(alans, code: try bench.code(for: alans), by: alan) }
        #expect(refused == "phone_number_limit_reached")
        #expect(try await bench.stored(alans).status == .failed)
        #expect(try await bench.organization(of: alan).verification.status == .unverified)
        let failures = await bench.auditEvents(of: alan).filter { $0.type.rawValue == "phone_verification.failed" }
        #expect(failures.map { $0.details["reason"] } == ["phone_number_limit_reached"])
    }

    @Test func blockedLineTypesAreRefusedBeforeAnySMS() async throws {
        // The metadata's answer: landlines and toll-free numbers are blocked by default.
        let offline = VerificationBench()
        let ada = try await offline.owner()
        for number in [TestNumbers.britishLandline, TestNumbers.usTollFree] {
            let code = await refusal { try await offline.start(ada, number: number) }
            #expect(code == "phone_line_type_not_allowed", "\(number)")
        }
        #expect(offline.sms.sent.isEmpty)
        #expect(await offline.verifications(of: ada).isEmpty)

        // A lookup's answer overrides the metadata's, either way.
        let voip = VerificationBench(lineTypes: .answering(.voip))
        let grace = try await voip.owner()
        let refused = await refusal { try await voip.start(grace) }
        #expect(refused == "phone_line_type_not_allowed")
        #expect(voip.sms.sent.isEmpty)
        let mobile = VerificationBench(lineTypes: .answering(.mobile))
        let alan = try await mobile.owner()
        #expect(try await mobile.start(alan, number: TestNumbers.britishLandline).status == .pending)

        // The operator decides what is blocked.
        let strict = VerificationBench(policy: { _ = $0.blockedLineTypes.insert(.fixedLineOrMobile) })
        let edsger = try await strict.owner()
        let blocked = await refusal { try await strict.start(edsger) }
        #expect(blocked == "phone_line_type_not_allowed")
    }

    @Test func aLookupThatCannotTellOrFailsLeavesTheMetadatasAnswer() async throws {
        for lookup in [LineTypeLookup.answering(nil), .failing] {
            let bench = VerificationBench(lineTypes: lookup)
            let ada = try await bench.owner()
            #expect(try await bench.start(ada).status == .pending, "\(lookup.name)")
            let landline = await refusal { try await bench.start(ada, number: TestNumbers.britishLandline) }
            #expect(landline == "phone_line_type_not_allowed", "\(lookup.name)")
        }
    }

    @Test func numbersFromCountriesOutsideTheAllowedListAreRefused() async throws {
        let bench = VerificationBench(policy: { $0.allowedCountries = ["US"] })
        let ada = try await bench.owner()
        let refused = await refusalError { try await bench.start(ada, number: TestNumbers.britishMobile) }
        #expect(refusalCode(of: refused) == "unsupported_country")
        #expect(refused?.param == "phone_number")
        #expect(bench.sms.sent.isEmpty)
        #expect(try await bench.start(ada).status == .pending)
    }

    @Test func theCountryFieldMustNameAKnownCountry() async throws {
        let bench = VerificationBench()
        let ada = try await bench.owner()
        let unknown = await refusalError {
            try await bench.engine.start(phoneNumber: "2015550123", country: "XX", channel: nil, by: ada)
        }
        #expect(refusalCode(of: unknown) == "unsupported_country")
        #expect(unknown?.param == "country")
        let malformed = await refusal {
            try await bench.engine.start(phoneNumber: "2015550123", country: "USA", channel: nil, by: ada)
        }
        #expect(malformed == "invalid_value")
        // A national number is read in the country named, whatever its case.
        let national = try await bench.engine.start(
            phoneNumber: "(201) 555-0123", country: "us", channel: nil, by: ada)
        #expect(national.maskedPhoneNumber == TestNumbers.usMasked)
        #expect(bench.sms.sent.map(\.to) == [TestNumbers.usE164])
    }

    // MARK: Send caps

    @Test func sendsToOneNumberAreCappedAcrossOrganizations() async throws {
        let bench = VerificationBench(policy: { $0.sendsPerNumberPer10Minutes = 2 })
        let ada = try await bench.owner("ada@example.com")
        let grace = try await bench.owner("grace@example.com")
        let alan = try await bench.owner("alan@example.com")
        _ = try await bench.start(ada)
        _ = try await bench.start(grace)
        let capped = await refusalError { try await bench.start(alan) }
        #expect(refusalCode(of: capped) == "too_many_verification_requests")
        // The clock is 100 seconds into the 10-minute window.
        #expect(capped?.retryAfterSeconds == 500)
        #expect(bench.sms.sent.count == 2)
        #expect(await bench.verifications(of: alan).isEmpty)

        bench.time.advance(by: 500)
        #expect(try await bench.start(alan).status == .pending)
    }

    @Test func aVerificationThatCannotBeStoredGivesItsReservedSendBack() async throws {
        let bench = VerificationBench(policy: { $0.sendsPerOrganizationPerDay = 1 })
        let ada = try await bench.owner()
        // A person the store does not know: storing the verification fails after the send
        // was reserved, and before anything was sent.
        let ghost = User(
            id: .generate(), email: try EmailAddress(normalizing: "ghost@example.com"), name: "",
            createdAt: bench.time.now)
        let failing = PhoneVerificationService.Requester(
            membership: ada.membership, user: ghost, clientAddress: ada.clientAddress)
        await #expect(throws: (any Error).self) { try await bench.start(failing) }
        #expect(bench.sms.sent.isEmpty)
        #expect(try await bench.start(ada).status == .pending)
    }

    @Test func sendsForOneOrganizationAreCappedPerDay() async throws {
        let bench = VerificationBench(policy: { $0.sendsPerOrganizationPerDay = 3 })
        let ada = try await bench.owner()
        let numbers = ["+1 201 555 0101", "+1 201 555 0102", "+1 201 555 0103", "+1 201 555 0104"]
        var live: PhoneVerification?
        for number in numbers.prefix(3) { live = try await bench.start(ada, number: number) }
        let capped = await refusalError { try await bench.start(ada, number: numbers[3]) }
        #expect(refusalCode(of: capped) == "too_many_verification_requests")
        // The clock is 100 seconds into the day.
        #expect(capped?.retryAfterSeconds == 86_300)
        #expect(bench.sms.sent.count == 3)
        // The refusal came before anything changed: the last verification is still live.
        let last = try #require(live)
        #expect(try await bench.stored(last).status == .pending)

        bench.time.advance(by: 86_300)
        #expect(try await bench.start(ada, number: numbers[3]).status == .pending)
    }

    @Test func aFailedSendFailsTheVerificationAndUsesUpNoCap() async throws {
        let bench = VerificationBench(policy: { $0.sendsPerNumberPer10Minutes = 1 })
        let ada = try await bench.owner()
        bench.sms.failing.withLock { $0 = true }
        for _ in 0..<3 {
            let failed = await refusalError { try await bench.start(ada) }
            #expect(refusalCode(of: failed) == "sms_provider_unavailable")
            #expect(failed?.retryAfterSeconds == 30)
        }
        let failures = await bench.verifications(of: ada)
        #expect(failures.map(\.status) == [.failed, .failed, .failed])
        #expect(failures.allSatisfy { $0.sealedPhoneNumber == nil && $0.sealedCode == nil })

        bench.sms.failing.withLock { $0 = false }
        #expect(try await bench.start(ada).status == .pending)
        #expect(bench.sms.sent.count == 1)
    }

    @Test func aPrefixWithManySendsAndFewApprovalsIsPaused() async throws {
        let bench = VerificationBench(policy: { $0.prefixGuard.minimumSends = 3 })
        let ada = try await bench.owner()
        for number in ["+1 201 555 0110", "+1 201 555 0111", "+1 201 555 0112"] {
            _ = try await bench.start(ada, number: number)
        }
        let paused = await refusal { try await bench.start(ada, number: "+1 201 555 0199") }
        #expect(paused == "too_many_verification_requests")
        #expect(bench.sms.sent.count == 3)
        // Another prefix is unaffected.
        #expect(try await bench.start(ada, number: TestNumbers.britishMobile).status == .pending)
    }
}
