import Foundation
import KeywardenCore
import Testing

@Suite("UsageTiers")
struct UsageTiersTests {
    let now = Date(timeIntervalSince1970: 1_750_000_000)
    let day: TimeInterval = 86_400

    func daysAgo(_ days: Double) -> Date { now.addingTimeInterval(-days * day) }

    func tier(_ name: String, in tiers: UsageTiers = .standard) throws -> UsageTier {
        try #require(tiers.tier(named: name))
    }

    @Test func theShippedTextParsesToTheShippedTiers() throws {
        let parsed = try UsageTiers.parse(UsageTiers.standardText, currency: .usd)
        #expect(parsed == UsageTiers.standard)
        #expect(parsed.tiers.map(\.name) == ["free", "tier-1", "tier-2", "tier-3", "tier-4", "tier-5"])
        #expect(
            parsed.tiers.map(\.qualifyingPaidMicros) == [
                0, 5_000_000, 50_000_000, 100_000_000, 250_000_000, 1_000_000_000,
            ])
        #expect(parsed.tiers.map(\.qualifyingDays) == [0, 0, 7, 7, 14, 30])
        #expect(
            parsed.tiers.map(\.monthlyLimitMicros) == [
                100_000_000, 100_000_000, 500_000_000, 1_000_000_000, 5_000_000_000, 200_000_000_000,
            ])
        #expect(parsed.defaultTier.name == "free")
        let four = try tier("tier-4", in: parsed)
        #expect(four.rateLimits.organization == MinuteLimits(requests: 10_000, tokens: 30_000_000))
        let five = try tier("tier-5", in: parsed)
        #expect(five.rateLimits.key == MinuteLimits(requests: 30_000, tokens: 150_000_000))
    }

    @Test func theShippedTextIsOpenAIsTableOnOneLine() {
        let table = """
            free: paid=0 monthly=100 rpm=60 tpm=100000; tier-1: paid=5 monthly=100 rpm=500 tpm=500000; \
            tier-2: paid=50 days=7 monthly=500 rpm=5000 tpm=2000000; \
            tier-3: paid=100 days=7 monthly=1,000 rpm=10000 tpm=10000000; \
            tier-4: paid=250 days=14 monthly=5,000 rpm=10000 tpm=30000000; \
            tier-5: paid=1,000 days=30 monthly=200,000 rpm=30000 tpm=150000000
            """
        #expect(UsageTiers.standardText == table)
        #expect(!UsageTiers.standardText.contains("\n"))
    }

    @Test func theFirstFourShippedTiersKeepTheShippedRateLimits() throws {
        for name in ["free", "tier-1", "tier-2", "tier-3"] {
            #expect(try tier(name).rateLimits == RateLimitTiers.standard.tier(named: name))
        }
    }

    @Test func theRateLimitTiersHaveTheSameNamesAndTheFirstTierAsDefault() throws {
        let limits = UsageTiers.standard.rateLimitTiers
        #expect(limits.defaultTier == "free")
        #expect(Set(limits.tiers.keys) == ["free", "tier-1", "tier-2", "tier-3", "tier-4", "tier-5"])
        #expect(try limits.tier(named: "tier-5") == tier("tier-5").rateLimits)
    }

    @Test func anOrganizationThatNeverPaidIsFree() {
        let tier = UsageTiers.standard.qualified(paidMicros: 0, firstPaymentAt: nil, now: now)
        #expect(tier.name == "free")
    }

    @Test func tierOneNeedsFiveDollarsAndNoDays() {
        let tiers = UsageTiers.standard
        #expect(tiers.qualified(paidMicros: 5_000_000, firstPaymentAt: now, now: now).name == "tier-1")
        #expect(tiers.qualified(paidMicros: 4_999_999, firstPaymentAt: now, now: now).name == "free")
    }

    @Test func tierTwoNeedsFiftyDollarsAndSevenDaysSinceTheFirstPayment() {
        let tiers = UsageTiers.standard
        let sevenDays = now.addingTimeInterval(-7 * day)
        let oneSecondShort = now.addingTimeInterval(-7 * day + 1)
        #expect(tiers.qualified(paidMicros: 50_000_000, firstPaymentAt: sevenDays, now: now).name == "tier-2")
        #expect(tiers.qualified(paidMicros: 50_000_000, firstPaymentAt: oneSecondShort, now: now).name == "tier-1")
        #expect(tiers.qualified(paidMicros: 49_999_999, firstPaymentAt: sevenDays, now: now).name == "tier-1")
    }

    @Test func aThousandDollarsTwentyNineDaysAgoIsTierFourUntilTheThirtiethDay() {
        let tiers = UsageTiers.standard
        #expect(tiers.qualified(paidMicros: 1_000_000_000, firstPaymentAt: daysAgo(29), now: now).name == "tier-4")
        #expect(tiers.qualified(paidMicros: 1_000_000_000, firstPaymentAt: daysAgo(30), now: now).name == "tier-5")
        #expect(tiers.qualified(paidMicros: 1_000_000_000, firstPaymentAt: daysAgo(13), now: now).name == "tier-3")
    }

    /// `free`, then `partner` (pinned-only, in the middle), `tier-1`, and `enterprise` (pinned-only, on top).
    static let withPinned = """
        free: paid=0 monthly=100 rpm=60 tpm=100000; partner: paid=pinned monthly=none rpm=1000 tpm=1000000; \
        tier-1: paid=5 monthly=100 rpm=500 tpm=500000; enterprise: paid=pinned monthly=none rpm=100000 tpm=1000000000
        """

    @Test func pinnedOnlyTiersParseWithoutAPaymentThresholdOrMonthlyLimit() throws {
        let tiers = try UsageTiers.parse(Self.withPinned, currency: .usd)
        let enterprise = try tier("enterprise", in: tiers)
        #expect(enterprise.qualifyingPaidMicros == nil)
        #expect(enterprise.monthlyLimitMicros == nil)
        #expect(enterprise.rateLimits.organization == MinuteLimits(requests: 100_000, tokens: 1_000_000_000))
        #expect(try tier("tier-1", in: tiers).monthlyLimitMicros == 100_000_000)
    }

    @Test func pinnedOnlyTiersNeverQualifyButAPinReachesThem() throws {
        let tiers = try UsageTiers.parse(Self.withPinned, currency: .usd)
        let rich = tiers.qualified(paidMicros: 1_000_000_000_000, firstPaymentAt: daysAgo(3_650), now: now)
        #expect(rich.name == "tier-1")
        let pinned = tiers.effective(pinned: "enterprise", paidMicros: 0, firstPaymentAt: nil, now: now)
        #expect(pinned.name == "enterprise")
        let pinnedDown = tiers.effective(pinned: "free", paidMicros: 50_000_000, firstPaymentAt: nil, now: now)
        #expect(pinnedDown.name == "free")
    }

    @Test func anUnknownPinFallsBackToQualification() throws {
        let tiers = try UsageTiers.parse(Self.withPinned, currency: .usd)
        #expect(tiers.effective(pinned: "gone", paidMicros: 5_000_000, firstPaymentAt: now, now: now).name == "tier-1")
        #expect(tiers.effective(pinned: nil, paidMicros: 0, firstPaymentAt: nil, now: now).name == "free")
    }

    @Test func theNextTierSkipsPinnedOnlyTiersAndEndsAtTheTop() throws {
        let tiers = try UsageTiers.parse(Self.withPinned, currency: .usd)
        #expect(try tiers.next(after: tier("free", in: tiers))?.name == "tier-1")
        #expect(try tiers.next(after: tier("partner", in: tiers))?.name == "tier-1")
        #expect(try tiers.next(after: tier("tier-1", in: tiers)) == nil)
        #expect(try UsageTiers.standard.next(after: tier("tier-2"))?.name == "tier-3")
        #expect(try UsageTiers.standard.next(after: tier("tier-5")) == nil)
    }

    @Test func progressNamesTheMoneyStillToPayAndTheDayTheDaysAreMet() throws {
        let tiers = UsageTiers.standard
        let two = try tier("tier-2")
        let firstPayment = daysAgo(3)
        let progress = tiers.progress(to: two, paidMicros: 20_000_000, firstPaymentAt: firstPayment, now: now)
        #expect(
            progress
                == TierProgress(
                    paidMissingMicros: 30_000_000, daysMetAt: firstPayment.addingTimeInterval(7 * day),
                    needsFirstPayment: false))
    }

    @Test func progressIsEmptyOnceBothConditionsHold() throws {
        let two = try tier("tier-2")
        let progress = UsageTiers.standard.progress(
            to: two, paidMicros: 60_000_000, firstPaymentAt: daysAgo(7), now: now)
        #expect(progress == TierProgress(paidMissingMicros: 0, daysMetAt: nil, needsFirstPayment: false))
    }

    @Test func progressWithoutAFirstPaymentSaysOneIsNeededOnlyWhenDaysAre() throws {
        let tiers = UsageTiers.standard
        let toTwo = try tiers.progress(to: tier("tier-2"), paidMicros: 0, firstPaymentAt: nil, now: now)
        #expect(toTwo == TierProgress(paidMissingMicros: 50_000_000, daysMetAt: nil, needsFirstPayment: true))
        let toOne = try tiers.progress(to: tier("tier-1"), paidMicros: 0, firstPaymentAt: nil, now: now)
        #expect(toOne == TierProgress(paidMissingMicros: 5_000_000, daysMetAt: nil, needsFirstPayment: false))
    }

    @Test func legacyRateLimitTiersBecomePinnedOnlyTiersBehindTheDefault() throws {
        let legacy = try #require(
            RateLimitTiers(
                tiers: try RateLimitTiers.parseTiers(
                    "small: rpm=5 tpm=50; large: rpm=500 tpm=5000 key_rpm=50; medium: rpm=50 tpm=500"),
                defaultTier: "large"))
        let tiers = UsageTiers(legacy: legacy)
        #expect(tiers.tiers.map(\.name) == ["large", "medium", "small"])
        #expect(tiers.defaultTier.qualifyingPaidMicros == 0)
        #expect(tiers.defaultTier.qualifyingDays == 0)
        #expect(tiers.tiers.dropFirst().allSatisfy { $0.qualifyingPaidMicros == nil })
        #expect(tiers.tiers.allSatisfy { $0.monthlyLimitMicros == nil })
        for name in ["small", "medium", "large"] {
            #expect(try tier(name, in: tiers).rateLimits == legacy.tier(named: name))
        }
        #expect(tiers.rateLimitTiers == legacy)
        let rich = tiers.qualified(paidMicros: 1_000_000_000_000, firstPaymentAt: daysAgo(365), now: now)
        #expect(rich.name == "large")
        #expect(tiers.effective(pinned: "small", paidMicros: 0, firstPaymentAt: nil, now: now).name == "small")
    }

    @Test func aSetNeedsATierAndDistinctNames() throws {
        let free = try tier("free")
        #expect(UsageTiers(tiers: []) == nil)
        #expect(UsageTiers(tiers: [free, free]) == nil)
        #expect(UsageTiers(tiers: [free])?.defaultTier == free)
    }

    @Test(arguments: [
        ("", "no tiers given"),
        ("free paid=0 monthly=1 rpm=1 tpm=1", "expected 'name: paid=AMOUNT monthly=AMOUNT rpm=N tpm=N'"),
        ("b@d: paid=0 monthly=1 rpm=1 tpm=1", "tier names are letters, digits, '-', '_' and '.': 'b@d'"),
        ("free: paid=5 monthly=1 rpm=1 tpm=1", "the first tier (free) is the default and must have paid=0 days=0"),
        ("free: paid=0 days=7 monthly=1 rpm=1 tpm=1", "the first tier (free) is the default and must have paid=0"),
        ("free: paid=pinned monthly=none rpm=1 tpm=1", "the first tier (free) is the default"),
        ("free: monthly=1 rpm=1 tpm=1", "tier free needs paid=AMOUNT (or paid=pinned)"),
        ("free: paid=0 rpm=1 tpm=1", "tier free needs monthly=AMOUNT (or monthly=none)"),
        ("free: paid=0 monthly=1 rpm=1", "tier free needs both rpm and tpm"),
        ("free: paid=0 monthly=1 rpm=0 tpm=1", "rpm of tier free must be a positive integer"),
        ("free: paid=0 monthly=1 rpm=1 tpm=1 burst=3", "unknown key 'burst=3' in tier free; use paid, days, monthly"),
        ("free: paid=0 monthly=1 rpm=1 tpm=1; big: paid=ten monthly=1 rpm=1 tpm=1", "paid of tier big must be"),
        ("free: paid=0 monthly=1 rpm=1 tpm=1; big: paid=-5 monthly=1 rpm=1 tpm=1", "paid of tier big must be an"),
        ("free: paid=0 monthly=1 rpm=1 tpm=1; big: paid=none monthly=1 rpm=1 tpm=1", "or pinned"),
        ("free: paid=0 monthly=1 rpm=1 tpm=1; big: paid=1 monthly=lots rpm=1 tpm=1", "monthly of tier big must be"),
        ("free: paid=0 monthly=1 rpm=1 tpm=1; big: paid=1 monthly=pinned rpm=1 tpm=1", "or none"),
        ("free: paid=0 monthly=1 rpm=1 tpm=1; big: paid=1 days=9999 monthly=1 rpm=1 tpm=1", "days of tier big must"),
        ("free: paid=0 monthly=1 rpm=1 tpm=1; big: paid=1 days=x monthly=1 rpm=1 tpm=1", "from 0 to 3650"),
        ("free: paid=0 monthly=1 rpm=1 tpm=1; free: paid=1 monthly=1 rpm=1 tpm=1", "tier free is given twice"),
    ])
    func malformedUsageTiersAreRefusedWithTheFault(text: String, fault: String) {
        let error = #expect(throws: TierSyntaxError.self) { try UsageTiers.parse(text, currency: .usd) }
        #expect(error?.message.contains(fault) == true, "\(error?.message ?? "no error") lacks '\(fault)'")
    }

    @Test func amountsAreReadInTheInstallationsCurrency() throws {
        let yen = try #require(BillingCurrency(code: "jpy"))
        let tiers = try UsageTiers.parse(
            "free: paid=0 monthly=1,000 rpm=1 tpm=1; gold: paid=5,000 days=3 monthly=none rpm=2 tpm=2", currency: yen)
        let gold = try tier("gold", in: tiers)
        #expect(gold.qualifyingPaidMicros == 5_000_000_000)
        #expect(gold.qualifyingDays == 3)
        #expect(gold.monthlyLimitMicros == nil)
        #expect(tiers.defaultTier.monthlyLimitMicros == 1_000_000_000)
    }
}
