import Foundation
import KeywardenCore
import KeywardenProviders
import KeywardenServer
import Testing

@Suite("Configuration: accounts and sign-up")
struct AccountSettingsTests {
    func load(_ environment: [String: String]) async throws -> KeywardenConfiguration {
        try await KeywardenConfiguration.load(from: ConfigurationSources(flags: [:], environment: environment))
    }

    @Test func theDefaultsRequireConfirmationAllowFiveSignUpsAnHourAndNoCaptcha() async throws {
        let accounts = try await load([:]).accounts
        #expect(accounts.requireEmailConfirmation)
        #expect(accounts.signupsPerAddressPerHour == 5)
        #expect(accounts.refusedEmailDomains.isEmpty)
        #expect(accounts.captcha == nil)
        #expect(accounts.serviceSettings.signUpLimitPerClientAddress == FixedWindowLimit(limit: 5, window: 3600))
        #expect(accounts.emailConfirmationRule.isRequired)
    }

    @Test func theAccountSettingsAreReadFromTheEnvironment() async throws {
        let accounts = try await load([
            "KEYWARDEN_REQUIRE_EMAIL_CONFIRMATION": "false",
            "KEYWARDEN_SIGNUPS_PER_ADDRESS_PER_HOUR": "12",
            "KEYWARDEN_REFUSED_EMAIL_DOMAINS": " mailinator.com, ,Temp.example ",
            "KEYWARDEN_CAPTCHA_PROVIDER": "hcaptcha",
            "KEYWARDEN_CAPTCHA_SECRET": "captcha-secret",
            "KEYWARDEN_CAPTCHA_SITE_KEY": "site-key",
        ]).accounts
        #expect(!accounts.requireEmailConfirmation)
        #expect(accounts.signupsPerAddressPerHour == 12)
        #expect(accounts.refusedEmailDomains == ["mailinator.com", "Temp.example"])
        #expect(accounts.serviceSettings.refusedEmailDomains.domains == ["mailinator.com", "temp.example"])
        #expect(accounts.captcha == CaptchaSettings(provider: .hcaptcha, secret: "captcha-secret", siteKey: "site-key"))
        #expect(accounts.captcha?.check.widget?.formField == "h-captcha-response")
    }

    @Test func aCaptchaProviderNeedsItsKeysAndOnlyKnownProvidersAndNumbersInRangeAreAccepted() async throws {
        for (environment, key) in [
            (["KEYWARDEN_CAPTCHA_PROVIDER": "recaptcha"], "captcha_provider"),
            (["KEYWARDEN_CAPTCHA_PROVIDER": "turnstile", "KEYWARDEN_CAPTCHA_SITE_KEY": "k"], "captcha_secret"),
            (["KEYWARDEN_CAPTCHA_PROVIDER": "turnstile", "KEYWARDEN_CAPTCHA_SECRET": "s"], "captcha_site_key"),
            (["KEYWARDEN_SIGNUPS_PER_ADDRESS_PER_HOUR": "0"], "signups_per_address_per_hour"),
            (["KEYWARDEN_REQUIRE_EMAIL_CONFIRMATION": "maybe"], "require_email_confirmation"),
        ] {
            let error = await #expect(throws: ConfigurationError.self) { try await load(environment) }
            #expect(error?.key == key, "\(environment)")
        }
    }

    @Test func theCaptchaSecretIsASecret() {
        #expect(Setting.captchaSecret.isSecret)
        #expect(!Setting.captchaSiteKey.isSecret)
    }
}
