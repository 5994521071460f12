import Crypto
import Foundation
import KeywardenCore

/// Twilio's request signature: base64 of HMAC-SHA1, keyed by the auth token, over the full URL
/// followed by every POST parameter's name and value, sorted by name.
public enum TwilioSignature {
    /// The signature Twilio would send for this request.
    public static func signature(url: String, parameters: [(String, String)], authToken: String) -> String {
        var payload = url
        for (name, value) in parameters.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
            payload += name + value
        }
        let code = HMAC<Insecure.SHA1>.authenticationCode(
            for: Data(payload.utf8), using: SymmetricKey(data: Data(authToken.utf8)))
        return Data(code).base64EncodedString()
    }

    /// Whether `presented` is the right signature, compared in constant time.
    public static func isValid(
        presented: String?, url: String, parameters: [(String, String)], authToken: String
    )
        -> Bool
    {
        guard let presented else { return false }
        return ConstantTime.equals(
            signature(url: url, parameters: parameters, authToken: authToken).utf8, presented.utf8)
    }
}

/// `application/x-www-form-urlencoded` bodies, as Twilio takes and sends them.
public enum FormEncoding {
    static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// Encodes fields in order.
    public static func encode(_ fields: [(String, String)]) -> String {
        fields.map { escape($0.0) + "=" + escape($0.1) }.joined(separator: "&")
    }

    /// Decodes a body into fields in order; `+` is a space.
    public static func decode(_ body: String) -> [(String, String)] {
        body.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func unescape(_ text: Substring) -> String {
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
            }
            return (unescape(parts[0]), parts.count > 1 ? unescape(parts[1]) : "")
        }
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }
}
