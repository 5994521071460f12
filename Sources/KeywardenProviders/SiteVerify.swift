import AsyncHTTPClient
import Foundation
import KeywardenCore
import NIOCore

/// The CAPTCHA providers' server-side check (`captcha_provider`): Cloudflare Turnstile and
/// hCaptcha both take `secret`, `response` and `remoteip` form-encoded at their siteverify URL
/// and answer JSON whose `success` says whether the widget's response token is a pass.
public struct SiteVerify: Sendable {
    /// A provider: where its check is, and what its widget needs on a page.
    public enum Provider: String, Sendable, CaseIterable {
        case turnstile
        case hcaptcha

        /// The provider's own siteverify URL.
        public var verifyURL: String {
            switch self {
            case .turnstile: "https://challenges.cloudflare.com/turnstile/v0/siteverify"
            case .hcaptcha: "https://api.hcaptcha.com/siteverify"
            }
        }

        /// The widget for `siteKey`: the provider's script, the element it fills and the form
        /// field it adds, and the origins a page's Content-Security-Policy must allow for it.
        public func widget(siteKey: String) -> HumanCheck.Widget {
            switch self {
            case .turnstile:
                HumanCheck.Widget(
                    provider: rawValue, siteKey: siteKey,
                    scriptURL: "https://challenges.cloudflare.com/turnstile/v0/api.js", elementClass: "cf-turnstile",
                    formField: "cf-turnstile-response", origins: ["https://challenges.cloudflare.com"])
            case .hcaptcha:
                HumanCheck.Widget(
                    provider: rawValue, siteKey: siteKey, scriptURL: "https://js.hcaptcha.com/1/api.js",
                    elementClass: "h-captcha", formField: "h-captcha-response",
                    origins: ["https://hcaptcha.com", "https://*.hcaptcha.com"])
            }
        }
    }

    let provider: Provider
    let secret: String
    let siteKey: String
    let url: String
    let http: ProviderHTTP

    /// Creates the check; `verifyURL` replaces the provider's own URL (tests point it at a stub).
    public init(
        provider: Provider, secret: String, siteKey: String, verifyURL: String? = nil, client: HTTPClient = .shared,
        timeout: TimeAmount = .seconds(10)
    ) {
        self.provider = provider
        self.secret = secret
        self.siteKey = siteKey
        self.url = verifyURL ?? provider.verifyURL
        self.http = ProviderHTTP(provider: provider.rawValue, client: client, timeout: timeout)
    }

    /// The check to hand to sign-up and phone verification.
    public var check: HumanCheck {
        HumanCheck(widget: provider.widget(siteKey: siteKey)) { response, clientAddress in
            try await verify(response, clientAddress: clientAddress)
        }
    }

    /// Asks the provider about one response token; throws ``ProviderError`` when it cannot be
    /// reached or answers something other than JSON with a boolean `success`.
    func verify(_ response: String, clientAddress: String?) async throws -> Bool {
        var fields = [("secret", secret), ("response", response)]
        if let clientAddress { fields.append(("remoteip", clientAddress)) }
        let reply = try await http.send(
            .POST, url, headers: [("Accept", "application/json")], body: FormEncoding.encode(fields),
            contentType: "application/x-www-form-urlencoded")
        guard (200..<300).contains(reply.status), let success = reply.json["success"] as? Bool else {
            throw ProviderError(provider: provider.rawValue, detail: "siteverify answered HTTP \(reply.status)")
        }
        return success
    }
}
