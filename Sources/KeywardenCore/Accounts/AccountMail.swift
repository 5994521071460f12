import Foundation
import Logging

/// How accounts reach people by email: the configured sender, the base of the links it mails,
/// and the log that says when a message could not go (never what it held).
public struct AccountMail: Sendable {
    /// Sends through the configured provider.
    public var sender: EmailSender
    /// The base of every link, without a trailing slash, such as `https://keys.example.com`.
    public var linkBaseURL: String
    /// Where failures to send are logged.
    public var logger: Logger

    /// Creates the mail settings.
    public init(sender: EmailSender, linkBaseURL: String, logger: Logger) {
        self.sender = sender
        self.linkBaseURL = linkBaseURL.hasSuffix("/") ? String(linkBaseURL.dropLast()) : linkBaseURL
        self.logger = logger
    }

    /// The link that carries `token` to the page at `path` (`/confirm-email`, `/reset-password`),
    /// the token in the query, where access logs do not print it.
    func link(_ path: String, token: AccountToken) -> String {
        "\(linkBaseURL)\(path)?token=\(token.value)"
    }

    /// Logs that a message of `kind` to `user` was not sent, naming the provider's failure but
    /// nothing the message held.
    func logFailure(_ kind: String, to user: UserID, _ error: any Error) {
        let reason = (error as? ProviderError)?.description ?? String(reflecting: type(of: error))
        logger.warning(
            "\(kind) email not sent",
            metadata: ["user_id": .string(user.rawValue), "provider": .string(sender.name), "error": .string(reason)])
    }
}

/// The emails accounts send, each with a plain-text body and an HTML one. Links stand alone on a
/// line of the text body, so any mail client makes them clickable.
enum AccountEmails {
    static func confirmation(to address: EmailAddress, link: String) -> EmailMessage {
        message(
            to: address, subject: "Confirm your email address for Keywarden",
            lines: ["Confirm the email address of your Keywarden account by opening this link:"], link: link,
            linkLabel: "Confirm email address",
            after: [
                "The link works once and expires in 24 hours.",
                "If you did not make a Keywarden account, you can ignore this email.",
            ])
    }

    static func passwordReset(to address: EmailAddress, link: String) -> EmailMessage {
        message(
            to: address, subject: "Reset your Keywarden password",
            lines: ["Someone asked to reset the password of your Keywarden account. To choose a new one, open:"],
            link: link, linkLabel: "Choose a new password",
            after: [
                "The link works once and expires in 1 hour. Choosing a new password signs you out everywhere.",
                "If you did not ask for this, you can ignore this email: your password stays as it is.",
            ])
    }

    static func passwordChanged(to address: EmailAddress, resetLink: String) -> EmailMessage {
        message(
            to: address, subject: "Your Keywarden password was changed",
            lines: [
                "The password of your Keywarden account was just changed, and your other sessions were signed out."
            ],
            link: nil, linkLabel: nil,
            after: ["If you did not change it, reset your password now at", resetLink])
    }

    /// Paragraphs, an optional link on a line of its own, more paragraphs; the HTML body says the
    /// same, escaped.
    private static func message(
        to address: EmailAddress, subject: String, lines: [String], link: String?, linkLabel: String?,
        after: [String]
    ) -> EmailMessage {
        var text = lines
        var html = lines.map { "<p>\(escape($0))</p>" }
        if let link {
            text.append(link)
            let href = escape(link)
            html.append(#"<p><a href="\#(href)">\#(escape(linkLabel ?? link))</a></p>"#)
            html.append("<p>\(href)</p>")
        }
        text += after
        html += after.map { "<p>\(escape($0))</p>" }
        return EmailMessage(
            to: address, subject: subject, text: text.joined(separator: "\n\n") + "\n",
            html: "<!doctype html><html><body>" + html.joined(separator: "\n") + "</body></html>\n")
    }

    /// Text made safe inside HTML elements and double-quoted attributes.
    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
