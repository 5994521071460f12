import Foundation
import KeywardenCore
import Testing

@Suite("FixedWindowLimit")
struct FixedWindowLimitTests {
    let limit = FixedWindowLimit(limit: 10, window: 900)

    @Test func windowsAreAlignedToTheEpoch() {
        let date = Date(timeIntervalSince1970: 1_000_000_123.7)
        #expect(limit.windowStart(for: date) == Date(timeIntervalSince1970: 999_999_900))
    }

    @Test func resetIsTheTimeLeftInTheWindowRoundedUp() {
        #expect(limit.secondsUntilReset(from: Date(timeIntervalSince1970: 900 * 5 + 0.5)) == 900)
        #expect(limit.secondsUntilReset(from: Date(timeIntervalSince1970: 900 * 5 + 899.2)) == 1)
        #expect(limit.secondsUntilReset(from: Date(timeIntervalSince1970: 900 * 5 + 600)) == 300)
    }
}
