import Configuration
import Foundation
import KeywardenCore

/// Every setting of a Keywarden server, typed and grouped by what it configures, built once at
/// start-up.
///
/// Each setting is read from the first source that has it: a command-line flag, then a
/// `KEYWARDEN_*` environment variable, then the JSON config file, then the default
/// (``ConfigurationSources``). Each section reads its own settings.
public struct KeywardenConfiguration: Sendable {
    /// Where to listen and how connections are kept.
    public var server = ServerSettings()
    /// Where the data lives and how it is protected.
    public var storage = StorageSettings()
    /// Passwords, sessions and sign-in limits.
    public var accounts = AccountsSettings()
    /// The key-issuance policy and the key format.
    public var keys = KeysSettings()
    /// Codes, caps, limits and allowed numbers for phone verification.
    public var verification = VerificationPolicy()
    /// Who sends codes and who answers line-type questions.
    public var providers = ProviderSettings()
    /// Where `/v1/*` calls go and the limits on them.
    public var gateway = GatewaySettings()
    /// Who sends email and as whom.
    public var email = EmailSettings()
    /// Who takes cards, and the limits on cards and purchases.
    public var payments = PaymentSettings()
    /// What one text message costs per country (`sms_prices`), for the console's spend estimate.
    public var verificationMessagePrices = MessagePrices()
    /// Usage-anomaly alerts per API key (`anomaly_*`).
    public var keyAlerts = KeyAlertsSettings()

    /// The defaults.
    public init() {}

    /// The base of every link Keywarden sends (email confirmations, resets, invites): `public_url`
    /// without a trailing slash, or this server's own address when it is not set.
    public var linkBaseURL: String {
        if let url = providers.publicURL { return url.hasSuffix("/") ? String(url.dropLast()) : url }
        let host = server.host.contains(":") ? "[\(server.host)]" : server.host
        return "http://\(host == "0.0.0.0" || host == "[::]" ? "127.0.0.1" : host):\(server.port)"
    }

    /// Reads every section from `settings`.
    ///
    /// - Throws: ``ConfigurationError`` naming the first setting that cannot be used.
    public init(reading settings: SettingsReader) throws {
        server = try ServerSettings(reading: settings)
        storage = try StorageSettings(reading: settings)
        accounts = try AccountsSettings(reading: settings)
        keys = try KeysSettings(reading: settings)
        verification = try VerificationPolicy(reading: settings)
        providers = try ProviderSettings(reading: settings)
        gateway = try GatewaySettings(reading: settings)
        email = try EmailSettings(reading: settings)
        payments = try PaymentSettings(reading: settings)
        keyAlerts = try KeyAlertsSettings(reading: settings)
        if let text = settings.text(.smsPrices) {
            do {
                verificationMessagePrices = try MessagePrices.parse(text)
            } catch {
                throw ConfigurationError(.smsPrices, error.message)
            }
        }
        if case .twilio = providers.sms, !verification.whatsappCountries.isEmpty,
            providers.twilioWhatsAppContentSID == nil
        {
            throw ConfigurationError(
                .twilioWhatsAppContentSID,
                "required by whatsapp_countries with sms_provider twilio: WhatsApp delivers a code only from an approved template"
            )
        }
        if case .stripe = payments.provider, providers.publicURL == nil {
            throw ConfigurationError(
                .publicURL, "required by payment_provider stripe: Stripe sends people back to this address")
        }
    }

    /// Reads every setting from `sources`.
    ///
    /// - Parameter accessReporter: told of every setting read, secrets redacted.
    public static func load(
        from sources: ConfigurationSources = ConfigurationSources(), accessReporter: (any AccessReporter)? = nil
    ) async throws -> KeywardenConfiguration {
        try KeywardenConfiguration(reading: await sources.reader(accessReporter: accessReporter))
    }

    /// The database the configuration selects.
    public var database: DatabaseLocation {
        get throws {
            guard let url = storage.databaseURL else {
                return .sqliteFile(
                    URL(fileURLWithPath: storage.dataDirectory).appendingPathComponent("keywarden.sqlite").path)
            }
            return try DatabaseLocation(url: url)
        }
    }
}
