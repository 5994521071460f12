/// Comparisons of secrets that take the same time wherever the first difference is.
public enum ConstantTime {
    /// Whether two byte sequences are equal, looking at every byte of equal-length inputs.
    /// Inlinable, so each caller gets a copy made for its own collection types rather than the
    /// general one that goes through the collections' witness tables for every byte.
    @inlinable
    public static func equals(_ left: some Collection<UInt8>, _ right: some Collection<UInt8>) -> Bool {
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(left, right) { difference |= a ^ b }
        return difference == 0
    }
}
