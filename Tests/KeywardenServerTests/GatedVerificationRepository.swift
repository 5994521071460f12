import Foundation
import KeywardenCore
import Synchronization

/// A gate that tasks wait at until it is opened; opening it again does nothing.
final class Latch: Sendable {
    private let state = Mutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state in
                if state.open { return true }
                state.waiting.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    func open() {
        let waiting = state.withLock { state in
            state.open = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}

/// A verification repository that lets a test hold checks and approvals at chosen points, so a
/// race runs in one chosen order every time.
struct GatedVerificationRepository: PhoneVerificationRepository {
    let base: any PhoneVerificationRepository
    /// Runs before each `recordCheck`, with the arrival's number (0, 1, ...).
    var beforeRecordCheck: @Sendable (Int) async -> Void = { _ in }
    var afterRecordCheck: @Sendable (Int) async -> Void = { _ in }
    var beforeApprove: @Sendable (Int) async -> Void = { _ in }
    var afterApprove: @Sendable (Int) async -> Void = { _ in }
    private let arrivals = Arrivals()

    final class Arrivals: Sendable {
        let counts = Mutex((checks: 0, approvals: 0))
    }

    init(base: any PhoneVerificationRepository) {
        self.base = base
    }

    func recordCheck(_ id: PhoneVerificationID, maxChecks: Int) async throws -> CheckRecording {
        let arrival = arrivals.counts.withLock { counts in
            defer { counts.checks += 1 }
            return counts.checks
        }
        await beforeRecordCheck(arrival)
        let recorded = try await base.recordCheck(id, maxChecks: maxChecks)
        await afterRecordCheck(arrival)
        return recorded
    }

    func approve(
        _ verification: PhoneVerification, at now: Date, maxOrganizationsPerPhone: Int
    ) async throws -> ApprovalOutcome {
        let arrival = arrivals.counts.withLock { counts in
            defer { counts.approvals += 1 }
            return counts.approvals
        }
        await beforeApprove(arrival)
        let outcome = try await base.approve(verification, at: now, maxOrganizationsPerPhone: maxOrganizationsPerPhone)
        await afterApprove(arrival)
        return outcome
    }

    func create(_ verification: PhoneVerification) async throws { try await base.create(verification) }

    func verification(_ id: PhoneVerificationID, in organization: OrganizationID) async throws -> PhoneVerification? {
        try await base.verification(id, in: organization)
    }

    func verification(providerMessageID: String) async throws -> PhoneVerification? {
        try await base.verification(providerMessageID: providerMessageID)
    }

    func pendingVerification(
        in organization: OrganizationID, phoneDigest: String, at now: Date
    ) async throws -> PhoneVerification? {
        try await base.pendingVerification(in: organization, phoneDigest: phoneDigest, at: now)
    }

    func cancelPending(in organization: OrganizationID, except id: PhoneVerificationID?, at now: Date) async throws {
        try await base.cancelPending(in: organization, except: id, at: now)
    }

    func recordSend(
        _ id: PhoneVerificationID, at now: Date, nextResendAt: Date, providerMessageID: String?,
        delivery: PhoneVerification.Delivery?
    ) async throws {
        try await base.recordSend(
            id, at: now, nextResendAt: nextResendAt, providerMessageID: providerMessageID, delivery: delivery)
    }

    func finish(_ id: PhoneVerificationID, as status: PhoneVerification.Status, at now: Date) async throws -> Bool {
        try await base.finish(id, as: status, at: now)
    }

    func updateDelivery(providerMessageID: String, delivery: PhoneVerification.Delivery) async throws {
        try await base.updateDelivery(providerMessageID: providerMessageID, delivery: delivery)
    }

    func expirePending(at now: Date) async throws -> [PhoneVerification] { try await base.expirePending(at: now) }

    func organizationsVerified(
        withPhoneDigest digest: String, excluding organization: OrganizationID
    ) async throws
        -> Int
    {
        try await base.organizationsVerified(withPhoneDigest: digest, excluding: organization)
    }

    func userHasApprovedVerification(_ user: UserID) async throws -> Bool {
        try await base.userHasApprovedVerification(user)
    }

    func resetVerification(of organization: OrganizationID) async throws {
        try await base.resetVerification(of: organization)
    }
}
