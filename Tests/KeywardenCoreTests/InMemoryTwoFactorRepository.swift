import Foundation
import KeywardenCore

/// Authenticator secrets and recovery codes in memory, as `SQLTwoFactorRepository` keeps them:
/// each change one uninterrupted step.
struct InMemoryTwoFactorRepository: TwoFactorRepository {
    let database: InMemoryDatabase

    func credential(of user: UserID) async throws -> TOTPCredential? {
        await database.transaction { tables in tables.totpCredentials[user] }
    }

    func savePending(_ credential: TOTPCredential) async throws -> Bool {
        try await database.transaction { tables in
            try tables.requireUser(credential.userID)
            if tables.totpCredentials[credential.userID]?.confirmedAt != nil { return false }
            var pending = credential
            pending.confirmedAt = nil
            pending.lastUsedStep = nil
            tables.totpCredentials[credential.userID] = pending
            return true
        }
    }

    func confirm(
        user: UserID, pendingCreatedAt: Date, at now: Date, step: Int64, recoveryCodeDigests: [String]
    ) async throws -> Bool {
        await database.transaction { tables in
            guard var credential = tables.totpCredentials[user], credential.confirmedAt == nil,
                credential.createdAt == pendingCreatedAt
            else { return false }
            credential.confirmedAt = now
            credential.lastUsedStep = step
            tables.totpCredentials[user] = credential
            tables.recoveryCodes.removeAll { $0.userID == user }
            tables.recoveryCodes += recoveryCodeDigests.map { .init(userID: user, digest: $0) }
            return true
        }
    }

    func useStep(_ step: Int64, of user: UserID) async throws -> Bool {
        await database.transaction { tables in
            guard var credential = tables.totpCredentials[user], credential.confirmedAt != nil,
                (credential.lastUsedStep ?? Int64.min) < step
            else { return false }
            credential.lastUsedStep = step
            tables.totpCredentials[user] = credential
            return true
        }
    }

    func useRecoveryCode(digest: String, of user: UserID, at now: Date) async throws -> Bool {
        await database.transaction { tables in
            guard
                let index = tables.recoveryCodes.firstIndex(where: {
                    $0.userID == user && $0.digest == digest && $0.usedAt == nil
                })
            else { return false }
            tables.recoveryCodes[index].usedAt = now
            return true
        }
    }

    func replaceRecoveryCodes(of user: UserID, with digests: [String], at now: Date) async throws -> Bool {
        await database.transaction { tables in
            guard tables.totpCredentials[user]?.confirmedAt != nil else { return false }
            tables.recoveryCodes.removeAll { $0.userID == user }
            tables.recoveryCodes += digests.map { .init(userID: user, digest: $0) }
            return true
        }
    }

    func unusedRecoveryCodes(of user: UserID) async throws -> Int {
        await database.transaction { tables in
            tables.recoveryCodes.filter { $0.userID == user && $0.usedAt == nil }.count
        }
    }

    func remove(of user: UserID) async throws -> Bool {
        await database.transaction { tables in
            tables.recoveryCodes.removeAll { $0.userID == user }
            return tables.totpCredentials.removeValue(forKey: user) != nil
        }
    }
}
