/// One reply of an SMTP server (RFC 5321 §4.2): a three-digit code and one or more lines of text.
public struct SMTPReply: Equatable, Sendable {
    /// The reply code, such as 250.
    public var code: Int
    /// The text of each line, after the code and its separator.
    public var lines: [String]

    /// A reply.
    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// The enhanced status code (RFC 3463) the first line starts with, such as `5.7.8`.
    public var enhancedCode: String? {
        guard let word = lines.first?.split(separator: " ").first else { return nil }
        let parts = word.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }) else { return nil }
        return String(word)
    }

    /// The code and, where there is one, the enhanced code: what a log line says of a refusal.
    /// The server's text is left out: it may repeat what was sent.
    public var summary: String {
        enhancedCode.map { "\(code) \($0)" } ?? String(code)
    }
}

/// What a server offers in its reply to EHLO: one keyword a line after the greeting line, with
/// parameters (`AUTH PLAIN LOGIN`, `SIZE 10240000`, `STARTTLS`).
public struct SMTPCapabilities: Equatable, Sendable {
    /// Parameters by keyword, keywords in capitals.
    public var keywords: [String: [String]]

    /// The capabilities an EHLO reply lists.
    public init(ehlo reply: SMTPReply) {
        var keywords: [String: [String]] = [:]
        for line in reply.lines.dropFirst() {
            let words = line.split(separator: " ").map(String.init)
            guard let keyword = words.first?.uppercased() else { continue }
            // Some old servers write `AUTH=LOGIN PLAIN` as well as, or instead of, `AUTH LOGIN PLAIN`.
            let parameters = words.dropFirst().map { $0.uppercased() }
            if keyword.hasPrefix("AUTH=") {
                keywords["AUTH", default: []] += [String(keyword.dropFirst(5))] + parameters
            } else {
                keywords[keyword, default: []] += parameters
            }
        }
        self.keywords = keywords
    }

    /// Whether the server offers `keyword`.
    public func contains(_ keyword: String) -> Bool {
        keywords[keyword.uppercased()] != nil
    }

    /// The AUTH mechanisms offered, in capitals.
    public var authMechanisms: Set<String> {
        Set(keywords["AUTH"] ?? [])
    }
}

/// Why an exchange with an SMTP server stopped before a usable reply.
enum SMTPFailure: Error, Equatable {
    /// No reply within `smtp_timeout`.
    case timedOut
    /// The server closed the connection.
    case closed
    /// A reply that does not follow RFC 5321's syntax, or one too long.
    case malformedReply
    /// A reply that came when no command was waiting for one.
    case unexpectedReply
    /// Bytes that came after the reply to STARTTLS and before TLS: they could be an attacker's.
    case dataAfterSTARTTLS
}

/// Reads replies out of the bytes a server sends, line by line: `250-first`, `250-second`,
/// `250 last` make one reply. Lines end with CRLF (a bare LF is accepted).
struct SMTPReplyParser {
    /// The longest line accepted; RFC 5321 allows 512 octets.
    static let maximumLineLength = 4096
    /// The most lines one reply may have.
    static let maximumLines = 256

    private var buffer: [UInt8] = []
    private var code: Int?
    private var lines: [String] = []

    /// Whether bytes have come that are not part of a reply handed out yet.
    var hasBufferedBytes: Bool { !buffer.isEmpty || !lines.isEmpty }

    /// Adds bytes as they arrive.
    mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete reply, or `nil` until more bytes come.
    ///
    /// - Throws: ``SMTPFailure/malformedReply`` for a line without a code, a continuation line
    ///   with another code than the first, or a line or reply past the limits.
    mutating func next() throws -> SMTPReply? {
        while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            var line = buffer[..<newline]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            let parsed = try Self.parse(line)
            buffer.removeSubrange(...newline)
            if let code, code != parsed.code { throw SMTPFailure.malformedReply }
            code = parsed.code
            lines.append(parsed.text)
            guard lines.count <= Self.maximumLines else { throw SMTPFailure.malformedReply }
            if parsed.isLast {
                let reply = SMTPReply(code: parsed.code, lines: lines)
                code = nil
                lines = []
                return reply
            }
        }
        guard buffer.count <= Self.maximumLineLength else { throw SMTPFailure.malformedReply }
        return nil
    }

    /// `NNN text` (the last line), `NNN-text` (more to come) or a bare `NNN`.
    private static func parse(_ line: ArraySlice<UInt8>) throws -> (code: Int, isLast: Bool, text: String) {
        guard line.count >= 3, line.count <= maximumLineLength else { throw SMTPFailure.malformedReply }
        let digits = Array(line.prefix(3))
        guard (UInt8(ascii: "1")...UInt8(ascii: "5")).contains(digits[0]),
            digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { throw SMTPFailure.malformedReply }
        let code = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        guard line.count > 3 else { return (code, true, "") }
        let separator = line[line.startIndex + 3]
        guard separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else {
            throw SMTPFailure.malformedReply
        }
        let text = String(decoding: line.dropFirst(4), as: UTF8.self)
        return (code, separator == UInt8(ascii: " "), text)
    }
}
