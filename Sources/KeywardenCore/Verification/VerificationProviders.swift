import Foundation
import PhoneNumbers

/// How a code reaches a phone.
public enum MessageChannel: String, Sendable, Codable, CaseIterable {
    /// A text message.
    case sms
    /// A WhatsApp message, where the operator offers it (`whatsapp_countries`).
    case whatsapp

    /// The channel as a person reads it.
    public var label: String {
        switch self {
        case .sms: "Text message (SMS)"
        case .whatsapp: "WhatsApp"
        }
    }
}

/// A text message to send.
public struct SMSMessage: Equatable, Sendable {
    /// The E.164 number.
    public var to: String
    public var body: String
    public var verificationID: PhoneVerificationID
    /// By text message or WhatsApp.
    public var channel: MessageChannel
    /// The code alone, for a provider that fills it into an approved template (WhatsApp).
    public var code: String

    /// Creates a message.
    public init(
        to: String, body: String, verificationID: PhoneVerificationID, channel: MessageChannel = .sms,
        code: String = ""
    ) {
        self.to = to
        self.body = body
        self.verificationID = verificationID
        self.channel = channel
        self.code = code
    }
}

/// What a provider says after accepting a message.
public struct SMSReceipt: Equatable, Sendable {
    public var providerMessageID: String?
    public var delivery: PhoneVerification.Delivery?

    /// Creates a receipt.
    public init(providerMessageID: String?, delivery: PhoneVerification.Delivery?) {
        self.providerMessageID = providerMessageID
        self.delivery = delivery
    }
}

/// A failure of an outside provider; the person may simply try again.
public struct ProviderError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The provider's name, such as `twilio`.
    public var provider: String
    /// What went wrong, for the server log; never holds a number, code or credential.
    public var detail: String

    /// Creates an error.
    public init(provider: String, detail: String) {
        self.provider = provider
        self.detail = detail
    }

    public var description: String { "\(provider): \(detail)" }
}

/// Where one-time codes come from and how they reach the phone.
public enum CodeDelivery: Sendable {
    /// Keywarden makes the code and an SMS sender carries it.
    case local(SMSSender)
    /// A provider (Twilio Verify) makes and checks the code; Keywarden still applies every
    /// refusal, cap and attempt limit first.
    case remote(RemoteVerifier)
}

/// Sends text messages.
public struct SMSSender: Sendable {
    /// The provider's name, for logs.
    public var name: String
    /// Sends one message.
    public var send: @Sendable (SMSMessage) async throws -> SMSReceipt

    /// Creates a sender.
    public init(name: String, send: @escaping @Sendable (SMSMessage) async throws -> SMSReceipt) {
        self.name = name
        self.send = send
    }
}

/// A provider that owns the code (Twilio Verify).
public struct RemoteVerifier: Sendable {
    /// The provider's name, for logs.
    public var name: String
    /// Starts (or repeats) a verification of an E.164 number on a channel.
    public var start: @Sendable (_ phoneNumber: String, _ channel: MessageChannel) async throws -> SMSReceipt
    /// Whether the code is right for the number.
    public var check: @Sendable (_ phoneNumber: String, _ code: String) async throws -> Bool

    /// Creates a verifier.
    public init(
        name: String, start: @escaping @Sendable (String, MessageChannel) async throws -> SMSReceipt,
        check: @escaping @Sendable (String, String) async throws -> Bool
    ) {
        self.name = name
        self.start = start
        self.check = check
    }
}

/// Finds what kind of line a number is.
public struct LineTypeLookup: Sendable {
    /// The provider's name.
    public var name: String
    /// The line type, or `nil` when the provider cannot tell (the offline answer then stands).
    public var lookup: @Sendable (PhoneNumber) async throws -> PhoneNumberType?

    /// Creates a lookup.
    public init(name: String, lookup: @escaping @Sendable (PhoneNumber) async throws -> PhoneNumberType?) {
        self.name = name
        self.lookup = lookup
    }

    /// The metadata's answer, with no network.
    public static let offline = LineTypeLookup(name: "offline") { $0.type }
}
