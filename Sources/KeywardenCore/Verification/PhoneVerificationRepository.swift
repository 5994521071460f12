import Foundation

/// How an approval ended.
public enum ApprovalOutcome: Equatable, Sendable {
    /// Approved; the organization is verified. `replaced` when it had been verified before.
    case approved(replaced: Bool)
    /// The verification was no longer pending (another check approved it first, or it ended).
    case notPending
    /// The number already verifies the maximum number of other organizations.
    case phoneLimitReached
}

/// How counting a check ended.
public enum CheckRecording: Equatable, Sendable {
    /// Counted; this is the verification's `attempts`-th check.
    case counted(attempts: Int)
    /// The verification is no longer pending: another check approved it, or it ended.
    case notPending(PhoneVerification.Status)
    /// Pending, but every check it allows has been made.
    case outOfChecks
}

/// Stores phone verifications and the verification state of organizations.
public protocol PhoneVerificationRepository: Sendable {
    /// Stores a new pending verification.
    func create(_ verification: PhoneVerification) async throws

    /// The verification with this id in this organization.
    func verification(_ id: PhoneVerificationID, in organization: OrganizationID) async throws -> PhoneVerification?

    /// The verification whose last message has this provider id.
    func verification(providerMessageID: String) async throws -> PhoneVerification?

    /// The organization's live pending verification of this number, if any.
    func pendingVerification(
        in organization: OrganizationID, phoneDigest: String, at now: Date
    ) async throws
        -> PhoneVerification?

    /// Ends every other pending verification of the organization as `canceled`, erasing numbers.
    func cancelPending(in organization: OrganizationID, except id: PhoneVerificationID?, at now: Date) async throws

    /// Raises the attempt counter of a pending verification below `maxChecks`, in its own
    /// statement, and says whether it counted, or why not.
    func recordCheck(_ id: PhoneVerificationID, maxChecks: Int) async throws -> CheckRecording

    /// Records a sent message.
    func recordSend(
        _ id: PhoneVerificationID, at now: Date, nextResendAt: Date, providerMessageID: String?,
        delivery: PhoneVerification.Delivery?
    ) async throws

    /// Ends a pending verification with `status`, erasing the number and the sealed code.
    /// Returns whether it was pending.
    @discardableResult
    func finish(_ id: PhoneVerificationID, as status: PhoneVerification.Status, at now: Date) async throws -> Bool

    /// In one transaction: approves the pending verification (a conditional update, so two
    /// racing correct checks approve once), checks the per-number organization limit, and
    /// marks the organization verified with the number's digest, country and masked form.
    func approve(
        _ verification: PhoneVerification, at now: Date, maxOrganizationsPerPhone: Int
    ) async throws
        -> ApprovalOutcome

    /// Records what the provider says about a message.
    func updateDelivery(providerMessageID: String, delivery: PhoneVerification.Delivery) async throws

    /// Ends pending verifications whose codes expired, returning them.
    func expirePending(at now: Date) async throws -> [PhoneVerification]

    /// How many organizations other than `organization` the number verifies.
    func organizationsVerified(
        withPhoneDigest digest: String, excluding organization: OrganizationID
    ) async throws
        -> Int

    /// Whether the person has approved a phone verification themselves (for per-user key policy).
    func userHasApprovedVerification(_ user: UserID) async throws -> Bool

    /// Returns the organization to unverified (operator action).
    func resetVerification(of organization: OrganizationID) async throws
}
