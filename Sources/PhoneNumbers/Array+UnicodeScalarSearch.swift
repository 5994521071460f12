extension Array where Element == Unicode.Scalar {
    /// The first index at which `needle` occurs.
    func firstIndex(of needle: [Unicode.Scalar]) -> Int? {
        guard !needle.isEmpty, needle.count <= count else { return nil }
        for start in 0...(count - needle.count) where self[start] == needle[0] {
            if self[start..<(start + needle.count)].elementsEqual(needle) { return start }
        }
        return nil
    }
}
