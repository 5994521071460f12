import Foundation
import KeywardenCore
import PhoneNumbers

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
        ("http_header_timeout", "seconds a new connection has to send its first request head (default 10)"),
        ("http_idle_timeout", "seconds a connection may stay idle before it is closed (default 30)"),
        ("max_connections", "connections held open at once; more wait to be accepted (default 4096)"),
        ("shutdown_timeout", "seconds requests in flight get to finish after SIGTERM or SIGINT (default 5)"),
        (
            "usage_flush_interval",
            "seconds between writes of gateway usage; a crash loses at most this much (default 1)"
        ),
        ("bcrypt_cost", "bcrypt cost for password hashes, 4-31 (default 12)"),
        ("log_level", "trace, debug, info, notice, warning, error, critical (default info)"),
        ("session_idle_timeout", "seconds of inactivity that end a session (default 604800)"),
        ("session_lifetime", "seconds after sign-in that end a session (default 2592000)"),
        ("login_attempts_per_account", "failed sign-ins per email per 15 minutes (default 10)"),
        ("login_attempts_per_address", "failed sign-ins per client address per 15 minutes (default 50)"),
        ("enforcement_date", "ISO 8601 instant from which new keys need verification (default 2024-11-05T00:00:00Z)"),
        ("verification_scope", "organization or user: whose verification lets keys be created (default organization)"),
        ("key_stem", "the stem of key prefixes, letters and digits (default sk)"),
        ("operator_token", "token for POST /v1/keys/verify, 32+ characters (environment or config file only)"),
        ("upstream_url", "where /v1/* calls go: echo (development upstream) or a base URL (default: gateway off)"),
        (
            "upstream_authorization",
            "Authorization header sent upstream instead of the caller's key (environment or config file only)"
        ),
        ("upstream_connect_timeout", "seconds to connect to the upstream (default 10)"),
        ("upstream_read_timeout", "seconds the upstream may stay silent, between streamed chunks too (default 120)"),
        ("upstream_max_connections", "connections kept open to the upstream (default 256)"),
        ("gateway_max_request_bytes", "largest request body of a gateway call, in bytes (default 1073741824, 1 GiB)"),
        (
            "rate_limit_tiers",
            "gateway tiers: 'name: rpm=N tpm=N [project_rpm= project_tpm= key_rpm= key_tpm=]; ...' (default \(RateLimitTiers.standardText))"
        ),
        ("rate_limit_default_tier", "tier of organizations without one (default free)"),
        (
            "rate_limit_store",
            "memory (each instance counts alone) or database (instances share limits; default on PostgreSQL)"
        ),
        ("sms_provider", "log (development), twilio, twilio-verify or webhook (default log)"),
        ("line_type_lookup", "offline or twilio-lookup (default offline)"),
        ("public_url", "the server's public base URL, for Twilio delivery reports"),
        ("twilio_account_sid", "Twilio account SID"),
        ("twilio_auth_token", "Twilio auth token (environment or config file only)"),
        ("twilio_from", "Twilio sending number, E.164"),
        ("twilio_messaging_service_sid", "Twilio messaging service SID (instead of twilio_from)"),
        ("twilio_verify_service_sid", "Twilio Verify service SID, for sms_provider twilio-verify"),
        ("twilio_api_base_url", "Twilio Messaging base URL (default https://api.twilio.com)"),
        ("twilio_verify_base_url", "Twilio Verify base URL (default https://verify.twilio.com)"),
        ("twilio_lookup_base_url", "Twilio Lookup base URL (default https://lookups.twilio.com)"),
        ("sms_webhook_url", "endpoint the webhook provider posts {to, body, verification_id} to"),
        ("sms_webhook_secret", "HMAC-SHA256 key for the webhook provider's Keywarden-Signature header"),
        ("verification_code_lifetime", "seconds a code lives (default 600)"),
        ("verification_max_checks", "checks allowed per code (default 5)"),
        ("verification_resend_cooldown", "seconds before the first resend, doubling after (default 30)"),
        ("max_organizations_per_phone", "organizations one number may verify (default 2)"),
        ("allowed_countries", "comma-separated ISO codes numbers may come from (default: all)"),
        (
            "blocked_line_types",
            "comma-separated line types refused (default voip,toll_free,premium_rate,shared_cost,uan,pager,voicemail,personal_number,fixed_line)"
        ),
        ("sms_sends_per_number_per_10_minutes", "codes sent to one number per 10 minutes (default 5)"),
        ("sms_sends_per_number_per_day", "codes sent to one number per day (default 10)"),
        ("sms_sends_per_organization_per_day", "codes sent for one organization per day (default 10)"),
        ("sms_sends_per_address_per_hour", "codes requested from one client address per hour (default 20)"),
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
        let serverSettings: [(String, ClosedRange<Int>, WritableKeyPath<KeywardenConfiguration, Int>)] = [
            ("http_header_timeout", 1...300, \.httpHeaderTimeout),
            ("http_idle_timeout", 1...3600, \.httpIdleTimeout),
            ("max_connections", 16...1_000_000, \.maxConnections),
            ("shutdown_timeout", 1...300, \.shutdownTimeout),
            ("usage_flush_interval", 1...60, \.usageFlushInterval),
        ]
        for (key, range, path) in serverSettings {
            if let number = try integer(value(key), key: key, in: range) { configuration[keyPath: path] = number }
        }
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
        try loadVerification(into: &configuration, value: value)
        try loadKeys(into: &configuration, value: value)
        if let upstream = value("upstream_url") {
            guard upstream == "echo" || upstream.hasPrefix("http://") || upstream.hasPrefix("https://") else {
                throw ConfigurationError(key: "upstream_url", message: "expected echo or an http(s):// base URL")
            }
            configuration.upstream = upstream
        }
        configuration.upstreamAuthorization = value("upstream_authorization")
        if let seconds = try integer(value("upstream_connect_timeout"), key: "upstream_connect_timeout", in: 1...300) {
            configuration.upstreamConnectTimeout = seconds
        }
        if let seconds = try integer(value("upstream_read_timeout"), key: "upstream_read_timeout", in: 1...3600) {
            configuration.upstreamReadTimeout = seconds
        }
        if let count = try integer(value("upstream_max_connections"), key: "upstream_max_connections", in: 1...10000) {
            configuration.upstreamMaxConnections = count
        }
        if let bytes = try integer(
            value("gateway_max_request_bytes"), key: "gateway_max_request_bytes", in: 1024...(1 << 36))
        {
            configuration.gatewayMaxRequestBytes = bytes
        }
        try loadRateLimits(into: &configuration, value: value)
        return configuration
    }

    private func loadRateLimits(into configuration: inout KeywardenConfiguration, value: (String) -> String?) throws {
        if let raw = value("rate_limit_store") {
            guard let store = RateLimitStore(rawValue: raw) else {
                throw ConfigurationError(key: "rate_limit_store", message: "expected memory or database")
            }
            configuration.rateLimitStore = store
        }
        let tierText = value("rate_limit_tiers")
        let defaultTier = value("rate_limit_default_tier")
        guard tierText != nil || defaultTier != nil else { return }
        let tiers: [RateLimitTier]
        do {
            tiers = try RateLimitTiers.parseTiers(tierText ?? RateLimitTiers.standardText)
        } catch {
            throw ConfigurationError(key: "rate_limit_tiers", message: error.message)
        }
        let name = defaultTier ?? tiers[0].name
        guard let set = RateLimitTiers(tiers: tiers, defaultTier: name) else {
            throw ConfigurationError(
                key: "rate_limit_default_tier",
                message: "'\(name)' is not a configured tier (\(tiers.map(\.name).joined(separator: ", ")))")
        }
        configuration.rateLimitTiers = set
    }

    private func loadVerification(
        into configuration: inout KeywardenConfiguration, value: (String) -> String?
    ) throws {
        var policy = configuration.verification
        if let seconds = try integer(
            value("verification_code_lifetime"), key: "verification_code_lifetime", in: 60...86_400)
        {
            policy.codeLifetime = TimeInterval(seconds)
        }
        if let checks = try integer(value("verification_max_checks"), key: "verification_max_checks", in: 1...20) {
            policy.maxChecks = checks
        }
        if let seconds = try integer(
            value("verification_resend_cooldown"), key: "verification_resend_cooldown", in: 0...3600)
        {
            policy.resendCooldown = TimeInterval(seconds)
        }
        if let limit = try integer(
            value("max_organizations_per_phone"), key: "max_organizations_per_phone", in: 1...1000)
        {
            policy.maxOrganizationsPerPhone = limit
        }
        let caps: [(String, WritableKeyPath<VerificationPolicy, Int>)] = [
            ("sms_sends_per_number_per_10_minutes", \.sendsPerNumberPer10Minutes),
            ("sms_sends_per_number_per_day", \.sendsPerNumberPerDay),
            ("sms_sends_per_organization_per_day", \.sendsPerOrganizationPerDay),
            ("sms_sends_per_address_per_hour", \.sendsPerClientAddressPerHour),
        ]
        for (key, path) in caps {
            if let limit = try integer(value(key), key: key, in: 1...100_000) { policy[keyPath: path] = limit }
        }
        if let list = value("allowed_countries") {
            let codes = Set(
                list.split(separator: ",").map { $0.trimmingWhitespace().uppercased() }.filter { !$0.isEmpty })
            let known = Set(PhoneNumbers.regions.map(\.code))
            if let unknown = codes.subtracting(known).sorted().first {
                throw ConfigurationError(key: "allowed_countries", message: "unknown country code '\(unknown)'")
            }
            policy.allowedCountries = codes.isEmpty ? nil : codes
        }
        if let list = value("blocked_line_types") {
            var types: Set<PhoneNumberType> = []
            for name in list.split(separator: ",").map({ $0.trimmingWhitespace() }) where !name.isEmpty {
                guard let type = PhoneNumberType(rawValue: name) else {
                    throw ConfigurationError(key: "blocked_line_types", message: "unknown line type '\(name)'")
                }
                types.insert(type)
            }
            policy.blockedLineTypes = types
        }
        configuration.verification = policy

        if let raw = value("sms_provider") {
            guard let kind = SMSProviderKind(rawValue: raw) else {
                throw ConfigurationError(
                    key: "sms_provider",
                    message: "expected one of \(SMSProviderKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            configuration.smsProvider = kind
        }
        if let raw = value("line_type_lookup") {
            guard let kind = LineTypeLookupKind(rawValue: raw) else {
                throw ConfigurationError(key: "line_type_lookup", message: "expected offline or twilio-lookup")
            }
            configuration.lineTypeLookup = kind
        }
        configuration.publicURL = value("public_url")
        configuration.twilioAccountSID = value("twilio_account_sid")
        configuration.twilioAuthToken = value("twilio_auth_token")
        configuration.twilioFrom = value("twilio_from")
        configuration.twilioMessagingServiceSID = value("twilio_messaging_service_sid")
        configuration.twilioVerifyServiceSID = value("twilio_verify_service_sid")
        if let url = value("twilio_api_base_url") { configuration.twilioAPIBaseURL = url }
        if let url = value("twilio_verify_base_url") { configuration.twilioVerifyBaseURL = url }
        if let url = value("twilio_lookup_base_url") { configuration.twilioLookupBaseURL = url }
        configuration.smsWebhookURL = value("sms_webhook_url")
        configuration.smsWebhookSecret = value("sms_webhook_secret")
        try requireProviderSettings(configuration)
    }

    private func loadKeys(into configuration: inout KeywardenConfiguration, value: (String) -> String?) throws {
        if let raw = value("enforcement_date") {
            guard let date = ISO8601DateFormatter().date(from: raw) else {
                throw ConfigurationError(
                    key: "enforcement_date", message: "expected an ISO 8601 instant such as 2024-11-05T00:00:00Z")
            }
            configuration.enforcementDate = date
        }
        if let raw = value("verification_scope") {
            guard let scope = KeyIssuancePolicy.Scope(rawValue: raw) else {
                throw ConfigurationError(key: "verification_scope", message: "expected organization or user")
            }
            configuration.verificationScope = scope
        }
        if let stem = value("key_stem") {
            guard (1...16).contains(stem.count),
                stem.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 122) })
            else {
                throw ConfigurationError(key: "key_stem", message: "expected 1 to 16 lowercase letters and digits")
            }
            configuration.keyStem = stem
        }
        if let token = value("operator_token") {
            guard token.utf8.count >= 32 else {
                throw ConfigurationError(key: "operator_token", message: "must be at least 32 characters")
            }
            configuration.operatorToken = token
        }
    }

    private func requireProviderSettings(_ configuration: KeywardenConfiguration) throws {
        let needsTwilio =
            configuration.smsProvider == .twilio || configuration.smsProvider == .twilioVerify
            || configuration.lineTypeLookup == .twilioLookup
        if needsTwilio {
            guard configuration.twilioAccountSID != nil else {
                throw ConfigurationError(key: "twilio_account_sid", message: "required by the Twilio providers")
            }
            guard configuration.twilioAuthToken != nil else {
                throw ConfigurationError(key: "twilio_auth_token", message: "required by the Twilio providers")
            }
        }
        switch configuration.smsProvider {
        case .twilio:
            guard configuration.twilioFrom != nil || configuration.twilioMessagingServiceSID != nil else {
                throw ConfigurationError(
                    key: "twilio_from", message: "sms_provider twilio needs twilio_from or twilio_messaging_service_sid"
                )
            }
        case .twilioVerify:
            guard configuration.twilioVerifyServiceSID != nil else {
                throw ConfigurationError(
                    key: "twilio_verify_service_sid", message: "required by sms_provider twilio-verify")
            }
        case .webhook:
            guard configuration.smsWebhookURL != nil else {
                throw ConfigurationError(key: "sms_webhook_url", message: "required by sms_provider webhook")
            }
            guard (configuration.smsWebhookSecret?.utf8.count ?? 0) >= 16 else {
                throw ConfigurationError(
                    key: "sms_webhook_secret", message: "sms_provider webhook needs a secret of 16+ characters")
            }
        case .log:
            break
        }
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
