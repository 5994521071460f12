import Foundation

/// A bar chart drawn on the server as an SVG string, for pages that show the same numbers in a
/// table beside it.
///
/// One series draws one bar (class `bar`) per label; two series stack the second (class
/// `bar second`) on the first. The tallest stack sets the scale, rounded up to a step of 1, 2 or
/// 5 times a power of ten, with a labelled tick at each step. Every label and number is escaped
/// for XML, and nothing is styled inline: the stylesheet's `.chart` rules colour it.
struct BarChart: Sendable {
    /// One labelled position on the x axis and its values, one per series.
    struct Bar: Sendable {
        let label: String
        let values: [Int]

        init(label: String, values: [Int]) {
            self.label = label
            self.values = values
        }
    }

    /// What the chart shows, for its `<title>` and `aria-label`.
    let title: String
    /// The name of each series (one or two), used in each bar's own `<title>`.
    let series: [String]
    let bars: [Bar]
    /// How a value is written on the axis and in a bar's title; `nil` writes counts (`1.5k`).
    let valueText: (@Sendable (Int) -> String)?

    // The drawing's geometry, in viewBox units.
    static let width = 640
    static let height = 240
    /// The room left of the plot for tick labels: more when they are written as money (`$0.00003`).
    var left: Int { valueText == nil ? 56 : 88 }
    static let right = 8
    static let top = 12
    static let bottom = 28
    /// The height of the plotting area: a bar of the scale's top value is this tall.
    static let plotHeight = height - top - bottom
    var plotWidth: Int { Self.width - left - Self.right }
    /// At most this many x-axis labels are drawn; the others are left out evenly.
    static let maxLabels = 7
    /// Values are held below this, so sums and steps stay far from overflow.
    static let largestValue = 1_000_000_000_000_000

    init(title: String, series: [String], bars: [Bar], valueText: (@Sendable (Int) -> String)? = nil) {
        self.title = title
        self.series = Array(series.prefix(2))
        self.bars = bars
        self.valueText = valueText
    }

    /// How many series are drawn: one or two.
    var seriesCount: Int { series.count >= 2 ? 2 : 1 }

    /// A bar's values as drawn: one per series, never negative, never beyond ``largestValue``.
    func drawnValues(_ bar: Bar) -> [Int] {
        (0..<seriesCount).map { index in
            index < bar.values.count ? min(max(bar.values[index], 0), Self.largestValue) : 0
        }
    }

    /// The step between ticks and the scale's top value for the tallest stack `largest`.
    static func scale(for largest: Int) -> (step: Int, top: Int) {
        let held = min(max(largest, 0), 2 * largestValue)
        let wanted = max(1, (held + 3) / 4)
        var magnitude = 1
        while magnitude <= wanted / 10 { magnitude *= 10 }
        let step = [1, 2, 5, 10].map { $0 * magnitude }.first { $0 >= wanted } ?? 10 * magnitude
        let steps = max(1, (held + step - 1) / step)
        return (step, step * steps)
    }

    /// The chart as an `<svg>` element.
    var svg: String {
        let stacks = bars.map { drawnValues($0) }
        let largest = stacks.map { $0.reduce(0, +) }.max() ?? 0
        let (step, scaleTop) = Self.scale(for: largest)
        let plotBottom = Double(Self.top + Self.plotHeight)
        func y(_ value: Int) -> Double {
            plotBottom - Double(value) / Double(scaleTop) * Double(Self.plotHeight)
        }

        var out = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\""
        out += " viewBox=\"0 0 \(Self.width) \(Self.height)\""
        out += " role=\"img\" aria-label=\"\(Self.escape(title))\">"
        out += "<title>\(Self.escape(title))</title>"

        // Ticks: a line and a label at each step; the one at zero is the x axis.
        var tick = 0
        while tick <= scaleTop {
            let position = Self.coordinate(y(tick))
            out += "<line class=\"axis\" x1=\"\(left)\" y1=\"\(position)\" x2=\"\(Self.width - Self.right)\""
            out += " y2=\"\(position)\"/>"
            out += "<text class=\"tick\" x=\"\(left - 6)\" y=\"\(position)\" text-anchor=\"end\""
            out += " dominant-baseline=\"middle\">\(Self.escape(valueText?(tick) ?? Self.compact(tick)))</text>"
            tick += step
        }

        // Bars: each series stacked on the one before.
        let slot = Double(plotWidth) / Double(max(1, bars.count))
        let barWidth = slot * 0.7
        let labelEvery = max(1, (bars.count + Self.maxLabels - 1) / Self.maxLabels)
        for (index, bar) in bars.enumerated() {
            let x = Double(left) + slot * Double(index) + (slot - barWidth) / 2
            var base = 0
            for (seriesIndex, value) in stacks[index].enumerated() {
                let upper = y(base + value)
                let height = max(0, y(base) - upper)
                let name = seriesIndex < series.count ? " " + series[seriesIndex] : ""
                out += "<rect class=\"\(seriesIndex == 0 ? "bar" : "bar second")\" x=\"\(Self.coordinate(x))\""
                out += " y=\"\(Self.coordinate(upper))\" width=\"\(Self.coordinate(barWidth))\""
                out += " height=\"\(Self.coordinate(height))\">"
                out +=
                    "<title>\(Self.escape(bar.label + ": " + (valueText?(value) ?? String(value)) + name))</title></rect>"
                base += value
            }
            if index % labelEvery == 0 {
                let center = Double(left) + slot * (Double(index) + 0.5)
                out += "<text class=\"label\" x=\"\(Self.coordinate(center))\" y=\"\(Self.height - 8)\""
                out += " text-anchor=\"middle\">\(Self.escape(bar.label))</text>"
            }
        }
        return out + "</svg>"
    }

    // MARK: Text

    /// `text` safe inside XML text and attribute values; characters XML does not allow are left
    /// out.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out += " "
            default:
                let value = scalar.value
                if value < 0x20 || (0xFFFE...0xFFFF).contains(value) || (0xD800...0xDFFF).contains(value) {
                    continue
                }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A coordinate with at most one decimal, without exponent or locale (`12`, `12.5`).
    static func coordinate(_ value: Double) -> String {
        let tenths = Int((max(0, value) * 10).rounded())
        return tenths % 10 == 0 ? String(tenths / 10) : "\(tenths / 10).\(tenths % 10)"
    }

    /// A tick value short enough for the axis: `950`, `2k`, `1.5M`, `3B`.
    static func compact(_ value: Int) -> String {
        guard value >= 1000 else { return String(value) }
        let units: [(Int, String)] = [(1_000_000_000_000, "T"), (1_000_000_000, "B"), (1_000_000, "M"), (1000, "k")]
        for (size, suffix) in units where value >= size {
            let tenths = value / (size / 10)
            let text = tenths % 10 == 0 || tenths >= 100 ? String(tenths / 10) : "\(tenths / 10).\(tenths % 10)"
            return text + suffix
        }
        return String(value)
    }
}
