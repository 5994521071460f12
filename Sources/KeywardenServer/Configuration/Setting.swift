import KeywardenCore

/// Every setting Keywarden reads: its key in the config file, its environment variable, what it
/// means and its default. `serve --help`, the config file's check for unknown keys and the
/// README's tables all come from, or are tested against, this one list.
public enum Setting: String, CaseIterable, Sendable {
    case host, port
    case dataDirectory = "data_dir"
    case databaseURL = "database_url"
    case secret, migrate
    case httpHeaderTimeout = "http_header_timeout"
    case httpIdleTimeout = "http_idle_timeout"
    case maxConnections = "max_connections"
    case shutdownTimeout = "shutdown_timeout"
    case usageFlushInterval = "usage_flush_interval"
    case bcryptCost = "bcrypt_cost"
    case logLevel = "log_level"
    case sessionIdleTimeout = "session_idle_timeout"
    case sessionLifetime = "session_lifetime"
    case loginAttemptsPerAccount = "login_attempts_per_account"
    case loginAttemptsPerAddress = "login_attempts_per_address"
    case enforcementDate = "enforcement_date"
    case verificationScope = "verification_scope"
    case keyStem = "key_stem"
    case operatorToken = "operator_token"
    case upstreamURL = "upstream_url"
    case upstreamAuthorization = "upstream_authorization"
    case upstreamConnectTimeout = "upstream_connect_timeout"
    case upstreamReadTimeout = "upstream_read_timeout"
    case upstreamMaxConnections = "upstream_max_connections"
    case gatewayMaxRequestBytes = "gateway_max_request_bytes"
    case rateLimitTiers = "rate_limit_tiers"
    case rateLimitDefaultTier = "rate_limit_default_tier"
    case rateLimitStore = "rate_limit_store"
    case smsProvider = "sms_provider"
    case lineTypeLookup = "line_type_lookup"
    case publicURL = "public_url"
    case twilioAccountSID = "twilio_account_sid"
    case twilioAuthToken = "twilio_auth_token"
    case twilioFrom = "twilio_from"
    case twilioMessagingServiceSID = "twilio_messaging_service_sid"
    case twilioVerifyServiceSID = "twilio_verify_service_sid"
    case twilioAPIBaseURL = "twilio_api_base_url"
    case twilioVerifyBaseURL = "twilio_verify_base_url"
    case twilioLookupBaseURL = "twilio_lookup_base_url"
    case smsWebhookURL = "sms_webhook_url"
    case smsWebhookSecret = "sms_webhook_secret"
    case verificationCodeLifetime = "verification_code_lifetime"
    case verificationMaxChecks = "verification_max_checks"
    case verificationResendCooldown = "verification_resend_cooldown"
    case maxOrganizationsPerPhone = "max_organizations_per_phone"
    case allowedCountries = "allowed_countries"
    case blockedLineTypes = "blocked_line_types"
    case smsSendsPerNumberPer10Minutes = "sms_sends_per_number_per_10_minutes"
    case smsSendsPerNumberPerDay = "sms_sends_per_number_per_day"
    case smsSendsPerOrganizationPerDay = "sms_sends_per_organization_per_day"
    case smsSendsPerAddressPerHour = "sms_sends_per_address_per_hour"

    /// The key, as in the config file.
    public var key: String { rawValue }

    /// The environment variable: `KEYWARDEN_` and the key in capitals.
    public var environmentVariable: String { "KEYWARDEN_" + rawValue.uppercased() }

    /// Secrets are read only from the environment or the config file, and are redacted wherever
    /// configuration access is reported (such as `CONFIG_ACCESS_LOG_FILE`). A database URL can
    /// hold a password, so it counts as one too.
    public var isSecret: Bool {
        switch self {
        case .secret, .operatorToken, .upstreamAuthorization, .twilioAuthToken, .smsWebhookSecret, .databaseURL:
            return true
        default:
            return false
        }
    }

    /// The command-line flag that sets it, where there is one.
    public var flag: String? {
        switch self {
        case .host, .port, .dataDirectory, .databaseURL, .migrate, .bcryptCost, .logLevel, .upstreamURL:
            return "--" + rawValue.replacingOccurrences(of: "_", with: "-")
        default:
            return nil
        }
    }

    /// The default as the README's tables write it, where it is a single literal value.
    public var defaultValue: String? {
        switch self {
        case .host: "127.0.0.1"
        case .port: "8080"
        case .dataDirectory: "./.keywarden"
        case .migrate: "false"
        case .httpHeaderTimeout: "10"
        case .httpIdleTimeout: "30"
        case .maxConnections: "4096"
        case .shutdownTimeout: "5"
        case .usageFlushInterval: "1"
        case .bcryptCost: "12"
        case .logLevel: "info"
        case .sessionIdleTimeout: "604800"
        case .sessionLifetime: "2592000"
        case .loginAttemptsPerAccount: "10"
        case .loginAttemptsPerAddress: "50"
        case .enforcementDate: "2024-11-05T00:00:00Z"
        case .verificationScope: "organization"
        case .keyStem: "sk"
        case .upstreamConnectTimeout: "10"
        case .upstreamReadTimeout: "120"
        case .upstreamMaxConnections: "256"
        case .gatewayMaxRequestBytes: "1073741824"
        case .rateLimitTiers: RateLimitTiers.standardText
        case .rateLimitDefaultTier: "free"
        case .smsProvider: "log"
        case .lineTypeLookup: "offline"
        case .verificationCodeLifetime: "600"
        case .verificationMaxChecks: "5"
        case .verificationResendCooldown: "30"
        case .maxOrganizationsPerPhone: "2"
        case .blockedLineTypes: "voip,toll_free,premium_rate,shared_cost,uan,pager,voicemail,personal_number,fixed_line"
        case .smsSendsPerNumberPer10Minutes: "5"
        case .smsSendsPerNumberPerDay, .smsSendsPerOrganizationPerDay: "10"
        case .smsSendsPerAddressPerHour: "20"
        case .twilioAPIBaseURL: "https://api.twilio.com"
        case .twilioVerifyBaseURL: "https://verify.twilio.com"
        case .twilioLookupBaseURL: "https://lookups.twilio.com"
        default: nil
        }
    }
}
