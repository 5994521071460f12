import Foundation

/// The rule that makes Keywarden different: from the enforcement date on, no key is created for
/// an organization that has not verified a phone number (or been exempted). Every path that
/// creates a key asks this policy; authenticating a key never does.
public struct KeyIssuancePolicy: Sendable {
    /// Whose verification counts.
    public enum Scope: String, Sendable {
        /// The organization's (default).
        case organization
        /// The creating person's own: they must have approved a phone verification themselves.
        case user
    }

    /// 2024-11-05T00:00:00Z by default.
    public var enforcementDate: Date
    public var scope: Scope

    /// The default date.
    public static let defaultEnforcementDate = Date(timeIntervalSince1970: 1_730_764_800)

    /// Creates a policy.
    public init(enforcementDate: Date = Self.defaultEnforcementDate, scope: Scope = .organization) {
        self.enforcementDate = enforcementDate
        self.scope = scope
    }

    /// Whether a key made at `date` is legacy: made before the policy applied.
    public func isLegacy(createdAt date: Date) -> Bool {
        date < enforcementDate
    }

    /// Refuses with `phone_verification_required` unless a key may be created now.
    ///
    /// - Parameter userHasVerified: whether the creating person approved a verification
    ///   themselves; consulted only with the `user` scope.
    public func authorize(
        organization: Organization, userHasVerified: @autoclosure () async throws -> Bool, now: Date
    )
        async throws
    {
        guard now >= enforcementDate else { return }
        switch organization.verification.status {
        case .exempt: return
        case .verified where scope == .organization: return
        case .verified, .unverified:
            if scope == .user, try await userHasVerified() { return }
        }
        let date = ISO8601DateFormatter().string(from: enforcementDate).prefix(10)
        throw DomainError(
            .forbidden, code: .phoneVerificationRequired,
            message:
                "Verify a phone number for this organization before creating API keys. Verification is done while signed in: POST /v1/organization/phone_verifications with a session token (Authorization: Bearer sess_...), then the code from the text message. Keys created before \(date) keep working."
        )
    }
}
