/// Money and usage sums that hold at the ends of `Int64` rather than trapping, since a count a
/// client reported can be as large as it likes.
extension Int64 {
    /// The sum, held at the largest or smallest value rather than trapping.
    public func addingSaturated(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// The difference, held at the largest or smallest value rather than trapping.
    public func subtractingSaturated(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }

    /// Adds `other`, holding at the ends rather than trapping.
    public mutating func addSaturated(_ other: Int64) { self = addingSaturated(other) }

    /// Subtracts `other`, holding at the ends rather than trapping.
    public mutating func subtractSaturated(_ other: Int64) { self = subtractingSaturated(other) }
}
