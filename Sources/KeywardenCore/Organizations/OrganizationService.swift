import Foundation

/// Changes the operator makes to an organization's standing, each recorded in its audit log.
public struct OrganizationService: Sendable {
    let verifications: any PhoneVerificationRepository
    let audit: any AuditLogRepository
    let clock: Clock

    /// Creates the service.
    public init(verifications: any PhoneVerificationRepository, audit: any AuditLogRepository, clock: Clock) {
        self.verifications = verifications
        self.audit = audit
        self.clock = clock
    }

    /// Returns an organization to unverified and records `organization.verification_reset`, with
    /// the status it had and the reason given. Its verified number stops counting toward that
    /// number's organization limit.
    public func resetVerification(of organization: Organization, reason: String?, by actor: AuditActor) async throws {
        try await verifications.resetVerification(of: organization.id)
        var details = ["previous_status": organization.verification.status.rawValue]
        details["reason"] = reason
        try await audit.append(
            AuditEvent(
                organizationID: organization.id, type: .organizationVerificationReset, effectiveAt: clock.now(),
                actor: actor, details: details))
    }
}
