import Testing

@testable import PhoneNumbers

@Suite("DigitPattern")
struct DigitPatternTests {
    func digits(_ text: String) -> ArraySlice<UInt8> { Array(text.utf8)[...] }

    @Test func wholeMatchesNeedTheWholeInput() throws {
        let pattern = try #require(DigitPattern("[1-357-9]\\d{9}|[18]\\d{8}"))
        #expect(pattern.matchesWhole(digits("2079460018")))
        #expect(pattern.matchesWhole(digits("180000000")))
        #expect(!pattern.matchesWhole(digits("4079460018")))
        #expect(!pattern.matchesWhole(digits("20794600189")))
    }

    @Test func prefixMatchesTakeTheFirstAlternativeThatFits() throws {
        let pattern = try #require(DigitPattern("0|180020"))
        #expect(pattern.prefixMatchLength(digits("0201")) == 1)
        #expect(pattern.prefixMatchLength(digits("1800201")) == 6)
        #expect(pattern.prefixMatchLength(digits("201")) == nil)
    }

    @Test func capturesFollowGreedyBacktracking() throws {
        let pattern = try #require(DigitPattern("(\\d{2})(\\d{4,5})"))
        let match = try #require(pattern.captures(digits("1234567"), whole: true))
        #expect(match.groups == [0..<2, 2..<7])
        let optional = try #require(DigitPattern("0?(?:(11)|(2))"))
        let second = try #require(optional.captures(digits("02"), whole: false))
        #expect(second.groups == [nil, 1..<2])
    }

    @Test func endAnchorOnlyMatchesAtTheEnd() throws {
        let pattern = try #require(DigitPattern("([0-24-8]\\d{5})$|0"))
        #expect(pattern.captures(digits("456789"), whole: false)?.groups.first == 0..<6)
        #expect(pattern.prefixMatchLength(digits("01534456789")) == 1)
    }

    @Test(arguments: ["(", "[12", "\\1", "a{2", "^1", "[^1]", "1{x}"])
    func syntaxOutsideTheSubsetIsRefused(_ source: String) {
        #expect(DigitPattern(source) == nil)
    }

    @Test func pathologicalBacktrackingStopsAtTheStepBudget() throws {
        // 2^30 paths without the budget; with it the match gives up instead of hanging.
        let pattern = try #require(DigitPattern("(?:\\d?){30}\\d{30}"))
        #expect(!pattern.matchesWhole(digits(String(repeating: "1", count: 29))))
    }
}
