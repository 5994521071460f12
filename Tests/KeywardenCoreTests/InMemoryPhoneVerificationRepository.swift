import Foundation
import KeywardenCore

/// Phone verifications and organizations' verification state in memory, as
/// `SQLPhoneVerificationRepository` keeps them: every change of state is one conditional step,
/// and every way out of pending erases the number and the sealed code.
struct InMemoryPhoneVerificationRepository: PhoneVerificationRepository {
    let database: InMemoryDatabase

    func create(_ verification: PhoneVerification) async throws {
        try await database.transaction { tables in
            try tables.require(
                !tables.verifications.contains { $0.id == verification.id }, "phone_verifications.id is unique")
            try tables.requireOrganization(verification.organizationID)
            try tables.requireUser(verification.userID)
            tables.verifications.append(verification)
        }
    }

    func verification(_ id: PhoneVerificationID, in organization: OrganizationID) async throws -> PhoneVerification? {
        await database.transaction { tables in
            tables.verifications.first { $0.id == id && $0.organizationID == organization }
        }
    }

    func verification(providerMessageID: String) async throws -> PhoneVerification? {
        await database.transaction { tables in
            tables.verifications.first { $0.providerMessageID == providerMessageID }
        }
    }

    func pendingVerification(
        in organization: OrganizationID, phoneDigest: String, at now: Date
    ) async throws -> PhoneVerification? {
        await database.transaction { tables in
            // The newest live one, as storage's `ORDER BY created_at DESC LIMIT 1`.
            tables.verifications.filter {
                $0.organizationID == organization && $0.phoneDigest == phoneDigest && $0.status == .pending
                    && $0.expiresAt > now
            }.max { $0.createdAt < $1.createdAt }
        }
    }

    func cancelPending(in organization: OrganizationID, except id: PhoneVerificationID?, at now: Date) async throws {
        await database.transaction { tables in
            for index in tables.verifications.indices
            where tables.verifications[index].organizationID == organization
                && tables.verifications[index].status == .pending && tables.verifications[index].id != id
            {
                tables.end(verificationAt: index, as: .canceled)
            }
        }
    }

    func recordCheck(_ id: PhoneVerificationID, maxChecks: Int) async throws -> CheckRecording {
        await database.transaction { (tables) -> CheckRecording in
            // Counted before any comparison, and only while checks remain.
            guard let index = tables.verifications.firstIndex(where: { $0.id == id }) else {
                return .notPending(.canceled)
            }
            let current = tables.verifications[index]
            guard current.status == .pending else { return .notPending(current.status) }
            guard current.attempts < maxChecks else { return .outOfChecks }
            tables.verifications[index].attempts += 1
            return .counted(attempts: current.attempts + 1)
        }
    }

    func recordSend(
        _ id: PhoneVerificationID, at now: Date, nextResendAt: Date, providerMessageID: String?,
        delivery: PhoneVerification.Delivery?
    ) async throws {
        await database.transaction { tables in
            guard let index = tables.verifications.firstIndex(where: { $0.id == id }) else { return }
            tables.verifications[index].sends += 1
            tables.verifications[index].lastSentAt = now
            tables.verifications[index].nextResendAt = nextResendAt
            tables.verifications[index].providerMessageID = providerMessageID
            tables.verifications[index].delivery = delivery
        }
    }

    @discardableResult
    func finish(_ id: PhoneVerificationID, as status: PhoneVerification.Status, at now: Date) async throws -> Bool {
        await database.transaction { (tables) -> Bool in
            guard let index = tables.pendingVerificationIndex(id) else { return false }
            tables.end(verificationAt: index, as: status)
            return true
        }
    }

    func approve(
        _ verification: PhoneVerification, at now: Date, maxOrganizationsPerPhone: Int
    ) async throws -> ApprovalOutcome {
        await database.transaction { (tables) -> ApprovalOutcome in
            // The limit first, then the conditional approval, then the organization: one step.
            let others = tables.organizationsVerified(
                withPhoneDigest: verification.phoneDigest, excluding: verification.organizationID)
            guard others < maxOrganizationsPerPhone else { return .phoneLimitReached }
            guard let index = tables.pendingVerificationIndex(verification.id) else { return .notPending }
            tables.end(verificationAt: index, as: .approved)
            tables.verifications[index].approvedAt = now
            guard
                let row = tables.organizations.firstIndex(where: {
                    $0.organization.id == verification.organizationID
                })
            else { return .approved(replaced: false) }
            let previous = tables.organizations[row].organization.verification.status
            tables.organizations[row].organization.verification = OrganizationVerification(
                status: .verified, method: "phone", verifiedAt: now, maskedPhoneNumber: verification.maskedPhoneNumber)
            tables.organizations[row].phoneDigest = verification.phoneDigest
            tables.organizations[row].phoneCountry = verification.country
            return .approved(replaced: previous == .verified)
        }
    }

    func updateDelivery(providerMessageID: String, delivery: PhoneVerification.Delivery) async throws {
        await database.transaction { tables in
            for index in tables.verifications.indices
            where tables.verifications[index].providerMessageID == providerMessageID {
                tables.verifications[index].delivery = delivery
            }
        }
    }

    func expirePending(at now: Date) async throws -> [PhoneVerification] {
        await database.transaction { (tables) -> [PhoneVerification] in
            var expired: [PhoneVerification] = []
            for index in tables.verifications.indices
            where tables.verifications[index].status == .pending && tables.verifications[index].expiresAt <= now {
                tables.end(verificationAt: index, as: .expired)
                expired.append(tables.verifications[index])
            }
            return expired
        }
    }

    func organizationsVerified(
        withPhoneDigest digest: String, excluding organization: OrganizationID
    ) async throws -> Int {
        await database.transaction { tables in
            tables.organizationsVerified(withPhoneDigest: digest, excluding: organization)
        }
    }

    func userHasApprovedVerification(_ user: UserID) async throws -> Bool {
        await database.transaction { tables in
            tables.verifications.contains { $0.userID == user && $0.status == .approved }
        }
    }

    func resetVerification(of organization: OrganizationID) async throws {
        await database.transaction { tables in
            guard let row = tables.organizations.firstIndex(where: { $0.organization.id == organization }) else {
                return
            }
            tables.organizations[row].organization.verification = .unverified
            tables.organizations[row].phoneDigest = nil
            tables.organizations[row].phoneCountry = nil
        }
    }
}
