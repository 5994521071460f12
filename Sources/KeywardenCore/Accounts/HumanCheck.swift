/// A CAPTCHA check done on the server (`captcha_provider`): the provider's widget on a page gives
/// the browser a response token, which sign-up and starting a phone verification send on and
/// which the provider is asked about here. The check itself is a closure, passed in, so tests
/// use a stub and the provider's HTTP call lives outside Core.
public struct HumanCheck: Sendable {
    /// What a page shows to get a response token: the provider's script and the element it fills.
    public struct Widget: Equatable, Sendable {
        /// `turnstile` or `hcaptcha`.
        public var provider: String
        /// The public site key the widget names.
        public var siteKey: String
        /// The provider's script, the one script a page with the widget loads from elsewhere.
        public var scriptURL: String
        /// The class of the element the script turns into the widget.
        public var elementClass: String
        /// The form field the widget fills with its response token.
        public var formField: String
        /// The origins the widget's script, frames, styles and requests come from, for the page's
        /// Content-Security-Policy.
        public var origins: [String]

        /// Describes a widget.
        public init(
            provider: String, siteKey: String, scriptURL: String, elementClass: String, formField: String,
            origins: [String]
        ) {
            self.provider = provider
            self.siteKey = siteKey
            self.scriptURL = scriptURL
            self.elementClass = elementClass
            self.formField = formField
            self.origins = origins
        }
    }

    /// The widget to show; `nil` when no check is required.
    public var widget: Widget?
    /// Asks the provider whether a response token (from a client address) is a pass. Throws
    /// when the provider cannot be reached or answers in a way that cannot be read.
    let verify: @Sendable (_ response: String, _ clientAddress: String?) async throws -> Bool

    /// A required check with its widget and its question to the provider.
    public init(
        widget: Widget, verify: @escaping @Sendable (_ response: String, _ clientAddress: String?) async throws -> Bool
    ) {
        self.widget = widget
        self.verify = verify
    }

    private init() {
        self.widget = nil
        self.verify = { _, _ in true }
    }

    /// No check: nothing is asked of anyone.
    public static let notRequired = HumanCheck()

    /// Whether a response token is required.
    public var isRequired: Bool { widget != nil }

    /// The longest response token passed on to the provider.
    public static let maximumResponseLength = 4096

    /// Passes when no check is required or the provider accepts `response`; otherwise throws
    /// `captcha_failed` (400, naming `field`) for a missing or refused token, or
    /// `captcha_unavailable` (503) when the provider cannot say.
    public func require(_ response: String?, clientAddress: String?, field: String = "captcha_token") async throws {
        guard isRequired else { return }
        guard let response, !response.isEmpty, response.utf8.count <= Self.maximumResponseLength else {
            throw Self.failed(field: field)
        }
        let passed: Bool
        do {
            passed = try await verify(response, clientAddress)
        } catch let refusal as DomainError {
            throw refusal
        } catch {
            throw Self.unavailable
        }
        guard passed else { throw Self.failed(field: field) }
    }

    /// A missing or refused response token.
    public static func failed(field: String) -> DomainError {
        DomainError(
            .invalidRequest, code: .captchaFailed,
            message: "The CAPTCHA check did not pass. Complete the check again and resend the form.", param: field)
    }

    /// The provider could not be asked.
    public static let unavailable = DomainError(
        .unavailable, code: .captchaUnavailable,
        message: "We could not check the CAPTCHA just now. Nothing was done; try again in a minute.")
}
