import Foundation
import KeywardenServer
import Testing

@Suite("Configuration")
struct ConfigurationTests {
    func writeConfigFile(_ json: String) throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("keywarden-config-\(UUID().uuidString).json").path
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func everySettingIsInTheReadmesTables() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        // A table row's first cell names one setting or several (`a`, `b` or `a` or `b`).
        let firstCells = text.split(separator: "\n").filter { $0.hasPrefix("| `") }.map {
            $0.split(separator: "|").first.map(String.init) ?? ""
        }
        let missing = ConfigurationLoader.keys.map(\.key).filter { key in
            !firstCells.contains { $0.contains("`\(key)`") }
        }
        #expect(missing.isEmpty, "settings missing from the README: \(missing)")
    }

    @Test(arguments: [
        ("KEYWARDEN_HTTP_HEADER_TIMEOUT", "0"), ("KEYWARDEN_HTTP_IDLE_TIMEOUT", "3601"),
        ("KEYWARDEN_MAX_CONNECTIONS", "15"), ("KEYWARDEN_SHUTDOWN_TIMEOUT", "-1"),
        ("KEYWARDEN_USAGE_FLUSH_INTERVAL", "61"), ("KEYWARDEN_GATEWAY_MAX_REQUEST_BYTES", "1023"),
    ])
    func serverSettingsOutOfRangeAreRefusedNamingThem(_ variable: String, _ value: String) {
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader(environment: [variable: value]).load()
        }
        #expect(error?.key == variable.dropFirst("KEYWARDEN_".count).lowercased())
    }

    @Test func rateLimitTiersAndTheirDefaultAreRead() throws {
        let configuration = try ConfigurationLoader(
            environment: [
                "KEYWARDEN_RATE_LIMIT_TIERS": "a: rpm=1 tpm=2; b: rpm=3 tpm=4 key_rpm=1",
                "KEYWARDEN_RATE_LIMIT_DEFAULT_TIER": "b",
            ]
        ).load()
        #expect(configuration.rateLimitTiers.defaultTier == "b")
        #expect(configuration.rateLimitTiers.tier(named: nil).key.requests == 1)
        #expect(try ConfigurationLoader(environment: [:]).load().rateLimitTiers == .standard)
        #expect(
            try ConfigurationLoader(environment: ["KEYWARDEN_RATE_LIMIT_DEFAULT_TIER": "tier-1"]).load()
                .rateLimitTiers.defaultTier == "tier-1")
        #expect(try ConfigurationLoader(environment: [:]).load().rateLimitStore == nil)
        #expect(
            try ConfigurationLoader(environment: ["KEYWARDEN_RATE_LIMIT_STORE": "database"]).load().rateLimitStore
                == .database)
        for (key, value) in [
            ("rate_limit_tiers", "a: rpm=1"), ("rate_limit_default_tier", "platinum"), ("rate_limit_store", "redis"),
        ] {
            let error = #expect(throws: ConfigurationError.self) {
                try ConfigurationLoader(flags: [key: value], environment: [:]).load()
            }
            #expect(error?.key == key)
        }
    }

    @Test func defaultsApplyWhenNothingIsSet() throws {
        let configuration = try ConfigurationLoader(flags: [:], environment: [:]).load()
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.dataDirectory == "./.keywarden")
        #expect(configuration.bcryptCost == 12)
        #expect(try configuration.database == .sqliteFile(URL(fileURLWithPath: "./.keywarden/keywarden.sqlite").path))
    }

    @Test func flagsBeatEnvironmentWhichBeatsTheFileWhichBeatsDefaults() throws {
        let file = try writeConfigFile(#"{"port": 9001, "host": "0.0.0.0", "log_level": "debug", "bcrypt_cost": 10}"#)
        let configuration = try ConfigurationLoader(
            flags: ["port": "9003", "config": file],
            environment: ["KEYWARDEN_PORT": "9002", "KEYWARDEN_HOST": "::1"]
        ).load()
        #expect(configuration.port == 9003)
        #expect(configuration.host == "::1")
        #expect(configuration.logLevel == "debug")
        #expect(configuration.bcryptCost == 10)
        #expect(configuration.sessionLifetime == KeywardenConfiguration().sessionLifetime)
    }

    @Test func configFileCanBeNamedByTheEnvironmentAndHoldBooleans() throws {
        let file = try writeConfigFile(#"{"migrate": true, "database_url": "postgres://u:p@localhost/db"}"#)
        let configuration = try ConfigurationLoader(environment: ["KEYWARDEN_CONFIG": file]).load()
        #expect(configuration.migrateOnStart)
        #expect(try configuration.database == .postgres("postgres://u:p@localhost/db"))
    }

    @Test(arguments: [
        ("port", "http"), ("port", "70000"), ("bcrypt_cost", "3"), ("log_level", "loud"), ("migrate", "perhaps"),
        ("database_url", "mysql://localhost/db"), ("secret", "too-short"), ("session_lifetime", "-5"),
    ])
    func unreadableValuesAreRefusedNamingTheSetting(_ key: String, _ value: String) throws {
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader(flags: [:], environment: [ConfigurationLoader.environmentName(key): value]).load()
        }
        #expect(error?.key == key)
    }

    @Test func unknownConfigFileKeysAreRefused() throws {
        let file = try writeConfigFile(#"{"prot": 80}"#)
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader(flags: ["config": file], environment: [:]).load()
        }
        #expect(error?.key == "prot")
    }

    @Test(arguments: [
        ("sqlite::memory:", DatabaseLocation.sqliteMemory),
        ("sqlite:/var/lib/kw.sqlite", .sqliteFile("/var/lib/kw.sqlite")),
        ("sqlite:///var/lib/kw.sqlite", .sqliteFile("/var/lib/kw.sqlite")),
        ("postgresql://u@h/db", .postgres("postgresql://u@h/db")),
    ])
    func databaseURLSelectsTheBackend(_ url: String, _ expected: DatabaseLocation) throws {
        #expect(try DatabaseLocation(url: url) == expected)
    }
}
