/// Sizes in bytes as a person reads them.
public enum ByteCount {
    /// `65536` → `64 KiB`, `1073741824` → `1 GiB`; sizes that are not a whole number of a unit
    /// are given in bytes.
    public static func describe(_ bytes: Int) -> String {
        for (shift, unit) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] {
            let size = 1 << shift
            if bytes >= size, bytes % size == 0 { return "\(bytes / size) \(unit)" }
        }
        return "\(bytes) bytes"
    }
}
