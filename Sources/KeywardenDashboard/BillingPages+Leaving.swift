import Foundation
import Hummingbird
import KeywardenCore

/// Sending the person to the payment provider's pages. A form's answer may redirect only within
/// this site (`form-action 'self'`, which browsers apply to the redirects after a POST too), so
/// a page elsewhere is reached from a page of ours: a link the script follows at once, and that
/// works without it.
extension BillingPages {
    /// A page that sends the person to `url`: a redirect when it is on this site (the test
    /// provider's pages), otherwise a page with a "Continue" link to it.
    func leave(
        to url: String, heading: String, sentence: String, request: Request, context: PageContext
    ) async throws -> Response {
        if Self.isThisSite(url, authority: request.head.authority) { throw PageRedirect.to(url, flash: nil) }
        let frame = try await dashboard.frame(heading, request: request, context: context)
        let view = ContinueView(layout: frame.layout, heading: heading, sentence: sentence, url: url)
        return dashboard.page("billing-continue", view, frame: frame)
    }

    /// Whether `url` names the host and port the request came to (its `authority`).
    static func isThisSite(_ url: String, authority: String?) -> Bool {
        guard let target = URLComponents(string: url), let host = target.host, let requested = authority else {
            return false
        }
        let port = target.port.map { ":\($0)" } ?? ""
        return (host + port).lowercased() == requested.lowercased()
    }
}

/// The page between Keywarden and the provider's.
struct ContinueView: Sendable {
    let layout: Layout
    let heading: String
    let sentence: String
    let url: String
}
