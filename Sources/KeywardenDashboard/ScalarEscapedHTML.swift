import Mustache

/// HTML escaping scalar by scalar. The engine's own escaping looks at whole characters, so a
/// quote followed by a combining mark (`"` + U+0301, one character) would pass unescaped and end
/// an attribute early; here every `<`, `>`, `&`, `"` and `'` is escaped wherever it stands.
struct ScalarEscapedHTML: MustacheContentType {
    /// The name templates select it by.
    static let name = "KEYWARDEN_HTML"

    func escapeText(_ text: String) -> String {
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
