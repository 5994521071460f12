import Foundation

/// Where the data lives, and the secret that protects it.
public struct StorageSettings: Sendable {
    /// Where the SQLite file, the generated development secret and other local state live.
    public var dataDirectory = "./.keywarden"
    /// The database: `postgres://...`, `sqlite:PATH`, or `sqlite::memory:`; `nil` means the SQLite
    /// file `keywarden.sqlite` in the data directory.
    public var databaseURL: String?
    /// The server secret (32 or more characters). When absent on SQLite, one is generated
    /// into the data directory; PostgreSQL deployments must set it, since instances share it.
    public var secret: String?
    /// Whether `serve` applies pending PostgreSQL migrations itself.
    public var migrateOnStart = false

    /// The defaults.
    public init() {}

    /// Reads the storage settings.
    public init(reading settings: SettingsReader) throws {
        if let directory = settings.text(.dataDirectory) { dataDirectory = directory }
        if let url = settings.text(.databaseURL) {
            _ = try DatabaseLocation(url: url)
            databaseURL = url
        }
        secret = try settings.secret(.secret, minimum: 32, message: "must be at least 32 characters")
        if let migrate = try settings.boolean(.migrate) { migrateOnStart = migrate }
    }
}

/// Where the data lives.
public enum DatabaseLocation: Equatable, Sendable {
    /// An SQLite file.
    case sqliteFile(String)
    /// An SQLite database in memory, gone when the process ends (tests).
    case sqliteMemory
    /// A PostgreSQL server.
    case postgres(String)

    /// Where the data is, for messages: the file, or host, port and database without credentials.
    public var displayName: String {
        switch self {
        case .sqliteFile(let path): return path
        case .sqliteMemory: return "in memory"
        case .postgres(let url):
            guard let parts = URLComponents(string: url) else { return "at the configured URL" }
            return "postgres://\(parts.host ?? "localhost"):\(parts.port ?? 5432)\(parts.path)"
        }
    }

    /// Reads a database URL.
    public init(url: String) throws {
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            self = .postgres(url)
        } else if url == "sqlite::memory:" {
            self = .sqliteMemory
        } else if url.hasPrefix("sqlite://"), url.count > 9 {
            self = .sqliteFile(String(url.dropFirst(9)))
        } else if url.hasPrefix("sqlite:"), url.count > 7 {
            self = .sqliteFile(String(url.dropFirst(7)))
        } else {
            throw ConfigurationError(
                .databaseURL,
                "expected postgres://USER:PASSWORD@HOST:PORT/DATABASE, sqlite:PATH or sqlite::memory:")
        }
    }
}
