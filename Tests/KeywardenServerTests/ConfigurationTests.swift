import Configuration
import Foundation
import KeywardenCore
import KeywardenServer
import Synchronization
import Testing

@Suite("Configuration")
struct ConfigurationTests {
    func load(flags: [String: String] = [:], environment: [String: String]) async throws -> KeywardenConfiguration {
        try await KeywardenConfiguration.load(from: ConfigurationSources(flags: flags, environment: environment))
    }

    func writeConfigFile(_ json: String) throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("keywarden-config-\(UUID().uuidString).json").path
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func everySettingIsInTheReadmesTablesWithItsFlagVariableAndDefault() async throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        // A table row's first cell names one setting or several (`a`, `b` or `a` or `b`).
        let rows = text.split(separator: "\n").filter { $0.hasPrefix("| `") }.map(String.init)
        func firstCell(_ row: String) -> String { row.split(separator: "|").first.map(String.init) ?? "" }
        for setting in Setting.allCases {
            let row = rows.first { firstCell($0).contains("`\(setting.key)`") }
            guard let row else {
                Issue.record("\(setting.key) is missing from the README's tables")
                continue
            }
            if let flag = setting.flag {
                #expect(row.contains("`\(flag)`"), "the README row of \(setting.key) lacks its flag \(flag)")
            }
            if row.contains("KEYWARDEN_") {
                #expect(row.contains("`\(setting.environmentVariable)`"), "\(setting.key): wrong environment variable")
            }
            if let value = setting.defaultValue {
                #expect(row.contains("`\(value)`"), "the README row of \(setting.key) lacks its default \(value)")
            }
        }
        // And the tables name no setting the server does not read.
        let named = rows.flatMap { firstCell($0).matches(of: /`([a-z0-9_]+)`/).map { String($0.output.1) } }
        let unknown = named.filter { Setting(rawValue: $0) == nil }
        #expect(unknown.isEmpty, "README settings the server does not know: \(unknown)")
    }

    @Test func secretsAreReadButRedactedWhereverSettingsAreReported() async throws {
        let token = "file-operator-token-0123456789abcdef"
        let file = try writeConfigFile(#"{"operator_token": "\#(token)", "port": 9001}"#)
        let secrets = [
            "KEYWARDEN_SECRET": "environment-server-secret-0123456789abcdef",
            "KEYWARDEN_DATABASE_URL": "postgres://keywarden:hunter2-password@db.internal/keywarden",
            "KEYWARDEN_UPSTREAM_AUTHORIZATION": "Bearer upstream-secret-value",
            "KEYWARDEN_SMS_WEBHOOK_SECRET": "webhook-secret-0123456789",
        ]
        let reporter = RecordingAccessReporter()
        let configuration = try await KeywardenConfiguration.load(
            from: ConfigurationSources(
                flags: ["config": file],
                environment: secrets.merging([
                    "KEYWARDEN_SMS_PROVIDER": "webhook", "KEYWARDEN_SMS_WEBHOOK_URL": "https://hooks.example.com/sms",
                ]) { $1 }),
            accessReporter: reporter)
        #expect(configuration.keys.operatorToken == token)
        #expect(configuration.storage.secret == secrets["KEYWARDEN_SECRET"])
        #expect(configuration.storage.databaseURL == secrets["KEYWARDEN_DATABASE_URL"])
        #expect(configuration.gateway.upstreamAuthorization == secrets["KEYWARDEN_UPSTREAM_AUTHORIZATION"])
        #expect(
            configuration.providers.sms
                == .webhook(url: "https://hooks.example.com/sms", secret: secrets["KEYWARDEN_SMS_WEBHOOK_SECRET"]!))
        #expect(configuration.server.port == 9001)
        let reported = reporter.descriptions.joined(separator: "\n")
        #expect(reported.contains("operator_token"))
        #expect(reported.contains("9001"))
        #expect(reported.contains("https://hooks.example.com/sms"))
        for value in Array(secrets.values) + [token, "hunter2"] {
            #expect(!reported.contains(value), "a secret was reported: \(value)")
        }
    }

    @Test(arguments: [
        ("KEYWARDEN_HTTP_HEADER_TIMEOUT", "0"), ("KEYWARDEN_HTTP_IDLE_TIMEOUT", "3601"),
        ("KEYWARDEN_MAX_CONNECTIONS", "15"), ("KEYWARDEN_SHUTDOWN_TIMEOUT", "-1"),
        ("KEYWARDEN_USAGE_FLUSH_INTERVAL", "61"), ("KEYWARDEN_GATEWAY_MAX_REQUEST_BYTES", "1023"),
    ])
    func serverSettingsOutOfRangeAreRefusedNamingThem(_ variable: String, _ value: String) async {
        let error = await #expect(throws: ConfigurationError.self) {
            try await load(environment: [variable: value])
        }
        #expect(error?.key == variable.dropFirst("KEYWARDEN_".count).lowercased())
    }

    @Test func usageTiersAndModelPricesAreReadAndTheOlderTierSettingIsRefusedBesideThem() async throws {
        let configuration = try await load(environment: [
            "KEYWARDEN_USAGE_TIERS":
                "free: paid=0 monthly=none rpm=1 tpm=2; gold: paid=10 days=3 monthly=50 rpm=3 tpm=4",
            "KEYWARDEN_MODEL_PRICES": "gpt-4o: input=2.50 output=10; default: input=1 output=1",
            "KEYWARDEN_SPEND_SLICE": "25",
        ])
        let gold = try #require(configuration.gateway.usageTiers.tier(named: "gold"))
        #expect(gold.qualifyingPaidMicros == 10_000_000 && gold.qualifyingDays == 3)
        #expect(gold.monthlyLimitMicros == 50_000_000 && gold.rateLimits.organization.requests == 3)
        #expect(configuration.gateway.rateLimitTiers.defaultTier == "free")
        #expect(configuration.gateway.modelPrices.price(for: "gpt-4o-2024-08-06").inputMicrosPerMillion == 2_500_000)
        #expect(configuration.gateway.modelPrices.price(for: "other").outputMicrosPerMillion == 1_000_000)
        #expect(configuration.gateway.spendSlice == 25)
        let error = await #expect(throws: ConfigurationError.self) {
            try await load(environment: [
                "KEYWARDEN_USAGE_TIERS": "free: paid=0 monthly=none rpm=1 tpm=2",
                "KEYWARDEN_RATE_LIMIT_TIERS": "a: rpm=1 tpm=2",
            ])
        }
        #expect(error?.key == "usage_tiers")
    }

    @Test func rateLimitTiersAndTheirDefaultAreRead() async throws {
        let configuration = try await load(environment: [
            "KEYWARDEN_RATE_LIMIT_TIERS": "a: rpm=1 tpm=2; b: rpm=3 tpm=4 key_rpm=1",
            "KEYWARDEN_RATE_LIMIT_DEFAULT_TIER": "b",
        ]
        )
        #expect(configuration.gateway.rateLimitTiers.defaultTier == "b")
        #expect(configuration.gateway.rateLimitTiers.tier(named: nil).key.requests == 1)
        #expect(configuration.gateway.usesLegacyTiers)
        #expect(configuration.gateway.usageTiers.tier(named: "a")?.qualifyingPaidMicros == nil)
        let defaults = try await load(environment: [:]).gateway
        #expect(defaults.usageTiers == .standard && !defaults.usesLegacyTiers)
        #expect(defaults.modelPrices == .none && defaults.spendSlice == 100)
        #expect(
            try await load(environment: ["KEYWARDEN_RATE_LIMIT_DEFAULT_TIER": "tier-1"])
                .gateway.rateLimitTiers.defaultTier == "tier-1")
        #expect(try await load(environment: [:]).gateway.rateLimitStore == nil)
        #expect(
            try await load(environment: ["KEYWARDEN_RATE_LIMIT_STORE": "database"]).gateway.rateLimitStore
                == .database)
        for (key, value) in [
            ("rate_limit_tiers", "a: rpm=1"), ("rate_limit_default_tier", "platinum"), ("rate_limit_store", "redis"),
            ("usage_tiers", "free: paid=5 monthly=1 rpm=1 tpm=1"), ("model_prices", "gpt-4o: input=1"),
            ("spend_slice", "0"),
        ] {
            let error = await #expect(throws: ConfigurationError.self) {
                try await load(flags: [key: value], environment: [:])
            }
            #expect(error?.key == key)
        }
    }

    @Test func whatsappCountriesAndTheWhatsAppSenderAreRead() async throws {
        let configured = try await load(environment: [
            "KEYWARDEN_WHATSAPP_COUNTRIES": "br in,  mx, ", "KEYWARDEN_TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
        ])
        #expect(configured.verification.whatsappCountries == ["BR", "IN", "MX"])
        #expect(configured.verification.channels(for: "BR") == [.sms, .whatsapp])
        #expect(configured.verification.channels(for: "US") == [.sms])
        #expect(configured.providers.twilioWhatsAppFrom == "+14155238886")
        let within = try await load(environment: [
            "KEYWARDEN_ALLOWED_COUNTRIES": "US,GB", "KEYWARDEN_WHATSAPP_COUNTRIES": "GB",
        ])
        #expect(within.verification.whatsappCountries == ["GB"])
        let defaults = try await load(environment: [:])
        #expect(defaults.verification.whatsappCountries.isEmpty)
        #expect(defaults.verification.channels(for: "GB") == [.sms])
        #expect(defaults.providers.twilioWhatsAppFrom == nil)
        let template = try await load(environment: [
            "KEYWARDEN_TWILIO_WHATSAPP_CONTENT_SID": "HX0123456789abcdef0123456789ABCDEF",
            "KEYWARDEN_SMS_PRICES": "us=0.0079 default=0.05",
        ])
        #expect(template.providers.twilioWhatsAppContentSID == "HX0123456789abcdef0123456789ABCDEF")
        #expect(template.verificationMessagePrices == MessagePrices(byCountry: ["US": 7_900], fallback: 50_000))
    }

    @Test(arguments: [
        (["KEYWARDEN_WHATSAPP_COUNTRIES": "GB QQ"], "whatsapp_countries"),
        (["KEYWARDEN_WHATSAPP_COUNTRIES": "all"], "whatsapp_countries"),
        (["KEYWARDEN_ALLOWED_COUNTRIES": "US", "KEYWARDEN_WHATSAPP_COUNTRIES": "US,GB"], "whatsapp_countries"),
        (["KEYWARDEN_TWILIO_WHATSAPP_FROM": "4155238886"], "twilio_whatsapp_from"),
        (["KEYWARDEN_TWILIO_WHATSAPP_FROM": "whatsapp:+1 415 523 8886"], "twilio_whatsapp_from"),
        (["KEYWARDEN_TWILIO_WHATSAPP_CONTENT_SID": "HX123"], "twilio_whatsapp_content_sid"),
        (
            [
                "KEYWARDEN_SMS_PROVIDER": "twilio", "KEYWARDEN_TWILIO_ACCOUNT_SID": "AC123",
                "KEYWARDEN_TWILIO_AUTH_TOKEN": "token", "KEYWARDEN_TWILIO_FROM": "+15005550006",
                "KEYWARDEN_WHATSAPP_COUNTRIES": "GB",
            ], "twilio_whatsapp_content_sid"
        ),
        (["KEYWARDEN_SMS_PRICES": "US=0.0079 GB"], "sms_prices"),
    ])
    func unusableWhatsAppSettingsAreRefusedNamingThem(_ environment: [String: String], _ key: String) async {
        let error = await #expect(throws: ConfigurationError.self) {
            try await load(environment: environment)
        }
        #expect(error?.key == key)
    }

    @Test func defaultsApplyWhenNothingIsSet() async throws {
        let configuration = try await load(flags: [:], environment: [:])
        #expect(configuration.server.host == "127.0.0.1")
        #expect(configuration.server.port == 8080)
        #expect(configuration.storage.dataDirectory == "./.keywarden")
        #expect(configuration.accounts.bcryptCost == 12)
        #expect(try configuration.database == .sqliteFile(URL(fileURLWithPath: "./.keywarden/keywarden.sqlite").path))
    }

    @Test func flagsBeatEnvironmentWhichBeatsTheFileWhichBeatsDefaults() async throws {
        let file = try writeConfigFile(#"{"port": 9001, "host": "0.0.0.0", "log_level": "debug", "bcrypt_cost": 10}"#)
        let configuration = try await load(
            flags: ["port": "9003", "config": file],
            environment: ["KEYWARDEN_PORT": "9002", "KEYWARDEN_HOST": "::1"]
        )
        #expect(configuration.server.port == 9003)
        #expect(configuration.server.host == "::1")
        #expect(configuration.server.logLevel == "debug")
        #expect(configuration.accounts.bcryptCost == 10)
        #expect(configuration.accounts.sessionLifetime == KeywardenConfiguration().accounts.sessionLifetime)
    }

    @Test func configFileCanBeNamedByTheEnvironmentAndHoldBooleans() async throws {
        let file = try writeConfigFile(#"{"migrate": true, "database_url": "postgres://u:p@localhost/db"}"#)
        let configuration = try await load(environment: ["KEYWARDEN_CONFIG": file])
        #expect(configuration.storage.migrateOnStart)
        #expect(try configuration.database == .postgres("postgres://u:p@localhost/db"))
    }

    @Test(arguments: [
        ("port", "http"), ("port", "70000"), ("bcrypt_cost", "3"), ("log_level", "loud"), ("migrate", "perhaps"),
        ("database_url", "mysql://localhost/db"), ("secret", "too-short"), ("session_lifetime", "-5"),
    ])
    func unreadableValuesAreRefusedNamingTheSetting(_ key: String, _ value: String) async throws {
        let error = await #expect(throws: ConfigurationError.self) {
            try await load(flags: [:], environment: [Setting(rawValue: key)!.environmentVariable: value])
        }
        #expect(error?.key == key)
    }

    @Test(arguments: [
        (#"{"port": true}"#, "port"), (#"{"verification_resend_cooldown": false}"#, "verification_resend_cooldown"),
        (#"{"port": "http"}"#, "port"), (#"{"bcrypt_cost": 3}"#, "bcrypt_cost"), (#"{"port": 1.5}"#, "config"),
        (#"{"allowed_countries": ["US"]}"#, "config"), (#"[8080]"#, "config"),
    ])
    func configFileValuesAreReadAsTheirTextAndRefusedLikeAnyOther(_ json: String, _ key: String) async throws {
        let file = try writeConfigFile(json)
        let error = await #expect(throws: ConfigurationError.self) {
            try await load(flags: ["config": file], environment: [:])
        }
        #expect(error?.key == key)
    }

    @Test func unknownConfigFileKeysAreRefused() async throws {
        let file = try writeConfigFile(#"{"prot": 80}"#)
        let error = await #expect(throws: ConfigurationError.self) {
            try await load(flags: ["config": file], environment: [:])
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

/// Keeps what configuration access reports, as an access log would write it.
final class RecordingAccessReporter: AccessReporter {
    private let events = Mutex<[String]>([])

    func report(_ event: AccessEvent) {
        events.withLock { $0.append(event.description) }
    }

    var descriptions: [String] { events.withLock { $0 } }
}
