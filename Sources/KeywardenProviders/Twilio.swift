import AsyncHTTPClient
import Foundation
import KeywardenCore
import NIOCore
import PhoneNumbers

typealias KeywardenProviderError = ProviderError

/// Credentials and endpoints for Twilio.
public struct TwilioConfiguration: Sendable {
    public var accountSID: String
    public var authToken: String
    /// The sending number (E.164), or `nil` when a messaging service sends.
    public var from: String?
    /// The WhatsApp sender (E.164), or `nil` to send WhatsApp messages from ``from``; a messaging
    /// service sends both, from the WhatsApp sender in its pool.
    public var whatsappFrom: String?
    /// The approved WhatsApp template (`HX...`) codes are sent with, its variable `1` the code:
    /// WhatsApp delivers a business's first message to a person only from an approved template.
    public var whatsappContentSID: String?
    public var messagingServiceSID: String?
    public var verifyServiceSID: String?
    /// Where delivery reports go: the server's public base URL plus `/v1/webhooks/twilio/status`.
    public var statusCallbackURL: String?
    public var apiBaseURL = "https://api.twilio.com"
    public var verifyBaseURL = "https://verify.twilio.com"
    public var lookupBaseURL = "https://lookups.twilio.com"
    public var timeout: TimeAmount = .seconds(10)

    /// Creates a configuration.
    public init(accountSID: String, authToken: String) {
        self.accountSID = accountSID
        self.authToken = authToken
    }
}

/// Twilio Programmable Messaging, Verify v2 and Lookup v2.
public struct Twilio: Sendable {
    let configuration: TwilioConfiguration
    let http: ProviderHTTP

    /// Creates the client.
    public init(configuration: TwilioConfiguration, client: HTTPClient = .shared) {
        self.configuration = configuration
        self.http = ProviderHTTP(provider: "twilio", client: client, timeout: configuration.timeout)
    }

    private var authorization: (String, String) {
        (
            "Authorization",
            ProviderHTTP.basicAuthorization(user: configuration.accountSID, password: configuration.authToken)
        )
    }

    /// `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`: a text message, or a WhatsApp
    /// message with `To` and `From` as `whatsapp:` addresses.
    public var messaging: SMSSender {
        SMSSender(name: "twilio") { message in
            var fields = [("To", Self.address(message.to, on: message.channel))]
            if let service = configuration.messagingServiceSID {
                fields.append(("MessagingServiceSid", service))
            } else {
                let whatsappFrom = message.channel == .whatsapp ? configuration.whatsappFrom : nil
                fields.append(("From", Self.address(whatsappFrom ?? configuration.from ?? "", on: message.channel)))
            }
            if message.channel == .whatsapp, let template = configuration.whatsappContentSID {
                fields.append(("ContentSid", template))
                fields.append(("ContentVariables", Self.templateVariables(code: message.code)))
            } else {
                fields.append(("Body", message.body))
            }
            if let callback = configuration.statusCallbackURL { fields.append(("StatusCallback", callback)) }
            let reply = try await http.send(
                .POST, "\(configuration.apiBaseURL)/2010-04-01/Accounts/\(configuration.accountSID)/Messages.json",
                headers: [authorization], body: FormEncoding.encode(fields), contentType: nil)
            guard (200..<300).contains(reply.status) else { throw ProviderErrorDetail.twilio(reply) }
            let json = reply.json
            return SMSReceipt(
                providerMessageID: json["sid"] as? String,
                delivery: (json["status"] as? String).flatMap(Self.delivery))
        }
    }

    /// Verify v2: Twilio makes, sends and checks the code.
    public var verify: RemoteVerifier {
        let service = configuration.verifyServiceSID ?? ""
        return RemoteVerifier(
            name: "twilio-verify",
            start: { phoneNumber, channel in
                let fields = [("To", phoneNumber), ("Channel", Self.verifyChannel(channel))]
                let reply = try await http.send(
                    .POST, "\(configuration.verifyBaseURL)/v2/Services/\(service)/Verifications",
                    headers: [authorization], body: FormEncoding.encode(fields), contentType: nil)
                guard (200..<300).contains(reply.status) else { throw ProviderErrorDetail.twilio(reply) }
                return SMSReceipt(providerMessageID: reply.json["sid"] as? String, delivery: .sent)
            },
            check: { phoneNumber, code in
                let reply = try await http.send(
                    .POST, "\(configuration.verifyBaseURL)/v2/Services/\(service)/VerificationCheck",
                    headers: [authorization], body: FormEncoding.encode([("To", phoneNumber), ("Code", code)]),
                    contentType: nil)
                // 404: Twilio has no pending verification for the number (expired or used).
                if reply.status == 404 { return false }
                guard (200..<300).contains(reply.status) else { throw ProviderErrorDetail.twilio(reply) }
                return reply.json["status"] as? String == "approved"
            })
    }

    /// Lookup v2 line-type intelligence, mapped to libphonenumber's types.
    public var lookup: LineTypeLookup {
        LineTypeLookup(name: "twilio-lookup") { number in
            let encoded = number.e164.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? number.e164
            let reply = try await http.send(
                .GET, "\(configuration.lookupBaseURL)/v2/PhoneNumbers/\(encoded)?Fields=line_type_intelligence",
                headers: [authorization], body: nil, contentType: nil)
            guard (200..<300).contains(reply.status) else { throw ProviderErrorDetail.twilio(reply) }
            let intelligence = reply.json["line_type_intelligence"] as? [String: Any]
            return (intelligence?["type"] as? String).flatMap(Self.lineType)
        }
    }

    /// `{"1":"<code>"}`: the template's one variable. A code is digits, which need no escaping.
    static func templateVariables(code: String) -> String {
        let digits = code.unicodeScalars.filter { $0.value >= 48 && $0.value <= 57 }
        return #"{"1":""# + String(String.UnicodeScalarView(digits)) + #""}"#
    }

    /// A number as Messaging addresses it on `channel`: E.164 for a text message,
    /// `whatsapp:+E164` for WhatsApp (a sender already written that way is kept as it is).
    static func address(_ number: String, on channel: MessageChannel) -> String {
        switch channel {
        case .sms: number
        case .whatsapp: number.hasPrefix("whatsapp:") ? number : "whatsapp:" + number
        }
    }

    /// Verify v2's `Channel` value for a channel.
    static func verifyChannel(_ channel: MessageChannel) -> String {
        switch channel {
        case .sms: "sms"
        case .whatsapp: "whatsapp"
        }
    }

    /// Twilio message statuses, folded into the five Keywarden shows.
    public static func delivery(_ status: String) -> PhoneVerification.Delivery? {
        switch status {
        case "accepted", "scheduled", "queued", "sending": .queued
        case "sent": .sent
        case "delivered", "read": .delivered
        case "undelivered": .undelivered
        case "failed", "canceled": .failed
        default: nil
        }
    }

    /// Lookup v2's `line_type_intelligence.type` values.
    public static func lineType(_ type: String) -> PhoneNumberType? {
        switch type {
        case "mobile": .mobile
        case "landline": .fixedLine
        case "fixedVoip", "nonFixedVoip": .voip
        case "tollFree": .tollFree
        case "premium": .premiumRate
        case "sharedCost": .sharedCost
        case "uan": .uan
        case "voicemail": .voicemail
        case "pager": .pager
        case "personal": .personalNumber
        default: nil
        }
    }
}
