import Foundation

/// One email to one person, with a plain-text body and, usually, an HTML one.
public struct EmailMessage: Equatable, Sendable {
    /// The recipient.
    public var to: EmailAddress
    /// The subject line, one line of text.
    public var subject: String
    /// The plain-text body; every email has one.
    public var text: String
    /// The HTML body, shown by clients that can; `nil` for plain text only.
    public var html: String?

    /// Creates a message.
    public init(to: EmailAddress, subject: String, text: String, html: String? = nil) {
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
    }
}

/// Sends email through the configured provider (`email_provider`).
public struct EmailSender: Sendable {
    /// The provider's name, for logs: `log` or `smtp`.
    public var name: String
    /// Sends one message, or throws ``ProviderError`` saying why it could not.
    public var send: @Sendable (EmailMessage) async throws -> Void

    /// Creates a sender from its name and its one operation.
    public init(name: String, send: @escaping @Sendable (EmailMessage) async throws -> Void) {
        self.name = name
        self.send = send
    }
}
