import Foundation
import Hummingbird
import KeywardenCore

/// The dashboard's cookies. Only the session cookie and the sign-in challenge hold a secret; every
/// cookie is `HttpOnly`, on `/`, and `Secure` when the public URL is https, and all but the
/// challenge are `SameSite=Lax`.
enum BrowserCookies {
    /// The session token (`sess_...`), the same sessions as API tokens.
    static let session = "keywarden_session"
    /// A random value binding a signed-out browser's form tokens.
    static let preSession = "keywarden_presession"
    /// The organization chosen in the header.
    static let organization = "keywarden_organization"
    /// The project chosen in the header.
    static let project = "keywarden_project"
    /// A message for the next page, after a redirect.
    static let flash = "keywarden_flash"
    /// The challenge a right password earned while the authentication code is asked for.
    static let signInChallenge = "keywarden_sign_in_challenge"

    /// A cookie for `name`; `maxAge` 0 removes it.
    static func cookie(_ name: String, _ value: String, maxAge: Int? = nil, secure: Bool) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    /// The cookie holding a sign-in's challenge for `maxAge` seconds. It is `SameSite=Strict`:
    /// only this site's own pages, never a link from elsewhere, send it back.
    static func signInChallenge(_ token: String, maxAge: Int, secure: Bool) -> Cookie {
        Cookie(
            name: signInChallenge, value: token, maxAge: maxAge, path: "/", secure: secure, httpOnly: true,
            sameSite: .strict)
    }

    /// The cookie that removes `name`.
    static func removal(_ name: String, secure: Bool) -> Cookie {
        cookie(name, "", maxAge: 0, secure: secure)
    }

    /// A flash message as a cookie value (base64url, so any text fits).
    static func flash(_ text: String, secure: Bool) -> Cookie {
        let value = Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return cookie(flash, value, maxAge: 60, secure: secure)
    }

    /// The text of a flash cookie's value.
    static func flashText(_ value: String) -> String? {
        var base64 = value.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), data.count <= 512 else { return nil }
        return String(data: data, encoding: .utf8)
    }
}
