import Foundation
import KeywardenCore
import Synchronization
import Testing

@Suite("Prefix guard rules")
struct PrefixGuardRulesTests {
    @Test func prefixesAreTidiedAndMustBeAPlusAndDigits() {
        #expect(PrefixRule.normalized("+44 79") == "+4479")
        #expect(PrefixRule.normalized("44-79") == "+4479")
        #expect(PrefixRule.normalized("+1 (201)") == "+1201")
        #expect(PrefixRule.normalized("+") == nil)
        #expect(PrefixRule.normalized("+0123") == nil)
        #expect(PrefixRule.normalized("+44a") == nil)
        #expect(PrefixRule.normalized("+1234567890123456") == nil)
        #expect(PrefixRule.normalized("") == nil)
    }

    @Test func theLongestMatchingRuleDecides() {
        let now = Date(timeIntervalSince1970: 0)
        let rules = [
            PrefixRule(prefix: "+44", kind: .blocked, reason: "", createdAt: now, createdBy: "op@example.com"),
            PrefixRule(prefix: "+4474", kind: .safe, reason: "", createdAt: now, createdBy: "op@example.com"),
        ]
        #expect(rules.rule(for: "+447400123456")?.kind == .safe)
        #expect(rules.rule(for: "+442079460018")?.kind == .blocked)
        #expect(rules.rule(for: "+12015550123") == nil)
    }

    @Test func aBlockedPrefixIsRefusedBeforeAnyCodeIsSent() async throws {
        let bench = VerificationBench()
        let ada = try await bench.owner()
        try await bench.prefixRules.setRule(
            PrefixRule(prefix: "+44", kind: .blocked, reason: "pumping", createdAt: bench.time.now, createdBy: "op"))
        #expect(
            await refusal { try await bench.start(ada, number: TestNumbers.britishMobile) } == "phone_prefix_blocked")
        #expect(bench.sms.sent.isEmpty)
        #expect(try await bench.start(ada).status == .pending)
    }

    @Test func aBlockedRangeCostsNoLineTypeLookup() async throws {
        let lookups = Mutex(0)
        let bench = VerificationBench(
            lineTypes: LineTypeLookup(name: "paid") { number in
                lookups.withLock { $0 += 1 }
                return number.type
            })
        let ada = try await bench.owner()
        try await bench.prefixRules.setRule(
            PrefixRule(prefix: "+4474", kind: .blocked, reason: "", createdAt: bench.time.now, createdBy: "op"))
        #expect(
            await refusal { try await bench.start(ada, number: TestNumbers.britishMobile) } == "phone_prefix_blocked")
        #expect(lookups.withLock { $0 } == 0)
        _ = try await bench.start(ada)
        #expect(lookups.withLock { $0 } == 1)
    }

    @Test func aSafePrefixIsNeverPaused() async throws {
        let bench = VerificationBench(policy: { $0.prefixGuard.minimumSends = 3 })
        let ada = try await bench.owner()
        try await bench.prefixRules.setRule(
            PrefixRule(prefix: "+1201", kind: .safe, reason: "our office", createdAt: bench.time.now, createdBy: "op"))
        for number in ["+1 201 555 0110", "+1 201 555 0111", "+1 201 555 0112", "+1 201 555 0113"] {
            _ = try await bench.start(ada, number: number)
        }
        #expect(bench.sms.sent.count == 4)
    }

    @Test func anAutomaticPauseIsRecordedAndLiftingItLetsSendsThroughUntilItWouldHaveEnded() async throws {
        let bench = VerificationBench(policy: { $0.prefixGuard.minimumSends = 3 })
        let ada = try await bench.owner()
        for number in ["+1 201 555 0110", "+1 201 555 0111", "+1 201 555 0112"] {
            _ = try await bench.start(ada, number: number)
        }
        #expect(
            await refusal { try await bench.start(ada, number: "+1 201 555 0199") } == "too_many_verification_requests")
        let pause = try #require(try await bench.prefixRules.pause(prefix: "+1201"))
        #expect(pause.isActive(at: bench.time.now))
        #expect(pause.reason.contains("3 sends and 0 approvals"))

        #expect(try await bench.prefixRules.liftPause(prefix: "+1201", by: "op@example.com", at: bench.time.now))
        #expect(try await bench.start(ada, number: "+1 201 555 0199").status == .pending)

        // Once the pause would have ended, the guard judges the prefix again.
        bench.time.advance(by: pause.until.timeIntervalSince(bench.time.now) + 1)
        for number in ["+1 201 555 0120", "+1 201 555 0121", "+1 201 555 0122"] {
            _ = try? await bench.start(ada, number: number)
        }
        #expect(
            await refusal { try await bench.start(ada, number: "+1 201 555 0198") } == "too_many_verification_requests")
    }
}

