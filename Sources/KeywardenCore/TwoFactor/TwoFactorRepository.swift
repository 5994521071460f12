import Foundation

/// A person's authenticator app as storage keeps it: its secret sealed, and the last step whose
/// code was accepted, so no code works twice.
public struct TOTPCredential: Sendable, Equatable {
    public var userID: UserID
    /// The secret, sealed by ``TOTPSecretSealer``.
    public var sealedSecret: String
    /// When enrolment began.
    public var createdAt: Date
    /// When a first code confirmed it; `nil` while enrolment is pending, when it does not count.
    public var confirmedAt: Date?
    /// The latest step whose code was accepted.
    public var lastUsedStep: Int64?

    /// Creates a credential.
    public init(
        userID: UserID, sealedSecret: String, createdAt: Date, confirmedAt: Date? = nil, lastUsedStep: Int64? = nil
    ) {
        self.userID = userID
        self.sealedSecret = sealedSecret
        self.createdAt = createdAt
        self.confirmedAt = confirmedAt
        self.lastUsedStep = lastUsedStep
    }
}

/// Stores authenticator secrets and recovery codes. Each change is one conditional statement
/// or transaction, so two simultaneous uses of one code let exactly one through.
public protocol TwoFactorRepository: Sendable {
    /// The person's credential, pending or confirmed.
    func credential(of user: UserID) async throws -> TOTPCredential?

    /// Stores a pending credential, replacing an earlier pending one; returns `false`, writing
    /// nothing, when the person has a confirmed one.
    func savePending(_ credential: TOTPCredential) async throws -> Bool

    /// Confirms the pending credential begun at `pendingCreatedAt`, noting `step` as used, and
    /// replaces the person's recovery codes with `recoveryCodeDigests`, in one transaction;
    /// returns `false`, writing nothing, when that pending credential is gone.
    func confirm(
        user: UserID, pendingCreatedAt: Date, at now: Date, step: Int64, recoveryCodeDigests: [String]
    ) async throws -> Bool

    /// Notes `step` as used when it is later than the last used one of the person's confirmed
    /// credential; returns whether it was.
    func useStep(_ step: Int64, of user: UserID) async throws -> Bool

    /// Marks the person's unused recovery code with this digest used; returns whether there was one.
    func useRecoveryCode(digest: String, of user: UserID, at now: Date) async throws -> Bool

    /// Replaces the recovery codes of a person with a confirmed credential; returns `false`,
    /// writing nothing, when they have none.
    func replaceRecoveryCodes(of user: UserID, with digests: [String], at now: Date) async throws -> Bool

    /// How many of the person's recovery codes are unused.
    func unusedRecoveryCodes(of user: UserID) async throws -> Int

    /// Deletes the person's credential and recovery codes; returns whether there was a credential.
    func remove(of user: UserID) async throws -> Bool
}
