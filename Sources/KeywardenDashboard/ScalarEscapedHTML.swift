import Mustache

/// HTML escaping scalar by scalar. The engine's own escaping looks at whole characters, so a
/// quote followed by a combining mark (`"` + U+0301, one character) would pass unescaped and end
/// an attribute early; here every `<`, `>`, `&`, `"` and `'` is escaped wherever it stands.
struct ScalarEscapedHTML: MustacheContentType {
    /// The name templates select it by.
    static let name = "KEYWARDEN_HTML"

    func escapeText(_ text: String) -> String {
        // Most text has nothing to escape: a byte scan decides without building a new string.
        guard text.utf8.contains(where: { $0 == 0x3C || $0 == 0x3E || $0 == 0x26 || $0 == 0x22 || $0 == 0x27 })
        else { return text }
        var escaped = String.UnicodeScalarView()
        escaped.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "<": escaped.append(contentsOf: "&lt;".unicodeScalars)
            case ">": escaped.append(contentsOf: "&gt;".unicodeScalars)
            case "&": escaped.append(contentsOf: "&amp;".unicodeScalars)
            case "\"": escaped.append(contentsOf: "&quot;".unicodeScalars)
            case "'": escaped.append(contentsOf: "&#39;".unicodeScalars)
            default: escaped.append(scalar)
            }
        }
        return String(escaped)
    }
}
