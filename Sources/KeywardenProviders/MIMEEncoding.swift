import Foundation

/// The encodings a message's headers and bodies are written in: quoted-printable bodies
/// (RFC 2045 §6.7), RFC 2047 encoded-words for headers that are not ASCII, and header folding
/// (RFC 5322 §2.2.3). Every line ends with CRLF.
enum MIMEEncoding {
    /// The longest header line written, as RFC 5322 recommends.
    static let headerLineLength = 78
    /// UTF-8 bytes per encoded-word: 39 bytes are 52 base64 characters, so a word with its
    /// `=?UTF-8?B?` and `?=` is 64 characters and fits a line after `Subject: `.
    static let encodedWordBytes = 39

    /// `text` as quoted-printable: every line break becomes CRLF, lines longer than 76
    /// characters get soft breaks, and `=`, bytes outside printable ASCII and white space at a
    /// line's end are written as `=XX`.
    static func quotedPrintable(_ text: String) -> String {
        lines(of: text).map(quotedPrintableLine).joined(separator: "\r\n")
    }

    /// The lines of `text`, whether they end with CRLF, LF or CR.
    static func lines(of text: String) -> [[UInt8]] {
        var lines: [[UInt8]] = [[]]
        var previous: UInt8?
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\n") where previous == UInt8(ascii: "\r"):
                break
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                lines.append([])
            default:
                lines[lines.count - 1].append(byte)
            }
            previous = byte
        }
        return lines
    }

    private static func quotedPrintableLine(_ bytes: [UInt8]) -> String {
        var output = ""
        var length = 0
        for (index, byte) in bytes.enumerated() {
            let isWhiteSpace = byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
            let isLiteral =
                (isWhiteSpace && index < bytes.count - 1)
                || ((33...126).contains(byte) && byte != UInt8(ascii: "="))
            let piece = isLiteral ? String(UnicodeScalar(byte)) : hex(byte)
            // 75 characters and the soft break's `=` make the 76 a line may hold.
            if length + piece.count > 75 {
                output += "=\r\n"
                length = 0
            }
            output += piece
            length += piece.count
        }
        return output
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "=" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
    }

    /// A header line, `Name: value`, folded to lines of at most 78 characters where it has
    /// spaces; a value that is not printable ASCII is written as encoded-words instead.
    static func header(_ name: String, _ value: String) -> String {
        let printable = value.utf8.allSatisfy { (32...126).contains($0) }
        guard printable else {
            return name + ": " + encodedWords(value).joined(separator: "\r\n ")
        }
        return fold(name + ": " + value)
    }

    /// A line broken before spaces so that each piece is at most 78 characters, when it can be.
    static func fold(_ line: String) -> String {
        var folded: [String] = []
        var current = ""
        for (index, word) in line.split(separator: " ", omittingEmptySubsequences: false).enumerated() {
            if index == 0 {
                current = String(word)
            } else if !word.isEmpty, current.utf8.count + 1 + word.utf8.count > headerLineLength,
                !current.trimmingSpaces.isEmpty
            {
                folded.append(current)
                current = " " + String(word)
            } else {
                current += " " + String(word)
            }
        }
        folded.append(current)
        return folded.joined(separator: "\r\n")
    }

    /// `text` as RFC 2047 encoded-words (`=?UTF-8?B?...?=`), each holding whole code points.
    static func encodedWords(_ text: String) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > encodedWordBytes {
                words.append(encodedWord(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append(encodedWord(chunk)) }
        return words
    }

    private static func encodedWord(_ bytes: [UInt8]) -> String {
        "=?UTF-8?B?" + Data(bytes).base64EncodedString() + "?="
    }

    /// A display name as a header writes it: as is when it is plain words, quoted when it holds
    /// other ASCII (commas, dots), as encoded-words when it is not ASCII.
    static func phrase(_ name: String) -> String {
        guard name.utf8.allSatisfy({ (32...126).contains($0) }) else {
            return encodedWords(name).joined(separator: " ")
        }
        let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~ ".utf8)
        if name.utf8.allSatisfy({ atext.contains($0) }), !name.hasPrefix("=?") { return name }
        return "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            + "\""
    }
}
