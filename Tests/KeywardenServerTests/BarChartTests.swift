import Foundation
import Testing

@testable import KeywardenDashboard

@Suite("Bar chart")
struct BarChartTests {
    /// The heights of the rects of `kind` (`bar` or `bar second`), in order.
    func heights(_ svg: String, _ kind: String = "bar") -> [String] {
        svg.matches(of: #/<rect class="([a-z ]+)"[^>]* height="([^"]*)">/#)
            .filter { $0.output.1 == kind }
            .map { String($0.output.2) }
    }

    func chart(_ values: [[Int]], series: [String] = ["requests"], labels: [String]? = nil) -> String {
        let labels = labels ?? values.indices.map { "day \($0)" }
        return BarChart(
            title: "Requests", series: series,
            bars: zip(labels, values).map { BarChart.Bar(label: $0.0, values: $0.1) }
        ).svg
    }

    @Test func labelsTitlesAndSeriesNamesAreEscapedForXML() {
        let svg = BarChart(
            title: #"Calls <&> "all" 'of them'"#, series: ["a<b"],
            bars: [BarChart.Bar(label: "x<&>y", values: [3])]
        ).svg
        #expect(svg.hasPrefix(#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 640 240""#))
        #expect(svg.contains(#"role="img" aria-label="Calls &lt;&amp;&gt; &quot;all&quot; &apos;of them&apos;""#))
        #expect(svg.contains("<title>Calls &lt;&amp;&gt; &quot;all&quot; &apos;of them&apos;</title>"))
        #expect(svg.contains(">x&lt;&amp;&gt;y</text>"))
        #expect(svg.contains("<title>x&lt;&amp;&gt;y: 3 a&lt;b</title>"))
        #expect(!svg.contains("x<&>y"))
        #expect(!svg.contains("a<b"))
        #expect(!svg.contains("style"))
    }

    @Test func zeroAndNegativeValuesDrawBarsOfNoHeight() {
        let svg = chart([[0], [0], [-5]])
        #expect(heights(svg) == ["0", "0", "0"])
        let stacked = chart([[0, 0], [-3, -7]], series: ["prompt", "completion"])
        #expect(heights(stacked) == ["0", "0"])
        #expect(heights(stacked, "bar second") == ["0", "0"])
        #expect(!svg.contains("=\"-") && !stacked.contains("=\"-"))
        // Nothing at all still draws the axis with a tick at zero.
        #expect(chart([]).contains(">0</text>"))
    }

    @Test func theLargestValueSetsTheScale() {
        let plot = BarChart.plotHeight
        #expect(heights(chart([[0], [5], [10]])) == ["0", String(plot / 2), String(plot)])
        // The same 5 is a quarter of the height when the largest value is 20.
        #expect(heights(chart([[5], [20]])) == [String(plot / 4), String(plot)])
        // The top tick is the scale's top: 10 and 20 here, 8 for a largest value of 7.
        #expect(chart([[0], [5], [10]]).contains(">10</text>"))
        #expect(chart([[7]]).contains(">8</text>"))
        #expect(!chart([[7]]).contains(">10</text>"))
        let nothing = BarChart.scale(for: 0)
        #expect(nothing.step == 1 && nothing.top == 1)
        let some = BarChart.scale(for: 1234)
        #expect(some.step == 500 && some.top == 1500)
        // Values beyond what the chart draws are held, never overflowing.
        let most = BarChart.scale(for: Int.max)
        #expect(most.top == 2 * BarChart.largestValue)
    }

    @Test func twoSeriesStackTheSecondOnTheFirst() {
        let svg = chart([[3, 1], [0, 4]], series: ["prompt tokens", "completion tokens"])
        let plot = BarChart.plotHeight
        #expect(heights(svg) == [String(plot * 3 / 4), "0"])
        #expect(heights(svg, "bar second") == [String(plot / 4), String(plot)])
        #expect(svg.contains("<title>day 0: 3 prompt tokens</title>"))
        #expect(svg.contains("<title>day 0: 1 completion tokens</title>"))
    }

    @Test func everyBarIsDrawnButAtMostSevenDateLabels() {
        let svg = chart(Array(repeating: [1], count: 30))
        #expect(heights(svg).count == 30)
        #expect(svg.matches(of: #/<text class="label"/#).count <= BarChart.maxLabels)
        #expect(svg.contains(">day 0</text>"))
    }

    @Test func ticksAreShortAndCoordinatesPlain() {
        #expect(BarChart.compact(950) == "950")
        #expect(BarChart.compact(2000) == "2k")
        #expect(BarChart.compact(12_000) == "12k")
        #expect(BarChart.compact(1_500_000) == "1.5M")
        #expect(BarChart.coordinate(12.25) == "12.3")
        #expect(BarChart.coordinate(12.0) == "12")
        #expect(BarChart.coordinate(-1) == "0")
    }
}

@Suite("UTC days")
struct UTCDayTests {
    @Test func daysReadAndWriteAsYearMonthDay() throws {
        for text in ["1970-01-01", "2000-02-29", "2024-02-29", "2025-06-15", "9999-12-31"] {
            #expect(try #require(UTCDay(parsing: text)).text == text)
        }
        #expect(UTCDay(parsing: "1970-01-01")?.number == 0)
        #expect(UTCDay(parsing: "2025-06-15")?.number == 20_254)
        #expect(UTCDay(containing: Date(timeIntervalSince1970: 1_750_000_000)).text == "2025-06-15")
        #expect(UTCDay(parsing: "2025-06-15")?.start == Date(timeIntervalSince1970: 1_749_945_600))
    }

    @Test(arguments: [
        "", "2025-6-15", "2025-06-15T00:00", "1969-12-31", "0000-01-01", "2025-02-29", "1900-02-29",
        "2025-00-10", "2025-04-31", "+025-06-15", "２０２５-06-15", "10000-01-01",
    ])
    func otherTextIsNoDay(_ text: String) {
        #expect(UTCDay(parsing: text) == nil)
    }

    @Test func arithmeticStaysWithinTheCalendar() {
        #expect(UTCDay.earliest.adding(days: -1) == UTCDay.earliest)
        #expect(UTCDay.latest.adding(days: 1) == UTCDay.latest)
        #expect(UTCDay.latest.text == "9999-12-31")
        #expect(UTCDay(containing: Date(timeIntervalSince1970: -86_400)) == UTCDay.earliest)
        #expect(UTCDay(parsing: "2025-03-01")?.adding(days: -1).text == "2025-02-28")
    }
}

@Suite("UTC times on pages")
struct UTCTimeTests {
    @Test(arguments: [
        (0.0, "1970-01-01 00:00"), (951_782_400.0, "2000-02-29 00:00"), (1_796_196_278.0, "2026-12-02 07:24"),
        (253_402_300_799.0, "9999-12-31 23:59"), (-5.0, "1970-01-01 00:00"), (1e300, "9999-12-31 23:59"),
    ])
    func minutesAreWrittenInUTCWithinTheCalendarsRange(_ seconds: Double, _ expected: String) {
        #expect(UTCTime.minutes(Date(timeIntervalSince1970: seconds)) == expected)
    }
}