@Suite("Verification insights")
struct VerificationInsightsTests {
    @Test func startsSendsApprovalsAndRefusalsAreCountedByCountry() async throws {
        let bench = VerificationBench()
        let ada = try await bench.owner()
        let started = try await bench.start(ada)
        bench.time.advance(by: 31)
        _ = try await bench.resend(started, by: ada)
        _ = try await bench.check(started, code: try bench.code(for: started), by: ada)
        let grace = try await bench.owner("grace@example.com")
        #expect(await refusal { try await bench.start(grace, number: TestNumbers.britishLandline) } != nil)
        #expect(await refusal { try await bench.start(grace, number: "12") } != nil)

        let counts = try await bench.stats.counts(from: bench.time.now.addingTimeInterval(-86_400))
        #expect(counts["US"] == ["started": 1, "sent.sms": 2, "approved": 1])
        #expect(counts["GB"] == ["refused.phone_line_type_not_allowed": 1])
        #expect(counts["ZZ"]?.keys.allSatisfy { $0.hasPrefix("refused.") } == true)
    }

    @Test func rowsAddUpEventsAndPriceOnlyTextMessages() throws {
        let prices = try MessagePrices.parse("US=0.0079, GB=0.04; default=0.05")
        #expect(prices.byCountry == ["US": 7_900, "GB": 40_000])
        #expect(prices.fallback == 50_000)
        let rows = CountryInsight.rows(
            from: [
                "US": [
                    "started": 3, "sent.sms": 4, "sent.whatsapp": 1, "approved": 2, "refused.invalid_phone_number": 1,
                ],
                "FR": ["refused.unsupported_country": 5],
                "DE": ["bogus": 9],
            ], prices: prices)
        #expect(rows.map(\.country) == ["FR", "US", "DE"])
        let us = try #require(rows.first { $0.country == "US" })
        #expect(us.sentTotal == 5)
        #expect(us.conversionPercent == 66)
        #expect(us.estimatedSpendMicros == Int64(4 * 7_900))
        #expect(us.refusedTotal == 1)
        let france = try #require(rows.first { $0.country == "FR" })
        #expect(france.conversionPercent == nil)
        #expect(france.estimatedSpendMicros == 0)
    }

    @Test(arguments: ["US", "US=", "US=abc", "USA=1", "U1=1", "US=0.0000001", "US=10000", "US=-1"])
    func malformedPricesAreRefusedNamingTheEntry(_ text: String) {
        #expect(throws: TierSyntaxError.self) { try MessagePrices.parse(text) }
    }

    @Test func eventNamesRoundTrip() {
        for event in [
            VerificationEvent.started, .approved, .sent(channel: "whatsapp"), .refused(reason: "unsupported_country"),
        ] {
            #expect(VerificationEvent(name: event.name) == event)
        }
        #expect(VerificationEvent(name: "nonsense") == nil)
    }
}

@Suite("WhatsApp channel")
struct WhatsAppChannelTests {
    @Test func switchingChannelWaitsForTheCooldownAndIsNotCountedAsARefusal() async throws {
        let bench = VerificationBench(policy: { $0.whatsappCountries = ["US"] })
        let ada = try await bench.owner()
        let bySMS = try await bench.start(ada)
        #expect(bySMS.channel == .sms)
        #expect(
            await refusal {
                try await bench.engine.start(phoneNumber: TestNumbers.us, country: nil, channel: "whatsapp", by: ada)
            } == "resend_too_soon")
        bench.time.advance(by: 31)
        let byWhatsApp = try await bench.engine.start(
            phoneNumber: TestNumbers.us, country: nil, channel: "whatsapp", by: ada)
        #expect(byWhatsApp.channel == .whatsapp)
        #expect(byWhatsApp.id != bySMS.id)
        #expect(try await bench.stored(bySMS).status == .canceled)
        #expect(bench.sms.sent.last?.channel == .whatsapp)
        let counts = try await bench.stats.counts(from: bench.time.now.addingTimeInterval(-3600))
        #expect(counts["US"] == ["started": 2, "sent.sms": 1, "sent.whatsapp": 1])
    }

    @Test(arguments: ["", "carrier-pigeon", "SMS"])
    func anUnknownChannelIsRefused(_ channel: String) async throws {
        let bench = VerificationBench(policy: { $0.whatsappCountries = ["US"] })
        let ada = try await bench.owner()
        #expect(
            await refusal {
                try await bench.engine.start(phoneNumber: TestNumbers.us, country: nil, channel: channel, by: ada)
            } == "invalid_value")
        #expect(bench.sms.sent.isEmpty)
    }
}
