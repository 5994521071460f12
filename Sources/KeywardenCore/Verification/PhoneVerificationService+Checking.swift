import Foundation
import Logging

/// Checking a code: the attempt is counted before the comparison, and the right code approves
/// the verification once, within the per-number organization limit.
extension PhoneVerificationService {
    /// Compares a code: the attempt is counted first, in its own statement, then compared in
    /// constant time; the right code approves the verification once.
    public func check(
        id rawID: String, code rawCode: String, by requester: Requester
    ) async throws
        -> PhoneVerification
    {
        try requester.membership.require(.verifyPhone)
        let verification = try await pendingVerification(rawID, in: requester.organization)
        let code = rawCode.trimmingWhitespace()
        guard code.utf8.count == policy.codeLength, code.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            throw DomainError.malformedCode(length: policy.codeLength)
        }
        let now = clock.now()
        let attempts: Int
        switch try await verifications.recordCheck(verification.id, maxChecks: policy.maxChecks) {
        case .counted(let count): attempts = count
        case .outOfChecks: throw DomainError.maxAttemptsReached
        case .notPending(let status) where status == .maxAttemptsReached: throw DomainError.maxAttemptsReached
        case .notPending(let status): throw DomainError.verificationNotPending(status)
        }
        let matches: Bool
        switch delivery {
        case .local:
            matches = secrets.codeMatches(
                code, verification: verification.id, digest: verification.codeDigest ?? "")
        case .remote(let verifier):
            do {
                matches = try await verifier.check(try number(of: verification), code)
            } catch {
                throw providerFailure(error)
            }
        }
        if matches {
            switch try await verifications.approve(
                verification, at: now, maxOrganizationsPerPhone: policy.maxOrganizationsPerPhone)
            {
            case .approved(let replaced):
                try await record(
                    .phoneVerificationApproved, verification, actor: requester.actor, now: now,
                    extra: ["path": verification.path.rawValue])
                if replaced {
                    try await record(
                        .organizationVerificationReplaced, verification, actor: requester.actor, now: now)
                }
                try await throttle.recordPrefixApproval(
                    throttle.prefix(ofE164: (try? number(of: verification)) ?? ""), now: now)
                await count(.approved, country: verification.country)
                logger.info(
                    "phone verification approved", metadata: ["verification_id": .string(verification.id.rawValue)])
                return try await reload(verification.id, in: requester.organization)
            case .notPending:
                throw DomainError.verificationNotPending(.approved)
            case .phoneLimitReached:
                try await verifications.finish(verification.id, as: .failed, at: now)
                try await record(
                    .phoneVerificationFailed, verification, actor: requester.actor, now: now,
                    extra: ["reason": "phone_number_limit_reached"])
                throw DomainError.phoneLimitReached
            }
        }
        let remaining = policy.maxChecks - attempts
        if remaining <= 0 {
            if try await verifications.finish(verification.id, as: .maxAttemptsReached, at: now) {
                try await record(
                    .phoneVerificationFailed, verification, actor: requester.actor, now: now,
                    extra: ["reason": "max_attempts_reached"])
            }
            throw DomainError.maxAttemptsReached
        }
        throw DomainError.incorrectCode(remaining: remaining)
    }
}
