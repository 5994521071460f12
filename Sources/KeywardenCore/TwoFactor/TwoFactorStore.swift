import Foundation

/// What two-factor authentication keeps and how: the repository, the sealer of secrets and the
/// digester of recovery codes, both keyed by the server secret.
public struct TwoFactorStore: Sendable {
    let repository: any TwoFactorRepository
    let sealer: TOTPSecretSealer
    let digester: RecoveryCodeDigester

    /// A store over `repository`, with keys derived from `serverSecret`.
    public init(repository: any TwoFactorRepository, serverSecret: String) {
        self.repository = repository
        self.sealer = TOTPSecretSealer(serverSecret: serverSecret)
        self.digester = RecoveryCodeDigester(serverSecret: serverSecret)
    }
}

/// Where a person stands with two-factor authentication.
public struct TwoFactorStatus: Sendable, Equatable {
    /// Whether sign-in asks for a code.
    public var enabled: Bool
    /// When it was turned on.
    public var enabledAt: Date?
    /// Recovery codes not used yet.
    public var unusedRecoveryCodes: Int
    /// Whether an enrolment was begun and not confirmed.
    public var enrolmentPending: Bool
}

/// An authenticator app being set up: what the person scans or types, until a code confirms it.
public struct TwoFactorEnrolment: Sendable {
    /// The base32 key to type, in groups of four.
    public var setupKey: String
    /// The `otpauth://` URL the QR code carries.
    public var authenticatorURL: String
}

/// How a second factor was given.
public enum SecondFactorMethod: String, Sendable {
    case totp
    case recoveryCode = "recovery_code"
}
