import Foundation
import KeywardenCore
import Testing

@Suite("Usage-anomaly rule")
struct UsageAnomalyRuleTests {
    let rule = UsageAnomalyRule()
    let week = UsageAnomalyRule.baselineHours
    let now = Date(timeIntervalSince1970: 1_750_000_000)

    func kinds(_ activity: KeyActivity, rule: UsageAnomalyRule? = nil) -> [KeyAlert.Kind] {
        (rule ?? self.rule).anomalies(in: activity).map(\.kind)
    }

    @Test func theDefaultsAreTenTimesTheUsualHourAndAThousandCallsOrAHundredErrorsOrThirtyDays() {
        #expect(rule.callFactor == 10)
        #expect(rule.minimumCalls == 1_000)
        #expect(rule.errorFactor == 10)
        #expect(rule.minimumErrors == 100)
        #expect(rule.idleDays == 30)
        #expect(UsageAnomalyRule.baselineHours == 168)
    }

    @Test func aKeyWithoutUseInItsWeekAlertsFromTheMinimumCalls() {
        #expect(kinds(KeyActivity(calls: 1_000, baselineCalls: 0)) == [.callSpike])
        #expect(kinds(KeyActivity(calls: 999, baselineCalls: 0)).isEmpty)
        let found = rule.anomalies(in: KeyActivity(calls: 1_000, baselineCalls: 0))
        #expect(found == [KeyAnomaly(kind: .callSpike, observed: 1_000, baseline: 0)])
    }

    @Test func callsBelowTheMinimumNeverAlertHoweverFarAboveTheUsualHour() {
        // One call in the whole week, then 999 in an hour: thousands of times the usual, still quiet.
        #expect(kinds(KeyActivity(calls: 999, baselineCalls: 1)).isEmpty)
        let strict = UsageAnomalyRule(minimumCalls: 5_000)
        #expect(kinds(KeyActivity(calls: 4_999, baselineCalls: 0), rule: strict).isEmpty)
        #expect(kinds(KeyActivity(calls: 5_000, baselineCalls: 0), rule: strict) == [.callSpike])
    }

    @Test func theFactorIsCountedAgainstTheMeanHourOfTheWeek() {
        // 200 calls an hour for the week: 2,000 in the hour is ten times that, 1,999 is not.
        let usual = 200 * week
        #expect(kinds(KeyActivity(calls: 1_999, baselineCalls: usual)).isEmpty)
        let found = rule.anomalies(in: KeyActivity(calls: 2_000, baselineCalls: usual))
        #expect(found == [KeyAnomaly(kind: .callSpike, observed: 2_000, baseline: 200)])
        let twice = UsageAnomalyRule(callFactor: 2)
        #expect(kinds(KeyActivity(calls: 1_000, baselineCalls: 500 * week), rule: twice) == [.callSpike])
        #expect(kinds(KeyActivity(calls: 999, baselineCalls: 500 * week), rule: twice).isEmpty)
    }

    @Test func theComparisonIsExactInWholeNumbers() {
        // A mean of 1,679/168 (just under 10) an hour: 100 calls is ten times it, 99 is not,
        // however a floating-point mean would round.
        let rule = UsageAnomalyRule(minimumCalls: 1)
        #expect(kinds(KeyActivity(calls: 100, baselineCalls: 1_679), rule: rule) == [.callSpike])
        #expect(kinds(KeyActivity(calls: 99, baselineCalls: 1_679), rule: rule).isEmpty)
        #expect(UsageAnomalyRule.isSpike(100, total: 1_680, hours: 168, factor: 10, minimum: 1))
        #expect(!UsageAnomalyRule.isSpike(99, total: 1_680, hours: 168, factor: 10, minimum: 1))
    }

    @Test func countsAtTheLimitsOfIntegersNeitherTrapNorWrap() {
        #expect(UsageAnomalyRule.isSpike(Int.max, total: Int.max, hours: 168, factor: 10, minimum: 1))
        #expect(!UsageAnomalyRule.isSpike(Int.max / 200, total: Int.max, hours: 168, factor: 10_000, minimum: 1))
        #expect(!UsageAnomalyRule.isSpike(0, total: 0, hours: 168, factor: 10, minimum: 0))
    }

