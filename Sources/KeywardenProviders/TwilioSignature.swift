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
