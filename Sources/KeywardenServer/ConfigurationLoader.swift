import Foundation

/// Builds a ``KeywardenConfiguration`` from flags, environment, config file and defaults,
/// in that order of precedence.
public struct ConfigurationLoader: Sendable {
    /// Values given as command-line flags, by config-file key (such as `database_url`).
    public var flags: [String: String]
    /// The process environment.
    public var environment: [String: String]

    /// Every key the loader knows, with its environment variable and meaning (for `--help`
    /// and the README).
    public static let keys: [(key: String, summary: String)] = [
        ("host", "address to listen on (default 127.0.0.1)"),
        ("port", "port to listen on (default 8080)"),
        ("data_dir", "directory for the SQLite file and generated secret (default ./.keywarden)"),
        ("database_url", "postgres://..., sqlite:PATH or sqlite::memory: (default: SQLite file in the data dir)"),
        ("secret", "server secret, 32+ characters (environment or config file only)"),
        ("migrate", "apply pending PostgreSQL migrations on start: true/false (default false)"),
        ("bcrypt_cost", "bcrypt cost for password hashes, 4-31 (default 12)"),
        ("log_level", "trace, debug, info, notice, warning, error, critical (default info)"),
        ("session_idle_timeout", "seconds of inactivity that end a session (default 604800)"),
        ("session_lifetime", "seconds after sign-in that end a session (default 2592000)"),
        ("login_attempts_per_account", "failed sign-ins per email per 15 minutes (default 10)"),
        ("login_attempts_per_address", "failed sign-ins per client address per 15 minutes (default 50)"),
    ]

    /// The environment variable for a key: `KEYWARDEN_` and the key in capitals.
    public static func environmentName(_ key: String) -> String {
        "KEYWARDEN_" + key.uppercased()
    }

    /// Creates a loader.
    public init(flags: [String: String] = [:], environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.flags = flags
        self.environment = environment
    }

    /// Resolves every setting.
    ///
    /// - Throws: ``ConfigurationError`` naming the first setting that is unreadable, and
    ///   any error reading the config file named by `config` (flag) or `KEYWARDEN_CONFIG`.
    public func load() throws -> KeywardenConfiguration {
        let file = try readConfigFile()
        func value(_ key: String) -> String? {
            flags[key] ?? environment[Self.environmentName(key)] ?? file[key]
        }
        var configuration = KeywardenConfiguration()
        if let host = value("host") { configuration.host = host }
        if let port = try integer(value("port"), key: "port", in: 1...65535) { configuration.port = port }
        if let directory = value("data_dir") { configuration.dataDirectory = directory }
        if let url = value("database_url") {
            configuration.databaseURL = url
            _ = try DatabaseLocation(url: url)
        }
        if let secret = value("secret") {
            guard secret.utf8.count >= 32 else {
                throw ConfigurationError(key: "secret", message: "must be at least 32 characters")
            }
            configuration.secret = secret
        }
        if let migrate = try boolean(value("migrate"), key: "migrate") { configuration.migrateOnStart = migrate }
        if let cost = try integer(value("bcrypt_cost"), key: "bcrypt_cost", in: 4...31) {
            configuration.bcryptCost = cost
        }
        if let level = value("log_level") {
            let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
            guard levels.contains(level) else {
                throw ConfigurationError(key: "log_level", message: "expected one of \(levels.joined(separator: ", "))")
            }
            configuration.logLevel = level
        }
        let day = 24 * 3600
        if let idle = try integer(value("session_idle_timeout"), key: "session_idle_timeout", in: 60...(365 * day)) {
            configuration.sessionIdleTimeout = idle
        }
        if let lifetime = try integer(value("session_lifetime"), key: "session_lifetime", in: 60...(365 * day)) {
            configuration.sessionLifetime = lifetime
        }
        if let limit = try integer(
            value("login_attempts_per_account"), key: "login_attempts_per_account", in: 1...10000)
        {
            configuration.loginAttemptsPerAccount = limit
        }
        if let limit = try integer(
            value("login_attempts_per_address"), key: "login_attempts_per_address", in: 1...100000)
        {
            configuration.loginAttemptsPerAddress = limit
        }
        return configuration
    }

    private func readConfigFile() throws -> [String: String] {
        guard let path = flags["config"] ?? environment["KEYWARDEN_CONFIG"] else { return [:] }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigurationError(key: "config", message: "cannot read config file at \(path)")
        }
        guard let object = try? JSONDecoder().decode([String: FileValue].self, from: data) else {
            throw ConfigurationError(
                key: "config", message: "\(path) must hold a JSON object of settings (strings, numbers, booleans)")
        }
        let known = Set(Self.keys.map(\.key))
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw ConfigurationError(key: unknown, message: "unknown setting in \(path)")
        }
        return object.mapValues(\.text)
    }

    /// A config-file value, kept as the text a flag would have given.
    private struct FileValue: Decodable {
        let text: String

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self.text = text
            } else if let flag = try? container.decode(Bool.self) {
                self.text = flag ? "true" : "false"
            } else if let number = try? container.decode(Int.self) {
                self.text = String(number)
            } else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "expected a string, integer or boolean")
            }
        }
    }

    private func integer(_ raw: String?, key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let raw else { return nil }
        guard let value = Int(raw), range.contains(value) else {
            throw ConfigurationError(
                key: key, message: "expected an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    private func boolean(_ raw: String?, key: String) throws -> Bool? {
        guard let raw else { return nil }
        switch raw.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw ConfigurationError(key: key, message: "expected true or false")
        }
    }
}
