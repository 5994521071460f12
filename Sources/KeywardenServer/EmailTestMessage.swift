import Foundation
import KeywardenCore
import KeywardenProviders
import Logging

/// The message `keywarden admin email test` sends through the configured provider, so an
/// operator can check the email settings before anyone signs up.
public enum EmailTestMessage {
    /// The subject every test message has.
    public static let subject = "Keywarden test message"

    /// Sends the test message to `address` and says what was done.
    ///
    /// - Throws: ``DomainError`` `invalid_email` for an address that is not one, ``StartupError``
    ///   when the log provider has no data directory to write to, or the provider's
    ///   ``ProviderError``, which names the failed step (never the password).
    public static func send(
        to address: String, configuration: KeywardenConfiguration, logger: Logger, clock: Clock = .live
    ) async throws -> String {
        let recipient = try EmailAddress(normalizing: address)
        let settings = configuration.email
        let route: String
        switch settings.provider {
        case .log:
            // The log provider writes into the data directory; run elsewhere, say where it looked.
            let directory = URL(fileURLWithPath: configuration.storage.dataDirectory).standardizedFileURL.path
            guard FileManager.default.fileExists(atPath: directory) else {
                throw StartupError(
                    "no Keywarden data directory at \(directory); run the command where 'keywarden serve' keeps its data, or name it with --data-dir"
                )
            }
            route = "the log provider (see it with 'keywarden outbox --email')"
        case .smtp(let relay):
            route = "\(relay.host):\(relay.port) (smtp_security \(relay.security.rawValue))"
        }
        let sender = KeywardenServices.email(for: configuration, clock: clock, logger: logger)
        try await sender.send(message(to: recipient, from: settings.from, route: route))
        return "sent '\(subject)' to \(recipient) from \(settings.from) through \(route)"
    }

    /// The message: a line of text, and the same as HTML.
    static func message(to recipient: EmailAddress, from: EmailMailbox, route: String) -> EmailMessage {
        let text = """
            This is a test message from Keywarden, sent by 'keywarden admin email test' through \(route).

            If it reached \(recipient), email from \(from) works: confirmation, reset and invitation \
            messages will arrive the same way.
            """
        let html = """
            <!doctype html>
            <html><body>
            <p>This is a test message from Keywarden, sent by <code>keywarden admin email test</code>.</p>
            <p>If it reached you, confirmation, reset and invitation messages will arrive the same way.</p>
            </body></html>
            """
        return EmailMessage(to: recipient, subject: subject, text: text, html: html)
    }
}

/// The development email outbox, for `keywarden outbox --email`.
public enum KeywardenEmailOutbox {
    /// One message.
    public typealias Entry = EmailOutbox.Entry

    /// The outbox file's name in the data directory.
    public static let fileName = EmailOutbox.fileName

    /// The last `count` messages in the data directory's email outbox, oldest first.
    public static func latest(in directory: String, count: Int) throws -> [Entry] {
        try EmailOutbox.latest(in: directory, count: count)
    }
}
