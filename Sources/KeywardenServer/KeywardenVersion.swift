/// The release this build is.
public enum KeywardenVersion {
    /// The version string printed by `keywarden version`.
    public static let current = "0.1.0"
}
