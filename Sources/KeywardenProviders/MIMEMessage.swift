import Foundation
import KeywardenCore

/// One email written out as SMTP's DATA carries it (RFC 5322 and MIME): `From`, `To`, `Subject`,
/// `Date`, `Message-ID` and `MIME-Version`, then the text alone or, with an HTML body,
/// `multipart/alternative` with a text/plain and a text/html part; UTF-8 in quoted-printable.
struct MIMEMessage {
    var message: EmailMessage
    var from: EmailMailbox
    /// When it was written, from the injected clock.
    var date: Date
    /// `<random@from-domain>`.
    var messageID: String
    /// The multipart boundary. It starts with `=_`, which quoted-printable text cannot hold.
    var boundary: String

    /// A message with a random Message-ID and boundary.
    init(
        _ message: EmailMessage, from: EmailMailbox, date: Date,
        random: () -> String = { SecureRandom.base62(length: 24) }
    ) {
        self.message = message
        self.from = from
        self.date = date
        self.messageID = "<\(random())@\(Self.hostName(of: from))>"
        self.boundary = "=_keywarden_" + random()
    }

    /// The domain of the From address when it can stand as a host name, else `localhost`: the
    /// Message-ID's right-hand side and the name the client gives in EHLO.
    static func hostName(of mailbox: EmailMailbox) -> String {
        let domain = mailbox.domain
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.".utf8)
        guard !domain.isEmpty, domain.utf8.allSatisfy({ allowed.contains($0) }) else { return "localhost" }
        return domain
    }

    /// The message with CRLF line endings, ending with CRLF, before dot-stuffing.
    ///
    /// - Throws: ``ProviderError`` when the subject holds a line break or an address cannot be
    ///   written in a header: either could add headers of its own (header injection).
    func rendered() throws -> String {
        try check()
        let sender = from.displayName.map { MIMEEncoding.phrase($0) + " <" + from.address + ">" } ?? from.address
        var lines = [
            MIMEEncoding.fold("From: " + sender),
            MIMEEncoding.fold("To: " + message.to.value),
            MIMEEncoding.header("Subject", message.subject),
            "Date: " + Self.dateText(date),
            "Message-ID: " + messageID,
            "MIME-Version: 1.0",
        ]
        if let html = message.html {
            lines += [
                "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
                "",
                "--" + boundary, Self.part("text/plain", message.text),
                "--" + boundary, Self.part("text/html", html),
                "--" + boundary + "--",
            ]
        } else {
            lines += [
                "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: quoted-printable", "",
                MIMEEncoding.quotedPrintable(message.text),
            ]
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    private static func part(_ type: String, _ content: String) -> String {
        "Content-Type: \(type); charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            + MIMEEncoding.quotedPrintable(content)
    }

    private func check() throws {
        func refuse(_ detail: String) -> ProviderError {
            ProviderError(provider: "smtp", detail: detail + "; nothing was sent")
        }
        // Scalars, not characters: "\r\n" is one Character, which `contains("\n")` would miss.
        guard !message.subject.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) else {
            throw refuse("the subject holds a line break, which could add headers")
        }
        guard EmailMailbox.isPlausible(message.to.value) else {
            throw refuse("the recipient address cannot be written in a header")
        }
        let name = from.displayName ?? ""
        guard EmailMailbox.isPlausible(from.address),
            !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { throw refuse("email_from cannot be written in a header") }
    }

    /// RFC 5322's date: `Wed, 02 Dec 2026 09:46:22 +0000`.
    static func dateText(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}

/// What follows SMTP's DATA command (RFC 5321 §4.5.2): the message with a `.` added before every
/// line that starts with one (dot-stuffing), ended by a line holding only `.`.
enum SMTPData {
    /// The bytes to send for `message`, whose lines end with CRLF.
    static func payload(_ message: String) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(message.utf8.count + 8)
        var atLineStart = true
        var previous: UInt8 = 0
        for byte in message.utf8 {
            if atLineStart, byte == UInt8(ascii: ".") { output.append(byte) }
            output.append(byte)
            atLineStart = previous == UInt8(ascii: "\r") && byte == UInt8(ascii: "\n")
            previous = byte
        }
        if !output.isEmpty, !output.suffix(2).elementsEqual([13, 10]) { output += [13, 10] }
        return output + Array(".\r\n".utf8)
    }
}
