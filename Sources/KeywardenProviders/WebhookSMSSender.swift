import AsyncHTTPClient
import Crypto
import Foundation
import KeywardenCore
import NIOCore

/// Hands each message to the operator's own endpoint as JSON `{to, body, verification_id, channel}`
/// (`channel` is `sms` or `whatsapp`, the way the endpoint is to send it), signed:
/// `Keywarden-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
public struct WebhookSMSSender: Sendable {
    let url: String
    let secret: String
    let http: ProviderHTTP
    /// Gives the signature's timestamp.
    let clock: Clock

    /// Creates the sender.
    public init(
        url: String, secret: String, client: HTTPClient = .shared, timeout: TimeAmount = .seconds(10),
        clock: Clock = .live
    ) {
        self.url = url
        self.secret = secret
        self.http = ProviderHTTP(provider: "webhook", client: client, timeout: timeout)
        self.clock = clock
    }

    /// The signature header value for a body sent at `timestamp`.
    public static func signature(body: String, timestamp: Int, secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(
            for: Data("\(timestamp).\(body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "t=\(timestamp),v1=" + code.map { String(format: "%02x", $0) }.joined()
    }

    /// The sender to hand to the verification engine.
    public var sender: SMSSender {
        SMSSender(name: "webhook") { message in
            let payload: [String: String] = [
                "to": message.to, "body": message.body, "verification_id": message.verificationID.rawValue,
                "channel": message.channel.rawValue,
            ]
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let body = String(decoding: try encoder.encode(payload), as: UTF8.self)
            let timestamp = Int(clock.now().timeIntervalSince1970)
            let signature = Self.signature(body: body, timestamp: timestamp, secret: secret)
            let reply = try await http.send(
                .POST, url, headers: [("Keywarden-Signature", signature)], body: body, contentType: "application/json")
            guard (200..<300).contains(reply.status) else {
                throw ProviderError(provider: "webhook", detail: "HTTP \(reply.status)")
            }
            return SMSReceipt(providerMessageID: nil, delivery: .sent)
        }
    }
}
