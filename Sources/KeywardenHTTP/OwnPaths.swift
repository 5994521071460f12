/// The parts of `/v1` where Keywarden serves its own API. The gateway never forwards them, so a
/// mistyped management path gets a 404 that says so rather than an API-key refusal.
public enum OwnPaths {
    /// The prefixes, each a whole path segment.
    public static let prefixes = [
        "/v1/organization", "/v1/auth", "/v1/me", "/v1/phone", "/v1/keys", "/v1/api-keys", "/v1/webhooks",
        "/v1/admin", "/v1/secret-scanning",
    ]

    /// The prefixes with their trailing slash, made once.
    static let directories = prefixes.map { $0 + "/" }

    /// Whether `path` lies under one of ``prefixes``.
    public static func contains(_ path: String) -> Bool {
        // Every prefix starts `/v1/`: other paths are answered without comparing strings.
        guard path.utf8.starts(with: "/v1/".utf8) else { return false }
        for (prefix, directory) in zip(prefixes, directories) where path == prefix || path.hasPrefix(directory) {
            return true
        }
        return false
    }
}
