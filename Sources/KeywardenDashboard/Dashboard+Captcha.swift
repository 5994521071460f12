import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore

extension Dashboard {
    /// The CAPTCHA widget the sign-up and phone pages show, when `captcha_provider` is set.
    var captchaWidget: HumanCheck.Widget? { services.accounts.humanCheck.widget }

    /// What the widget put in a posted form: the response token the CAPTCHA check asks about.
    func captchaResponse(in fields: FormFields) -> String? {
        captchaWidget.flatMap { fields[$0.formField] }
    }

    /// `response` with the page policy that lets the widget load, when it is on the page.
    static func allowingCaptcha(_ widget: HumanCheck.Widget?, in response: Response) -> Response {
        guard let widget else { return response }
        var response = response
        response.headers[.contentSecurityPolicy] = PageMiddleware.contentSecurityPolicy(allowing: widget)
        return response
    }
}