    @Test func aKeyWithLessThanADayOfHistoryIsNotCompared() {
        #expect(kinds(KeyActivity(calls: 1_000_000, errors: 1_000_000, baselineHours: 23)).isEmpty)
        #expect(kinds(KeyActivity(calls: 1_000, baselineHours: 24)) == [.callSpike])
        // The mean is over the hours the key existed: 24 hours of 100 calls is a usual 100.
        #expect(kinds(KeyActivity(calls: 999, baselineCalls: 2_400, baselineHours: 24)).isEmpty)
        #expect(kinds(KeyActivity(calls: 1_000, baselineCalls: 2_400, baselineHours: 24)) == [.callSpike])
    }

    @Test func failedCallsHaveTheirOwnFactorAndMinimum() {
        // Ten times as many calls as usual and as many failures: both alerts, each on its own count.
        let both = KeyActivity(calls: 10_000, errors: 100, baselineCalls: 1_000 * week, baselineErrors: 10 * week)
        #expect(kinds(both) == [.callSpike, .errorSpike])
        #expect(kinds(KeyActivity(calls: 10, errors: 100)) == [.errorSpike])
        #expect(kinds(KeyActivity(calls: 10, errors: 99)).isEmpty)
        #expect(kinds(KeyActivity(calls: 10, errors: 999, baselineErrors: 100 * week)).isEmpty)
        let found = rule.anomalies(in: KeyActivity(calls: 5_000, errors: 1_000, baselineErrors: 100 * week))
        #expect(found.map(\.kind) == [.callSpike, .errorSpike])
        #expect(found.last == KeyAnomaly(kind: .errorSpike, observed: 1_000, baseline: 100))
    }

    @Test func aCallAfterTheIdleDaysAlertsWithTheDateOfThePreviousOne() {
        let previous = now.addingTimeInterval(-30 * 86_400)
        let found = rule.anomalies(in: KeyActivity(calls: 3, firstCallAt: now, previousCallAt: previous))
        #expect(found == [KeyAnomaly(kind: .idleKeyUsed, observed: 3, baseline: 0, idleSince: previous)])
        let lessThanThirtyDays = now.addingTimeInterval(-30 * 86_400 + 60)
        #expect(kinds(KeyActivity(calls: 3, firstCallAt: now, previousCallAt: lessThanThirtyDays)).isEmpty)
        let sevenDays = UsageAnomalyRule(idleDays: 7)
        let lastWeek = now.addingTimeInterval(-7 * 86_400)
        #expect(
            kinds(KeyActivity(calls: 1, firstCallAt: now, previousCallAt: lastWeek), rule: sevenDays) == [.idleKeyUsed])
    }

    @Test func aKeysFirstCallEverIsNotAReturnFromIdleness() {
        #expect(kinds(KeyActivity(calls: 5, firstCallAt: now, previousCallAt: nil)).isEmpty)
        #expect(
            kinds(KeyActivity(calls: 0, firstCallAt: now, previousCallAt: now.addingTimeInterval(-90 * 86_400)))
                .isEmpty)
    }

    @Test func windowsStartAtWholeMultiplesOfTheirLength() {
        let day = KeyAlertPolicy(window: 86_400)
        // 2025-06-15T15:06:40Z falls in the day that starts at midnight UTC.
        #expect(day.windowStart(containing: now) == Date(timeIntervalSince1970: 1_749_945_600))
        let midnight = Date(timeIntervalSince1970: 1_749_945_600)
        #expect(day.windowStart(containing: midnight) == midnight)
        let justBefore = midnight.addingTimeInterval(-1)
        #expect(day.windowStart(containing: justBefore) == Date(timeIntervalSince1970: 1_749_859_200))
        let hour = KeyAlertPolicy(window: 3600)
        #expect(hour.windowStart(containing: now) == Date(timeIntervalSince1970: 1_749_999_600))
    }
}
