import Foundation
import KeywardenCore
import Testing

@testable import KeywardenProviders

@Suite("MIME messages for SMTP")
struct MIMEMessageTests {
    /// Mon, 30 Nov 2026 00:53:20 UTC.
    static let date = Date(timeIntervalSince1970: 1_796_000_000)

    static func render(
        subject: String = "Welcome", text: String = "Hello", html: String? = nil,
        from: EmailMailbox = .keywarden, to: String = "person@example.com"
    ) throws -> String {
        let message = EmailMessage(to: EmailAddress(stored: to), subject: subject, text: text, html: html)
        return try MIMEMessage(message, from: from, date: date, random: { "fixed" }).rendered()
    }

    /// The header lines, before the first empty line, unfolded.
    static func headers(of rendered: String) -> [String] {
        let head = rendered.components(separatedBy: "\r\n\r\n").first ?? ""
        return head.replacingOccurrences(of: "\r\n ", with: " ").components(separatedBy: "\r\n")
    }

    @Test func aTextOnlyMessageHasEveryHeaderAndAQuotedPrintableUTF8Body() throws {
        let rendered = try Self.render(text: "Grüße\nfrom Keywarden")
        #expect(
            Self.headers(of: rendered) == [
                "From: Keywarden <keywarden@localhost>", "To: person@example.com", "Subject: Welcome",
                "Date: Mon, 30 Nov 2026 00:53:20 +0000", "Message-ID: <fixed@localhost>", "MIME-Version: 1.0",
                "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: quoted-printable",
            ])
        #expect(rendered.hasSuffix("\r\n\r\nGr=C3=BC=C3=9Fe\r\nfrom Keywarden\r\n"))
    }

    @Test func anHTMLBodyMakesMultipartAlternativeWithATextAndAnHTMLPart() throws {
        let rendered = try Self.render(text: "Hello", html: "<p>Hello</p>")
        let boundary = "=_keywarden_fixed"
        #expect(Self.headers(of: rendered).contains("Content-Type: multipart/alternative; boundary=\"\(boundary)\""))
        let encoding = "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        let plain = "--\(boundary)\r\nContent-Type: text/plain; charset=utf-8\r\n\(encoding)Hello\r\n"
        let html = "--\(boundary)\r\nContent-Type: text/html; charset=utf-8\r\n\(encoding)<p>Hello</p>\r\n"
        #expect(rendered.contains(plain + html + "--\(boundary)--\r\n"))
        #expect(rendered.hasSuffix("--\(boundary)--\r\n"))
    }

    @Test func everyLineEndsWithCRLFAndNoneIsLongerThan78() throws {
        let text = String(repeating: "word ", count: 60) + "\nsecond line\r\nthird\rfourth"
        let rendered = try Self.render(subject: String(repeating: "long subject ", count: 12), text: text)
        let bytes = Array(rendered.utf8)
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            #expect(index > 0 && bytes[index - 1] == UInt8(ascii: "\r"), "a bare LF at \(index)")
        }
        for line in rendered.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 78, "too long: \(line)")
            #expect(!line.contains("\r"), "a bare CR in \(line)")
        }
    }

    @Test func aLongSubjectIsFoldedAtSpacesAndUnfoldsToItself() throws {
        let subject = (1...30).map { "word\($0)" }.joined(separator: " ")
        let rendered = try Self.render(subject: subject)
        let head = rendered.components(separatedBy: "\r\n\r\n")[0]
        let start = try #require(head.range(of: "Subject: "))
        let field = head[start.lowerBound...].components(separatedBy: "\r\nDate:")[0]
        #expect(field.contains("\r\n "), "not folded: \(field)")
        #expect(field.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
        #expect(field.replacingOccurrences(of: "\r\n", with: "") == "Subject: " + subject)
    }

    @Test func aSubjectThatIsNotASCIIIsWrittenAsEncodedWordsThatDecodeToIt() throws {
        let subject = "Bestätigen Sie Ihre E-Mail-Adresse für Keywarden ✓ — 確認してください"
        let rendered = try Self.render(subject: subject)
        let line = try #require(Self.headers(of: rendered).first { $0.hasPrefix("Subject: ") })
        let words = line.dropFirst("Subject: ".count).split(separator: " ")
        #expect(words.count > 1)
        var decoded = Data()
        for word in words {
            #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
            #expect(word.utf8.count <= 75)
            decoded += try #require(Data(base64Encoded: String(word.dropFirst(10).dropLast(2))))
        }
        #expect(String(decoding: decoded, as: UTF8.self) == subject)
    }

    @Test func displayNamesAreQuotedOrEncodedAsTheyNeed() throws {
        let quoted = try Self.render(from: EmailMailbox(displayName: "Keywarden, Inc.", address: "k@example.com"))
        #expect(Self.headers(of: quoted).contains("From: \"Keywarden, Inc.\" <k@example.com>"))
        let encoded = try Self.render(from: EmailMailbox(displayName: "Ключ", address: "k@example.com"))
        let from = try #require(Self.headers(of: encoded).first { $0.hasPrefix("From: ") })
        #expect(from == "From: =?UTF-8?B?" + Data("Ключ".utf8).base64EncodedString() + "?= <k@example.com>")
        #expect(Self.headers(of: encoded).contains("Message-ID: <fixed@example.com>"))
    }

    @Test func quotedPrintableEscapesEqualsNonASCIIAndTrailingSpaceAndBreaksLongLines() {
        #expect(MIMEEncoding.quotedPrintable("naïve = café ") == "na=C3=AFve =3D caf=C3=A9=20")
        let long = MIMEEncoding.quotedPrintable(String(repeating: "a", count: 100))
        #expect(long == String(repeating: "a", count: 75) + "=\r\n" + String(repeating: "a", count: 25))
        #expect(MIMEEncoding.quotedPrintable("one\ntwo\r\nthree\rfour") == "one\r\ntwo\r\nthree\r\nfour")
        // A soft break never splits an =XX escape.
        let escapes = MIMEEncoding.quotedPrintable(String(repeating: "é", count: 30))
        for line in escapes.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 76)
            let rest = line.replacingOccurrences(of: "=C3", with: "").replacingOccurrences(of: "=A9", with: "")
            #expect(rest == "" || rest == "=", "an escape split in \(line)")
        }
    }

    @Test func linesStartingWithADotAreDotStuffedAndTheDataEndsWithALoneDot() throws {
        #expect(
            String(decoding: SMTPData.payload("Subject: x\r\n\r\n.hidden\r\n..two\r\nend\r\n"), as: UTF8.self)
                == "Subject: x\r\n\r\n..hidden\r\n...two\r\nend\r\n.\r\n")
        #expect(String(decoding: SMTPData.payload("no line end"), as: UTF8.self) == "no line end\r\n.\r\n")
        let rendered = try Self.render(text: "first\n.\n.hidden line")
        let payload = String(decoding: SMTPData.payload(rendered), as: UTF8.self)
        #expect(payload.contains("\r\nfirst\r\n..\r\n..hidden line\r\n"))
        #expect(payload.hasSuffix("\r\n.\r\n"))
        #expect(!payload.dropLast(5).contains("\r\n.\r\n"), "the message would end early")
    }

    @Test(arguments: [
        "Hi\r\nBcc: victim@example.com", "Hi\nBcc: victim@example.com", "Hi\rBcc: victim@example.com",
    ])
    func aSubjectWithALineBreakIsRefused(_ subject: String) {
        let error = #expect(throws: ProviderError.self) { try Self.render(subject: subject) }
        #expect(error?.provider == "smtp")
        #expect(error?.detail.contains("subject") == true)
    }

    @Test func addressesThatWouldAddHeadersAreRefused() {
        #expect(throws: ProviderError.self) { try Self.render(to: "person@example.com\r\nBcc: victim@example.com") }
        #expect(throws: ProviderError.self) { try Self.render(to: "person@example.com>\nBcc:x@y.z") }
        #expect(throws: ProviderError.self) {
            try Self.render(from: EmailMailbox(displayName: "Keywarden\r\nBcc: victim@example.com", address: "k@x.y"))
        }
        #expect(throws: ProviderError.self) {
            try Self.render(from: EmailMailbox(displayName: nil, address: "k@x.y\r\nBcc: victim@example.com"))
        }
    }

    @Test func emailFromIsReadWithOrWithoutADisplayName() {
        #expect(EmailMailbox(parsing: "Keywarden <keywarden@localhost>") == .keywarden)
        let bare = EmailMailbox(displayName: nil, address: "keywarden@example.com")
        #expect(EmailMailbox(parsing: "  keywarden@example.com ") == bare)
        #expect(
            EmailMailbox(parsing: "\"Keywarden, Inc.\" <k@example.com>")
                == EmailMailbox(displayName: "Keywarden, Inc.", address: "k@example.com"))
        #expect(EmailMailbox(parsing: "<k@example.com>") == EmailMailbox(displayName: nil, address: "k@example.com"))
        #expect(EmailMailbox.keywarden.description == "Keywarden <keywarden@localhost>")
        for refused in [
            "Keywarden", "Keywarden <>", "<k@example.com", "two words@example.com", "k@example.com\r\nBcc: x@y.z",
            "Keywarden\n <k@example.com>", "k@@example.com", "@example.com", "k@", "k@example..com",
        ] {
            #expect(EmailMailbox(parsing: refused) == nil, "accepted \(refused)")
        }
    }
}
