import Foundation
import KeywardenCore
import KeywardenProviders
import PhoneNumbers

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
    case logFormat = "log_format"
    case accessLog = "access_log"
    case accessLogMaxBytes = "access_log_max_bytes"
    case accessLogFiles = "access_log_files"
    case metricsHost = "metrics_host"
    case metricsPort = "metrics_port"
    case sessionIdleTimeout = "session_idle_timeout"
    case sessionLifetime = "session_lifetime"
    case loginAttemptsPerAccount = "login_attempts_per_account"
    case loginAttemptsPerAddress = "login_attempts_per_address"
    case inviteLifetime = "invite_lifetime"
    case requireEmailConfirmation = "require_email_confirmation"
    case signupsPerAddressPerHour = "signups_per_address_per_hour"
    case stepUpWindow = "step_up_window"
    case refusedEmailDomains = "refused_email_domains"
    case captchaProvider = "captcha_provider"
    case captchaSecret = "captcha_secret"
    case captchaSiteKey = "captcha_site_key"
    case captchaVerifyURL = "captcha_verify_url"
    case enforcementDate = "enforcement_date"
    case verificationScope = "verification_scope"
    case keyStem = "key_stem"
    case operatorToken = "operator_token"
    case githubSecretScanningKeysURL = "github_secret_scanning_keys_url"
    case upstreamURL = "upstream_url"
    case upstreamAuthorization = "upstream_authorization"
    case upstreamConnectTimeout = "upstream_connect_timeout"
    case upstreamReadTimeout = "upstream_read_timeout"
    case upstreamMaxConnections = "upstream_max_connections"
    case gatewayMaxRequestBytes = "gateway_max_request_bytes"
    case usageTiers = "usage_tiers"
    case modelPrices = "model_prices"
    case spendSlice = "spend_slice"
    case rateLimitTiers = "rate_limit_tiers"
    case rateLimitDefaultTier = "rate_limit_default_tier"
    case rateLimitStore = "rate_limit_store"
    case smsProvider = "sms_provider"
    case smsPrices = "sms_prices"
    case lineTypeLookup = "line_type_lookup"
    case publicURL = "public_url"
    case twilioAccountSID = "twilio_account_sid"
    case twilioAuthToken = "twilio_auth_token"
    case twilioFrom = "twilio_from"
    case twilioWhatsAppFrom = "twilio_whatsapp_from"
    case twilioWhatsAppContentSID = "twilio_whatsapp_content_sid"
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
    case whatsappCountries = "whatsapp_countries"
    case blockedLineTypes = "blocked_line_types"
    case smsSendsPerNumberPer10Minutes = "sms_sends_per_number_per_10_minutes"
    case smsSendsPerNumberPerDay = "sms_sends_per_number_per_day"
    case smsSendsPerOrganizationPerDay = "sms_sends_per_organization_per_day"
    case smsSendsPerAddressPerHour = "sms_sends_per_address_per_hour"
    case emailProvider = "email_provider"
    case emailFrom = "email_from"
    case smtpHost = "smtp_host"
    case smtpPort = "smtp_port"
    case smtpSecurity = "smtp_security"
    case smtpUsername = "smtp_username"
    case smtpPassword = "smtp_password"
    case smtpCAFile = "smtp_ca_file"
    case smtpTimeout = "smtp_timeout"
    case paymentProvider = "payment_provider"
    case stripeSecretKey = "stripe_secret_key"
    case stripeWebhookSecret = "stripe_webhook_secret"
    case stripeAPIBaseURL = "stripe_api_base_url"
    case billingCurrency = "billing_currency"
    case maxOrganizationsPerCard = "max_organizations_per_card"
    case creditPurchaseMinimum = "credit_purchase_minimum"
    case creditPurchaseDefault = "credit_purchase_default"
    case creditPurchaseMaximum = "credit_purchase_maximum"
    case autoRechargeThreshold = "auto_recharge_threshold"
    case autoRechargeAmount = "auto_recharge_amount"
    case autoRechargeMonthlyCap = "auto_recharge_monthly_cap"
    case anomalyAlerts = "anomaly_alerts"
    case anomalyCallFactor = "anomaly_call_factor"
    case anomalyMinCalls = "anomaly_min_calls"
    case anomalyErrorFactor = "anomaly_error_factor"
    case anomalyMinErrors = "anomaly_min_errors"
    case anomalyIdleDays = "anomaly_idle_days"
    case anomalyAlertWindow = "anomaly_alert_window"

    /// The key, as in the config file.
    public var key: String { rawValue }

    /// The environment variable: `KEYWARDEN_` and the key in capitals.
    public var environmentVariable: String { "KEYWARDEN_" + rawValue.uppercased() }

    /// Secrets are read only from the environment or the config file, and are redacted wherever
    /// configuration access is reported (such as `CONFIG_ACCESS_LOG_FILE`). A database URL can
    /// hold a password, so it counts as one too.
    public var isSecret: Bool {
        switch self {
        case .secret, .operatorToken, .upstreamAuthorization, .twilioAuthToken, .smsWebhookSecret, .databaseURL,
            .smtpPassword, .captchaSecret, .stripeSecretKey, .stripeWebhookSecret:
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

    /// The default, written as a value of the setting would be, where it is a single value.
    /// It is read from the defaults of ``KeywardenConfiguration`` itself, so help and README
    /// (which a test holds to this) cannot drift from what the server does.
    public var defaultValue: String? {
        let defaults = KeywardenConfiguration()
        let twilio = TwilioAccount(accountSID: "", authToken: "")
        switch self {
        case .host: return defaults.server.host
        case .port: return String(defaults.server.port)
        case .logLevel: return defaults.server.logLevel
        case .logFormat: return defaults.server.logFormat.rawValue
        case .accessLog: return defaults.server.accessLog
        case .accessLogMaxBytes: return String(defaults.server.accessLogMaxBytes)
        case .accessLogFiles: return String(defaults.server.accessLogFiles)
        case .metricsHost: return defaults.server.metricsHost
        case .httpHeaderTimeout: return String(defaults.server.httpHeaderTimeout)
        case .httpIdleTimeout: return String(defaults.server.httpIdleTimeout)
        case .maxConnections: return String(defaults.server.maxConnections)
        case .shutdownTimeout: return String(defaults.server.shutdownTimeout)
        case .dataDirectory: return defaults.storage.dataDirectory
        case .migrate: return String(defaults.storage.migrateOnStart)
        case .bcryptCost: return String(defaults.accounts.bcryptCost)
        case .sessionIdleTimeout: return String(defaults.accounts.sessionIdleTimeout)
        case .sessionLifetime: return String(defaults.accounts.sessionLifetime)
        case .loginAttemptsPerAccount: return String(defaults.accounts.loginAttemptsPerAccount)
        case .loginAttemptsPerAddress: return String(defaults.accounts.loginAttemptsPerAddress)
        case .inviteLifetime: return String(defaults.accounts.inviteLifetime)
        case .requireEmailConfirmation: return String(defaults.accounts.requireEmailConfirmation)
        case .signupsPerAddressPerHour: return String(defaults.accounts.signupsPerAddressPerHour)
        case .stepUpWindow: return String(defaults.accounts.stepUpWindow)
        case .enforcementDate: return ISO8601DateFormatter().string(from: defaults.keys.enforcementDate)
        case .verificationScope: return defaults.keys.verificationScope.rawValue
        case .keyStem: return defaults.keys.keyStem
        case .githubSecretScanningKeysURL: return defaults.keys.githubSecretScanningKeysURL
        case .upstreamConnectTimeout: return String(defaults.gateway.connectTimeout)
        case .upstreamReadTimeout: return String(defaults.gateway.readTimeout)
        case .upstreamMaxConnections: return String(defaults.gateway.maxConnections)
        case .gatewayMaxRequestBytes: return String(defaults.gateway.maxRequestBytes)
        case .usageFlushInterval: return String(defaults.gateway.usageFlushInterval)
        case .usageTiers: return UsageTiers.standardText
        case .spendSlice: return String(defaults.gateway.spendSlice)
        case .smsProvider: return defaults.providers.sms.kind.rawValue
        case .lineTypeLookup: return defaults.providers.lineTypes.kind.rawValue
        case .twilioAPIBaseURL: return twilio.apiBaseURL
        case .twilioVerifyBaseURL: return twilio.verifyBaseURL
        case .twilioLookupBaseURL: return twilio.lookupBaseURL
        case .verificationCodeLifetime: return String(Int(defaults.verification.codeLifetime))
        case .verificationMaxChecks: return String(defaults.verification.maxChecks)
        case .verificationResendCooldown: return String(Int(defaults.verification.resendCooldown))
        case .maxOrganizationsPerPhone: return String(defaults.verification.maxOrganizationsPerPhone)
        case .blockedLineTypes:
            return PhoneNumberType.allCases.filter(defaults.verification.blockedLineTypes.contains).map(\.rawValue)
                .joined(separator: ",")
        case .smsSendsPerNumberPer10Minutes: return String(defaults.verification.sendsPerNumberPer10Minutes)
        case .smsSendsPerNumberPerDay: return String(defaults.verification.sendsPerNumberPerDay)
        case .smsSendsPerOrganizationPerDay: return String(defaults.verification.sendsPerOrganizationPerDay)
        case .smsSendsPerAddressPerHour: return String(defaults.verification.sendsPerClientAddressPerHour)
        case .emailProvider: return defaults.email.provider.kind.rawValue
        case .emailFrom: return defaults.email.from.description
        case .smtpPort: return String(SMTPRelay.defaultPort)
        case .smtpSecurity: return SMTPRelay.defaultSecurity.rawValue
        case .smtpTimeout: return String(SMTPRelay.defaultTimeout)
        case .paymentProvider: return defaults.payments.provider.kind
        case .stripeAPIBaseURL: return PaymentSettings.stripeAPIBaseURL
        case .billingCurrency: return defaults.payments.currency.code
        case .maxOrganizationsPerCard: return String(defaults.payments.maxOrganizationsPerCard)
        case .creditPurchaseMinimum: return String(defaults.payments.minimumPurchase)
        case .creditPurchaseDefault: return String(defaults.payments.defaultPurchase)
        case .creditPurchaseMaximum: return String(defaults.payments.maximumPurchase)
        case .autoRechargeThreshold: return String(defaults.payments.autoRechargeThreshold)
        case .autoRechargeAmount: return String(defaults.payments.autoRechargeAmount)
        case .autoRechargeMonthlyCap: return String(defaults.payments.autoRechargeMonthlyCap)
        case .anomalyAlerts: return String(defaults.keyAlerts.enabled)
        case .anomalyCallFactor: return String(defaults.keyAlerts.callFactor)
        case .anomalyMinCalls: return String(defaults.keyAlerts.minimumCalls)
        case .anomalyErrorFactor: return String(defaults.keyAlerts.errorFactor)
        case .anomalyMinErrors: return String(defaults.keyAlerts.minimumErrors)
        case .anomalyIdleDays: return String(defaults.keyAlerts.idleDays)
        case .anomalyAlertWindow: return String(defaults.keyAlerts.window)
        case .metricsPort, .databaseURL, .secret, .operatorToken, .upstreamURL, .upstreamAuthorization, .rateLimitStore,
            .publicURL, .twilioAccountSID, .twilioAuthToken, .twilioFrom, .twilioWhatsAppFrom,
            .twilioWhatsAppContentSID,
            .twilioMessagingServiceSID, .twilioVerifyServiceSID, .smsWebhookURL, .smsWebhookSecret, .allowedCountries,
            .whatsappCountries, .smtpHost, .smtpUsername, .smtpPassword, .smtpCAFile, .refusedEmailDomains,
            .captchaProvider, .captchaSecret, .captchaSiteKey,
            .captchaVerifyURL, .stripeSecretKey, .stripeWebhookSecret, .modelPrices, .smsPrices, .rateLimitTiers,
            .rateLimitDefaultTier:
            return nil
        }
    }
}
