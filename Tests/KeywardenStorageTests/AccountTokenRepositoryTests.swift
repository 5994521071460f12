import Foundation
import KeywardenCore
import KeywardenStorage
import Testing

@Suite("AccountTokenRepository contract")
struct AccountTokenRepositoryTests {
    func token(
        for user: UserID, _ purpose: AccountToken.Purpose = .passwordReset, at date: Date = epoch,
        lifetime: TimeInterval = 3600
    ) -> (AccountToken, StoredAccountToken) {
        let token = AccountToken.generate()
        return (
            token,
            StoredAccountToken(
                digest: token.digest, purpose: purpose, userID: user, createdAt: date,
                expiresAt: date.addingTimeInterval(lifetime))
        )
    }

    @Test(arguments: Backend.available)
    func aTokenWorksOnceAndOnlyForItsPurpose(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let tokens = SQLAccountTokenRepository(database: database)
            let (value, stored) = token(for: account.user.id)
            try await tokens.issue(stored)

            let otherPurpose = try await tokens.consume(
                digest: value.digest, purpose: .emailConfirmation, at: epoch.addingTimeInterval(1))
            #expect(otherPurpose == nil)
            let first = try await tokens.consume(
                digest: value.digest, purpose: .passwordReset, at: epoch.addingTimeInterval(1))
            #expect(first == account.user.id)
            let second = try await tokens.consume(
                digest: value.digest, purpose: .passwordReset, at: epoch.addingTimeInterval(2))
            #expect(second == nil)
            let kept = try await tokens.tokens(of: account.user.id)
            #expect(kept.map(\.usedAt) == [epoch.addingTimeInterval(1)])
            // Only the digest is stored.
            #expect(kept.map(\.digest) == [value.digest])
            #expect(!kept.map(\.digest).contains(value.value))
        }
    }

    @Test(arguments: Backend.available)
    func anExpiredTokenDoesNotWork(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let tokens = SQLAccountTokenRepository(database: database)
            let (value, stored) = token(for: account.user.id, lifetime: 60)
            try await tokens.issue(stored)

            let atTheEnd = try await tokens.consume(
                digest: value.digest, purpose: .passwordReset, at: epoch.addingTimeInterval(60))
            #expect(atTheEnd == nil)
            let unknown = try await tokens.consume(
                digest: AccountToken.generate().digest, purpose: .passwordReset, at: epoch)
            #expect(unknown == nil)
        }
    }

    @Test(arguments: Backend.available)
    func aNewerTokenEndsTheOlderUnusedOnesOfItsPurposeOnly(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            let other = try makeAccount(email: "grace@example.com")
            try await SQLAccountRepository(database: database).createAccount(account)
            try await SQLAccountRepository(database: database).createAccount(other)
            let tokens = SQLAccountTokenRepository(database: database)
            let (older, olderStored) = token(for: account.user.id)
            let (confirmation, confirmationStored) = token(for: account.user.id, .emailConfirmation)
            let (others, othersStored) = token(for: other.user.id)
            try await tokens.issue(olderStored)
            try await tokens.issue(confirmationStored)
            try await tokens.issue(othersStored)
            let (newer, newerStored) = token(for: account.user.id, at: epoch.addingTimeInterval(10))
            try await tokens.issue(newerStored)

            let later = epoch.addingTimeInterval(20)
            let olderUse = try await tokens.consume(digest: older.digest, purpose: .passwordReset, at: later)
            #expect(olderUse == nil)
            let newerUse = try await tokens.consume(digest: newer.digest, purpose: .passwordReset, at: later)
            #expect(newerUse == account.user.id)
            let confirmationUse = try await tokens.consume(
                digest: confirmation.digest, purpose: .emailConfirmation, at: later)
            #expect(confirmationUse == account.user.id)
            let othersUse = try await tokens.consume(digest: others.digest, purpose: .passwordReset, at: later)
            #expect(othersUse == other.user.id)
        }
    }

    @Test(arguments: Backend.available)
    func ofTwoSimultaneousUsesExactlyOneSucceeds(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let tokens = SQLAccountTokenRepository(database: database)
            for round in 0..<10 {
                let (value, stored) = token(for: account.user.id, at: epoch.addingTimeInterval(Double(round)))
                try await tokens.issue(stored)
                let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for _ in 0..<2 {
                        group.addTask {
                            try await tokens.consume(
                                digest: value.digest, purpose: .passwordReset, at: epoch.addingTimeInterval(100))
                                != nil
                        }
                    }
                    return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
                }
                #expect(winners == 1, "round \(round)")
            }
        }
    }

    @Test(arguments: Backend.available)
    func purgeDeletesTokensThatEndedBeforeTheDate(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let tokens = SQLAccountTokenRepository(database: database)
            let (_, short) = token(for: account.user.id, .emailConfirmation, lifetime: 60)
            let (_, long) = token(for: account.user.id, lifetime: 7200)
            try await tokens.issue(short)
            try await tokens.issue(long)

            try await tokens.purge(expiredBefore: epoch.addingTimeInterval(3600))
            #expect(try await tokens.tokens(of: account.user.id).map(\.digest) == [long.digest])
        }
    }
}
