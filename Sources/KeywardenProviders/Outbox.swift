import Foundation
import KeywardenCore
import Logging

/// The development SMS and WhatsApp sender: every message goes to the server log and to
/// `<data-dir>/outbox.jsonl`, with the channel it would have gone by, where `keywarden outbox`
/// reads it. Its whole job is to show the code, so it is the one place a code is ever written out.
public actor Outbox {
    private let url: URL
    private let logger: Logger
    /// Stamps each entry's `sent_at`.
    private let clock: Clock

    /// Creates an outbox writing to `<directory>/outbox.jsonl`.
    public init(directory: String, logger: Logger, clock: Clock = .live) {
        self.url = URL(fileURLWithPath: directory).appendingPathComponent("outbox.jsonl")
        self.logger = logger
        self.clock = clock
    }

    /// One stored message.
    public struct Entry: Codable, Equatable, Sendable {
        public var to: String
        public var body: String
        public var verificationID: String
        public var sentAt: Int64
        /// By text message or WhatsApp.
        public var channel: MessageChannel

        enum CodingKeys: String, CodingKey {
            case to, body, channel
            case verificationID = "verification_id"
            case sentAt = "sent_at"
        }
    }

    /// The sender to hand to the verification engine.
    public nonisolated var sender: SMSSender {
        SMSSender(name: "log") { message in
            try await self.deliver(message)
            return SMSReceipt(providerMessageID: nil, delivery: .sent)
        }
    }

    func deliver(_ message: SMSMessage) throws {
        let entry = Entry(
            to: message.to, body: message.body, verificationID: message.verificationID.rawValue,
            sentAt: Int64(clock.now().timeIntervalSince1970), channel: message.channel)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line = try encoder.encode(entry)
        line.append(UInt8(ascii: "\n"))
        if !FileManager.default.fileExists(atPath: url.path) {
            _ = FileManager.default.createFile(
                atPath: url.path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
        let kind = message.channel == .whatsapp ? "WhatsApp message" : "SMS"
        logger.notice(
            "\(kind) (log provider, development only) to \(message.to): \(message.body)",
            metadata: [
                "verification_id": .string(message.verificationID.rawValue),
                "channel": .string(message.channel.rawValue),
            ])
    }

    /// The last `count` messages, oldest first.
    public static func latest(in directory: String, count: Int) throws -> [Entry] {
        let url = URL(fileURLWithPath: directory).appendingPathComponent("outbox.jsonl")
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let data = try Data(contentsOf: url)
        let decoder = JSONDecoder()
        let lines = data.split(separator: UInt8(ascii: "\n"))
        return lines.suffix(count).compactMap { try? decoder.decode(Entry.self, from: Data($0)) }
    }
}

extension Outbox.Entry {
    /// Reads an entry; one written before entries named their channel was a text message.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            to: try container.decode(String.self, forKey: .to), body: try container.decode(String.self, forKey: .body),
            verificationID: try container.decode(String.self, forKey: .verificationID),
            sentAt: try container.decode(Int64.self, forKey: .sentAt),
            channel: try container.decodeIfPresent(MessageChannel.self, forKey: .channel) ?? .sms)
    }
}
