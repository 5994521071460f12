/// Who sends verification codes and who answers line-type questions. Each provider carries the
/// settings it needs, so an incomplete one cannot be configured.
public struct ProviderSettings: Sendable {
    /// Who sends codes.
    public var sms = SMSProvider.log
    /// Where line types come from.
    public var lineTypes = LineTypeSource.offline
    /// The server's public base URL, for Twilio's delivery reports (`.../v1/webhooks/twilio/status`).
    public var publicURL: String?
    /// The number Twilio sends WhatsApp messages from (E.164), when it is not the SMS sending
    /// number; a messaging service sends from the WhatsApp sender in its pool instead.
    public var twilioWhatsAppFrom: String?
    /// The approved WhatsApp template Twilio Messaging sends codes with (`HX...`).
    public var twilioWhatsAppContentSID: String?

    /// The defaults.
    public init() {}

    /// Reads the provider settings, requiring what the chosen providers need.
    public init(reading settings: SettingsReader) throws {
        let providers = SMSProvider.Kind.allCases.map(\.rawValue).joined(separator: ", ")
        let smsKind =
            try settings.choice(.smsProvider, as: SMSProvider.Kind.self, expected: "expected one of \(providers)")
            ?? .log
        let lookup =
            try settings.choice(
                .lineTypeLookup, as: LineTypeSource.Kind.self, expected: "expected offline or twilio-lookup")
            ?? .offline
        publicURL = settings.text(.publicURL)
        twilioWhatsAppFrom = try settings.text(.twilioWhatsAppFrom).map(Self.whatsappSender)
        if let template = settings.text(.twilioWhatsAppContentSID) {
            guard template.hasPrefix("HX"), template.utf8.count == 34,
                template.utf8.dropFirst(2).allSatisfy({
                    ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70)
                })
            else {
                throw ConfigurationError(
                    .twilioWhatsAppContentSID, "expected a Twilio content template SID: HX and 32 hexadecimal digits")
            }
            twilioWhatsAppContentSID = template
        }
        switch smsKind {
        case .log:
            sms = .log
        case .twilio:
            let account = try TwilioAccount(reading: settings)
            sms = .twilio(account, sender: try TwilioSender(reading: settings))
        case .twilioVerify:
            let account = try TwilioAccount(reading: settings)
            sms = .twilioVerify(
                account, serviceSID: try settings.required(.twilioVerifyServiceSID, by: "sms_provider twilio-verify"))
        case .webhook:
            let url = try settings.required(.smsWebhookURL, by: "sms_provider webhook")
            let short = "sms_provider webhook needs a secret of 16+ characters"
            guard let secret = try settings.secret(.smsWebhookSecret, minimum: 16, message: short) else {
                throw ConfigurationError(.smsWebhookSecret, short)
            }
            sms = .webhook(url: url, secret: secret)
        }
        if lookup == .twilioLookup { lineTypes = .twilioLookup(try TwilioAccount(reading: settings)) }
    }

    /// A WhatsApp sending number as E.164, written with or without Twilio's `whatsapp:` prefix.
    static func whatsappSender(_ text: String) throws -> String {
        let number = text.hasPrefix("whatsapp:") ? String(text.dropFirst("whatsapp:".count)) : text
        let digits = number.utf8.dropFirst()
        guard number.hasPrefix("+"), (7...15).contains(digits.count), digits.allSatisfy({ $0 >= 48 && $0 <= 57 })
        else {
            throw ConfigurationError(.twilioWhatsAppFrom, "expected a number in E.164, such as +14155238886")
        }
        return number
    }

    /// The Twilio account a chosen provider uses, if any.
    public var twilio: TwilioAccount? {
        switch sms {
        case .twilio(let account, _), .twilioVerify(let account, _): return account
        case .log, .webhook: break
        }
        if case .twilioLookup(let account) = lineTypes { return account }
        return nil
    }

    /// Where Twilio sends delivery reports: the public URL plus the webhook path.
    public var twilioStatusCallbackURL: String? {
        publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }.map { $0 + "/v1/webhooks/twilio/status" }
    }
}

/// Who sends verification codes.
public enum SMSProvider: Sendable, Equatable {
    /// The server log and `<data-dir>/outbox.jsonl` (development).
    case log
    /// Twilio Programmable Messaging from a number or a messaging service.
    case twilio(TwilioAccount, sender: TwilioSender)
    /// Twilio Verify, which makes and checks the codes itself.
    case twilioVerify(TwilioAccount, serviceSID: String)
    /// A signed POST to the operator's own endpoint.
    case webhook(url: String, secret: String)

    /// The `sms_provider` values.
    public enum Kind: String, Sendable, CaseIterable {
        case log
        case twilio
        case twilioVerify = "twilio-verify"
        case webhook
    }

    /// The provider's `sms_provider` value.
    public var kind: Kind {
        switch self {
        case .log: .log
        case .twilio: .twilio
        case .twilioVerify: .twilioVerify
        case .webhook: .webhook
        }
    }
}

/// Where Twilio messages come from.
public enum TwilioSender: Sendable, Equatable {
    /// A sending number, E.164.
    case number(String)
    /// A messaging service SID, which picks the number itself.
    case messagingService(String)

    /// Reads the sender: a messaging service wins over a number.
    init(reading settings: SettingsReader) throws {
        if let service = settings.text(.twilioMessagingServiceSID) {
            self = .messagingService(service)
        } else if let number = settings.text(.twilioFrom) {
            self = .number(number)
        } else {
            throw ConfigurationError(
                .twilioFrom, "sms_provider twilio needs twilio_from or twilio_messaging_service_sid")
        }
    }
}

/// Where line types come from.
public enum LineTypeSource: Sendable, Equatable {
    /// The bundled metadata.
    case offline
    /// Twilio Lookup v2, answers cached for a day.
    case twilioLookup(TwilioAccount)

    /// The `line_type_lookup` values.
    public enum Kind: String, Sendable, CaseIterable {
        case offline
        case twilioLookup = "twilio-lookup"
    }

    /// The source's `line_type_lookup` value.
    public var kind: Kind {
        switch self {
        case .offline: .offline
        case .twilioLookup: .twilioLookup
        }
    }
}

/// A Twilio account and the base URLs its APIs are reached at.
public struct TwilioAccount: Sendable, Equatable {
    public var accountSID: String
    public var authToken: String
    public var apiBaseURL = "https://api.twilio.com"
    public var verifyBaseURL = "https://verify.twilio.com"
    public var lookupBaseURL = "https://lookups.twilio.com"

    /// An account at Twilio's own URLs.
    public init(accountSID: String, authToken: String) {
        self.accountSID = accountSID
        self.authToken = authToken
    }

    /// Reads the account, which the Twilio providers require.
    init(reading settings: SettingsReader) throws {
        self.init(
            accountSID: try settings.required(.twilioAccountSID, by: "the Twilio providers"),
            authToken: try settings.required(.twilioAuthToken, by: "the Twilio providers"))
        if let url = settings.text(.twilioAPIBaseURL) { apiBaseURL = url }
        if let url = settings.text(.twilioVerifyBaseURL) { verifyBaseURL = url }
        if let url = settings.text(.twilioLookupBaseURL) { lookupBaseURL = url }
    }
}
