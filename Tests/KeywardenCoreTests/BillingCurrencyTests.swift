import KeywardenCore
import Testing

@Suite("Billing currency: writing, reading and charging amounts")
struct BillingCurrencyTests {
    let usd = BillingCurrency.usd
    let jpy = BillingCurrency(code: "JPY")!

    @Test func aCurrencyIsThreeLettersKeptInLowerCaseWithItsMinorDigits() {
        #expect(usd.code == "usd")
        #expect(usd.minorDigits == 2)
        #expect(usd.microsPerMinorUnit == 10_000)
        #expect(jpy.code == "jpy")
        #expect(jpy.minorDigits == 0)
        #expect(jpy.microsPerMinorUnit == 1_000_000)
        #expect(BillingCurrency(code: "EUR")?.minorDigits == 2)
        #expect(BillingCurrency(code: "us") == nil)
        #expect(BillingCurrency(code: "usdd") == nil)
        #expect(BillingCurrency(code: "u5d") == nil)
        #expect(BillingCurrency(code: "") == nil)
    }

    // MARK: Writing

    @Test func dollarsAreWrittenWithCentsAndSubCentRemaindersOnlyWhenThereAreAny() {
        #expect(usd.format(micros: 10_000_000) == "$10.00")
        #expect(usd.format(micros: 0) == "$0.00")
        #expect(usd.format(micros: 42) == "$0.000042")
        #expect(usd.format(micros: 4_200) == "$0.0042")
        #expect(usd.format(micros: 10_500_000) == "$10.50")
    }

    @Test func aNegativeAmountIsWrittenWithTheSignBeforeTheDollarSign() {
        #expect(usd.format(micros: -1_500_000) == "-$1.50")
        #expect(usd.format(micros: -420_000) == "-$0.42")
    }

    @Test func thousandsAreGroupedWithCommas() {
        #expect(usd.format(micros: 1_234_567_000_000) == "$1,234,567.00")
        #expect(usd.format(micros: 999_000_000) == "$999.00")
        #expect(usd.format(micros: 1_000_000_000) == "$1,000.00")
    }

    @Test func aZeroDecimalCurrencyIsWrittenInWholeUnitsFollowedByItsCode() {
        #expect(jpy.format(micros: 1_000_000_000) == "1,000 JPY")
        #expect(jpy.format(micros: 0) == "0 JPY")
        #expect(jpy.format(micros: -5_000_000) == "-5 JPY")
        #expect(jpy.format(micros: 1_500_000) == "1.5 JPY")
    }

    // MARK: Reading

    @Test func typedAmountsAreReadIntoMicros() {
        #expect(usd.parse("10") == 10_000_000)
        #expect(usd.parse("10.5") == 10_500_000)
        #expect(usd.parse("10.05") == 10_050_000)
        #expect(usd.parse("$1,000.00") == 1_000_000_000)
        #expect(usd.parse("  25 ") == 25_000_000)
        #expect(usd.parse("0") == 0)
        #expect(jpy.parse("1,000") == 1_000_000_000)
    }

    @Test func aCommaOnlyGroupsThousandsSoADecimalCommaIsRefusedRatherThanReadAsThousands() {
        #expect(usd.parse("10,50") == nil)
        #expect(usd.parse("10,5") == nil)
        #expect(usd.parse(",100") == nil)
        #expect(usd.parse("1,00,000") == nil)
        #expect(usd.parse("1,000,000") == 1_000_000_000_000)
        #expect(usd.parse("12,345.67") == 12_345_670_000)
    }

    @Test func moreDecimalsThanTheMinorUnitHasAreRefused() {
        #expect(usd.parse("1.234") == nil)
        #expect(jpy.parse("10.5") == nil)
    }

    @Test func negativeEmptyAndNonNumericAmountsAreRefused() {
        #expect(usd.parse("-5") == nil)
        #expect(usd.parse("$-5") == nil)
        #expect(usd.parse("abc") == nil)
        #expect(usd.parse("") == nil)
        #expect(usd.parse("   ") == nil)
        #expect(usd.parse("$") == nil)
        #expect(usd.parse("10.") == nil)
        #expect(usd.parse(".5") == nil)
        #expect(usd.parse("1e3") == nil)
    }

    @Test func anAmountTooLongToHoldIsRefusedRatherThanOverflowing() {
        #expect(usd.parse("999999999999") == 999_999_999_999_000_000)
        #expect(usd.parse("1000000000000") == nil)
        #expect(usd.parse(String(repeating: "9", count: 40)) == nil)
    }

    // MARK: Charging

    @Test func minorUnitsBecomeMicrosAndAnAmountPastInt64IsNil() {
        #expect(usd.micros(minorUnits: 1_000) == 10_000_000)
        #expect(usd.micros(minorUnits: -5) == -50_000)
        #expect(jpy.micros(minorUnits: 1_000) == 1_000_000_000)
        #expect(usd.micros(minorUnits: Int64.max) == nil)
        #expect(usd.micros(minorUnits: Int64.min) == nil)
        #expect(jpy.micros(minorUnits: Int64.max / 1_000_000 + 1) == nil)
    }

    @Test func microsBecomeWholeMinorUnitsRoundedTowardZero() {
        #expect(usd.minorUnits(micros: 10_000_000) == 1_000)
        #expect(usd.minorUnits(micros: 10_009_999) == 1_000)
        #expect(usd.minorUnits(micros: 42) == 0)
        #expect(usd.minorUnits(micros: -15_000) == -1)
        #expect(jpy.minorUnits(micros: 1_999_999) == 1)
    }
}
