import Foundation
import KeywardenCore
import KeywardenStorage
import Testing

@Suite("TwoFactorRepository contract, and sessions' step-up time")
struct TwoFactorRepositoryTests {
    func pending(_ user: UserID, at date: Date = epoch, secret: String = "sealed-1") -> TOTPCredential {
        TOTPCredential(userID: user, sealedSecret: secret, createdAt: date)
    }

    @Test(arguments: Backend.available)
    func aPendingSecretIsReplacedUntilConfirmedAndThenKept(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let repository = SQLTwoFactorRepository(database: database)
            let user = account.user.id
            #expect(try await repository.credential(of: user) == nil)
            #expect(try await repository.savePending(pending(user)))
            let later = epoch.addingTimeInterval(5)
            #expect(try await repository.savePending(pending(user, at: later, secret: "sealed-2")))
            // The first enrolment was replaced: confirming it does nothing.
            #expect(
                !(try await repository.confirm(
                    user: user, pendingCreatedAt: epoch, at: later, step: 7, recoveryCodeDigests: ["a"])))
            #expect(
                try await repository.confirm(
                    user: user, pendingCreatedAt: later, at: later, step: 7, recoveryCodeDigests: ["a", "b", "c"]))
            let stored = try #require(try await repository.credential(of: user))
            #expect(stored.sealedSecret == "sealed-2")
            #expect(stored.confirmedAt == later)
            #expect(stored.lastUsedStep == 7)
            #expect(try await repository.unusedRecoveryCodes(of: user) == 3)
            // A confirmed secret is never replaced by a new enrolment.
            #expect(!(try await repository.savePending(pending(user, at: later, secret: "sealed-3"))))
            #expect(try await repository.credential(of: user)?.sealedSecret == "sealed-2")
        }
    }

    @Test(arguments: Backend.available)
    func aStepAndARecoveryCodeAreEachUsedOnce(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let repository = SQLTwoFactorRepository(database: database)
            let user = account.user.id
            #expect(!(try await repository.useStep(8, of: user)))
            _ = try await repository.savePending(pending(user))
            #expect(!(try await repository.useStep(8, of: user)), "a pending secret signs nobody in")
            _ = try await repository.confirm(
                user: user, pendingCreatedAt: epoch, at: epoch, step: 7, recoveryCodeDigests: ["a", "b"])
            #expect(!(try await repository.useStep(7, of: user)))
            #expect(!(try await repository.useStep(6, of: user)))
            #expect(try await repository.useStep(8, of: user))
            #expect(!(try await repository.useStep(8, of: user)))
            #expect(try await repository.useRecoveryCode(digest: "a", of: user, at: epoch))
            #expect(!(try await repository.useRecoveryCode(digest: "a", of: user, at: epoch)))
            #expect(!(try await repository.useRecoveryCode(digest: "z", of: user, at: epoch)))
            #expect(try await repository.unusedRecoveryCodes(of: user) == 1)
            #expect(try await repository.replaceRecoveryCodes(of: user, with: ["c", "d", "e"], at: epoch))
            #expect(try await repository.unusedRecoveryCodes(of: user) == 3)
            #expect(!(try await repository.useRecoveryCode(digest: "b", of: user, at: epoch)))
            #expect(try await repository.remove(of: user))
            #expect(try await repository.credential(of: user) == nil)
            #expect(try await repository.unusedRecoveryCodes(of: user) == 0)
            #expect(!(try await repository.remove(of: user)))
            #expect(!(try await repository.replaceRecoveryCodes(of: user, with: ["f"], at: epoch)))
        }
    }

    @Test(arguments: Backend.available)
    func aSessionKeepsWhenItWasLastConfirmed(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let sessions = SQLSessionRepository(database: database)
            let session = Session(
                id: .generate(), userID: account.user.id, createdAt: epoch, lastSeenAt: epoch,
                expiresAt: epoch.addingTimeInterval(3600))
            try await sessions.create(session, tokenDigest: "digest")
            #expect(try await sessions.session(tokenDigest: "digest")?.authenticatedAt == epoch)
            try await sessions.reauthenticate(session.id, at: epoch.addingTimeInterval(90))
            #expect(try await sessions.session(tokenDigest: "digest")?.authenticatedAt == epoch.addingTimeInterval(90))
        }
    }

    @Test(arguments: Backend.available)
    func aChallengeIsReadWithoutUsingItUntilConsumed(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let tokens = SQLAccountTokenRepository(database: database)
            let token = AccountToken.generate()
            try await tokens.issue(
                StoredAccountToken(
                    digest: token.digest, purpose: .mfaChallenge, userID: account.user.id, createdAt: epoch,
                    expiresAt: epoch.addingTimeInterval(300)))
            #expect(try await tokens.holder(digest: token.digest, purpose: .mfaChallenge, at: epoch) == account.user.id)
            #expect(try await tokens.holder(digest: token.digest, purpose: .mfaChallenge, at: epoch) == account.user.id)
            #expect(try await tokens.holder(digest: token.digest, purpose: .passwordReset, at: epoch) == nil)
            #expect(
                try await tokens.holder(digest: token.digest, purpose: .mfaChallenge, at: epoch.addingTimeInterval(300))
                    == nil)
            #expect(
                try await tokens.consume(digest: token.digest, purpose: .mfaChallenge, at: epoch) == account.user.id)
            #expect(try await tokens.holder(digest: token.digest, purpose: .mfaChallenge, at: epoch) == nil)
        }
    }
}
