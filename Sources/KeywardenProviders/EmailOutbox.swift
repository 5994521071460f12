import Foundation
import KeywardenCore
import Logging

/// The development email provider (`email_provider log`): every message goes to the server log
/// and to `<data-dir>/email-outbox.jsonl`, one JSON object a line, where `keywarden outbox --email`
/// reads it. Links in these messages carry single-use tokens; showing them is this provider's job,
/// and the reason it is for development only.
public actor EmailOutbox {
    private let url: URL
    private let logger: Logger
    private let clock: Clock

    /// The outbox file's name inside the data directory.
    public static let fileName = "email-outbox.jsonl"

    /// Creates an outbox writing to `<directory>/email-outbox.jsonl`.
    public init(directory: String, logger: Logger, clock: Clock = .live) {
        self.url = URL(fileURLWithPath: directory).appendingPathComponent(Self.fileName)
        self.logger = logger
        self.clock = clock
    }

    /// One stored message.
    public struct Entry: Codable, Equatable, Sendable {
        public var to: String
        public var subject: String
        public var text: String
        public var html: String?
        /// Unix seconds.
        public var sentAt: Int64

        enum CodingKeys: String, CodingKey {
            case to, subject, text, html
            case sentAt = "sent_at"
        }
    }

    /// The sender to hand to the services.
    public nonisolated var sender: EmailSender {
        EmailSender(name: "log") { message in try await self.deliver(message) }
    }

    func deliver(_ message: EmailMessage) throws {
        let entry = Entry(
            to: message.to.value, subject: message.subject, text: message.text, html: message.html,
            sentAt: Int64(clock.now().timeIntervalSince1970))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line = try encoder.encode(entry)
        line.append(UInt8(ascii: "\n"))
        if !FileManager.default.fileExists(atPath: url.path) {
            _ = FileManager.default.createFile(atPath: url.path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
        logger.notice("email (log provider, development only) to \(message.to): \(message.subject)\n\(message.text)")
    }

    /// The last `count` messages, oldest first.
    public static func latest(in directory: String, count: Int) throws -> [Entry] {
        let url = URL(fileURLWithPath: directory).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let data = try Data(contentsOf: url)
        let decoder = JSONDecoder()
        return data.split(separator: UInt8(ascii: "\n")).suffix(count).compactMap {
            try? decoder.decode(Entry.self, from: Data($0))
        }
    }
}
