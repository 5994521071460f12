import Foundation

/// Expiry: a verification whose code has outlived its lifetime is ended when it is next read,
/// and the periodic sweep ends the rest.
extension PhoneVerificationService {
    /// A verification of the caller's organization, expired first if its time is up.
    public func verification(id rawID: String, in membership: Membership) async throws -> PhoneVerification {
        guard let id = PhoneVerificationID(rawID),
            var verification = try await verifications.verification(id, in: membership.organization.id)
        else { throw DomainError.verificationNotFound(rawID) }
        if verification.status == .pending, clock.now() >= verification.expiresAt {
            try await expire(verification)
            verification = try await reload(id, in: membership.organization.id)
        }
        return verification
    }

    /// Ends every pending verification whose code has expired; returns how many.
    @discardableResult
    public func expireStale() async throws -> Int {
        let now = clock.now()
        let expired = try await verifications.expirePending(at: now)
        for verification in expired {
            try await record(.phoneVerificationExpired, verification, actor: .system, now: now)
        }
        return expired.count
    }

    /// A verification of `organization` that can still take a code or a resend; one whose time
    /// is up is expired here and refused.
    func pendingVerification(
        _ rawID: String, in organization: OrganizationID
    ) async throws
        -> PhoneVerification
    {
        guard let id = PhoneVerificationID(rawID),
            let verification = try await verifications.verification(id, in: organization)
        else { throw DomainError.verificationNotFound(rawID) }
        switch verification.status {
        case .pending:
            if clock.now() >= verification.expiresAt {
                try await expire(verification)
                throw DomainError.verificationExpired
            }
            return verification
        case .expired: throw DomainError.verificationExpired
        case .maxAttemptsReached: throw DomainError.maxAttemptsReached
        case .approved, .canceled, .failed: throw DomainError.verificationNotPending(verification.status)
        }
    }

    /// Ends a verification as expired, auditing it only if this call is the one that ended it.
    func expire(_ verification: PhoneVerification) async throws {
        if try await verifications.finish(verification.id, as: .expired, at: clock.now()) {
            try await record(.phoneVerificationExpired, verification, actor: .system, now: clock.now())
        }
    }
}
