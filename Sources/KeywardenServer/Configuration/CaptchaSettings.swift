import KeywardenCore
import KeywardenProviders

/// The CAPTCHA provider (`captcha_provider`), its keys and where its check is answered.
public struct CaptchaSettings: Sendable, Equatable {
    /// Turnstile or hCaptcha.
    public var provider: SiteVerify.Provider
    /// The secret key, sent only to the provider.
    public var secret: String
    /// The site key, shown in the page's widget.
    public var siteKey: String
    /// Where the check is asked; `nil` for the provider's own siteverify URL.
    public var verifyURL: String?

    /// A provider with its keys.
    public init(provider: SiteVerify.Provider, secret: String, siteKey: String, verifyURL: String? = nil) {
        self.provider = provider
        self.secret = secret
        self.siteKey = siteKey
        self.verifyURL = verifyURL
    }

    /// Reads the CAPTCHA settings: `nil` without `captcha_provider`; with it, the secret and the
    /// site key are required.
    init?(reading settings: SettingsReader) throws {
        guard
            let provider = try settings.choice(
                .captchaProvider, as: SiteVerify.Provider.self, expected: "expected turnstile or hcaptcha")
        else { return nil }
        let needed = "captcha_provider \(provider.rawValue)"
        self.init(
            provider: provider, secret: try settings.required(.captchaSecret, by: needed),
            siteKey: try settings.required(.captchaSiteKey, by: needed), verifyURL: settings.text(.captchaVerifyURL))
    }

    /// The check sign-up and phone verification ask.
    public var check: HumanCheck {
        SiteVerify(provider: provider, secret: secret, siteKey: siteKey, verifyURL: verifyURL).check
    }
}
