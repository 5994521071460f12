import Foundation
import KeywardenCore

/// Passwords, sessions and sign-in limits.
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
        ]
        for (setting, range, path) in bounded {
            if let number = try settings.integer(setting, in: range) { self[keyPath: path] = number }
        }
    }

    /// What the account service needs of these settings.
    public var serviceSettings: AccountSettings {
        var settings = AccountSettings()
        settings.sessionIdleTimeout = TimeInterval(sessionIdleTimeout)
        settings.sessionLifetime = TimeInterval(sessionLifetime)
        settings.loginLimitPerAccount = FixedWindowLimit(limit: loginAttemptsPerAccount, window: 900)
        settings.loginLimitPerClientAddress = FixedWindowLimit(limit: loginAttemptsPerAddress, window: 900)
        return settings
    }
}
