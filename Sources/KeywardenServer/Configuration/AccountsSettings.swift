import Foundation
import KeywardenCore

/// Passwords, sessions, sign-in and sign-up limits, and email confirmation.
public struct AccountsSettings: Sendable {
    /// The bcrypt cost for password hashes (4...31).
    public var bcryptCost = 12
    /// Seconds of inactivity after which a session ends.
    public var sessionIdleTimeout = 7 * 24 * 3600
    /// Seconds after sign-in at which a session ends, however active.
    public var sessionLifetime = 30 * 24 * 3600
    /// Failed sign-ins allowed per email address per 15 minutes.
    public var loginAttemptsPerAccount = 10
    /// Failed sign-ins allowed per client address per 15 minutes.
    public var loginAttemptsPerAddress = 50
    /// Seconds an invite's emailed link stays usable (and again after each resend).
    public var inviteLifetime = 7 * 24 * 3600
    /// Whether phone verification and key creation wait for a confirmed email address.
    public var requireEmailConfirmation = true
    /// Sign-ups allowed per client address per hour.
    public var signupsPerAddressPerHour = 5
    /// Seconds a sign-in (or a password or code entered again) allows creating and rotating
    /// keys, changing two-factor settings and inviting owners.
    public var stepUpWindow = 600
    /// Email domains sign-up refuses, with their subdomains.
    public var refusedEmailDomains: [String] = []
    /// The CAPTCHA on sign-up and on starting a phone verification; `nil` for none.
    public var captcha: CaptchaSettings?

    /// The defaults.
    public init() {}

    /// Reads the account settings.
    public init(reading settings: SettingsReader) throws {
        let year = 365 * 24 * 3600
        let bounded: [(Setting, ClosedRange<Int>, WritableKeyPath<AccountsSettings, Int>)] = [
            (.bcryptCost, 4...31, \.bcryptCost),
            (.sessionIdleTimeout, 60...year, \.sessionIdleTimeout),
            (.sessionLifetime, 60...year, \.sessionLifetime),
            (.loginAttemptsPerAccount, 1...10000, \.loginAttemptsPerAccount),
            (.loginAttemptsPerAddress, 1...100_000, \.loginAttemptsPerAddress),
            (.inviteLifetime, 60...year, \.inviteLifetime),
            (.signupsPerAddressPerHour, 1...1_000_000, \.signupsPerAddressPerHour),
            (.stepUpWindow, 60...86_400, \.stepUpWindow),
        ]
        for (setting, range, path) in bounded {
            if let number = try settings.integer(setting, in: range) { self[keyPath: path] = number }
        }
        if let required = try settings.boolean(.requireEmailConfirmation) { requireEmailConfirmation = required }
        if let domains = settings.text(.refusedEmailDomains) {
            refusedEmailDomains = domains.split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        }
        captcha = try CaptchaSettings(reading: settings)
    }

    /// What the account service needs of these settings.
    public var serviceSettings: AccountSettings {
        var settings = AccountSettings()
        settings.sessionIdleTimeout = TimeInterval(sessionIdleTimeout)
        settings.sessionLifetime = TimeInterval(sessionLifetime)
        settings.loginLimitPerAccount = FixedWindowLimit(limit: loginAttemptsPerAccount, window: 900)
        settings.loginLimitPerClientAddress = FixedWindowLimit(limit: loginAttemptsPerAddress, window: 900)
        settings.signUpLimitPerClientAddress = FixedWindowLimit(limit: signupsPerAddressPerHour, window: 3600)
        settings.refusedEmailDomains = RefusedEmailDomains(refusedEmailDomains)
        settings.stepUpWindow = TimeInterval(stepUpWindow)
        return settings
    }

    /// The rule phone verification and key creation apply.
    public var emailConfirmationRule: EmailConfirmationRule {
        EmailConfirmationRule(isRequired: requireEmailConfirmation)
    }
}
