import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// Form tokens and the checks every POST passes: the token bound to the browser's session (or,
/// signed out, to its pre-session cookie) and an `Origin` of this site.
struct FormGuard: Sendable {
    private let key: SymmetricKey
    /// Whether cookies carry `Secure`.
    let secureCookies: Bool

    init(serverSecret: String, secureCookies: Bool) {
        self.key = SymmetricKey(data: Data(("keywarden form token\u{0}" + serverSecret).utf8))
        self.secureCookies = secureCookies
    }

    /// The token for forms of the browser bound by `binding` (a session id, or the value of the
    /// pre-session cookie).
    func token(for binding: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(binding.utf8), using: key)).map { String(format: "%02x", $0) }
            .joined()
    }

    /// Reads a posted form after checking where it came from and its token.
    ///
    /// - Throws: ``PageRefusal`` (403) for a foreign or missing `Origin` or a missing or wrong
    ///   token; nothing the form asks is done then.
    func form(_ request: Request, expectedToken: String?) async throws -> FormFields {
        guard Self.isSameOrigin(request) else { throw PageRefusal.foreignOrigin }
        let body = try await request.body.collect(upTo: ManagementAPI.maxBodyBytes)
        let fields = FormFields(FormEncoding.decode(String(buffer: body)))
        guard let expectedToken, let presented = fields["csrf_token"],
            ConstantTime.equals(presented.utf8, expectedToken.utf8)
        else { throw PageRefusal.missingFormToken }
        return fields
    }

    /// Whether the request's `Origin` (or, without one, its `Referer`) is this site: the same
    /// host and port the request was sent to.
    static func isSameOrigin(_ request: Request) -> Bool {
        guard let host = request.head.authority ?? request.headers[HTTPField.Name("Host")!] else { return false }
        let claimed = request.headers[.origin] ?? request.headers[.referer]
        guard let claimed, let url = URLComponents(string: claimed), let claimedHost = url.host else { return false }
        let authority = url.port.map { "\(claimedHost):\($0)" } ?? claimedHost
        return authority.lowercased() == host.lowercased() && (url.scheme == "http" || url.scheme == "https")
    }
}

/// The fields of a posted form, by name; a repeated name keeps every value in order.
struct FormFields: Sendable {
    let pairs: [(String, String)]

    init(_ pairs: [(String, String)]) {
        self.pairs = pairs
    }

    /// The first value of `name`, trimmed; `nil` when absent.
    subscript(_ name: String) -> String? {
        pairs.first { $0.0 == name }?.1
    }

    /// Every value of `name`.
    func all(_ name: String) -> [String] {
        pairs.filter { $0.0 == name }.map(\.1)
    }
}
