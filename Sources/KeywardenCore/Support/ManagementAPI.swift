/// The largest body Keywarden's own endpoints read; gateway calls have their own limit.
public enum ManagementAPI {
    /// 64 KiB.
    public static let maxBodyBytes = 64 * 1024
}
