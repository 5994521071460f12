import Foundation
import KeywardenCore

/// Account tokens in memory, as `SQLAccountTokenRepository` keeps them: by digest, a newer one
/// ending the older unused ones, each use one conditional step.
struct InMemoryAccountTokenRepository: AccountTokenRepository {
    let database: InMemoryDatabase

    func issue(_ token: StoredAccountToken) async throws {
        try await database.transaction { tables in
            try tables.requireUser(token.userID)
            try tables.require(
                !tables.accountTokens.contains { $0.digest == token.digest }, "account_tokens.token_digest is unique")
            for index in tables.accountTokens.indices {
                let older = tables.accountTokens[index]
                if older.userID == token.userID, older.purpose == token.purpose, older.usedAt == nil,
                    older.expiresAt > token.createdAt
                {
                    tables.accountTokens[index].expiresAt = token.createdAt
                }
            }
            tables.accountTokens.append(token)
        }
    }

    func consume(digest: String, purpose: AccountToken.Purpose, at now: Date) async throws -> UserID? {
        await database.transaction { (tables) -> UserID? in
            guard
                let index = tables.accountTokens.firstIndex(where: {
                    $0.digest == digest && $0.purpose == purpose && $0.usedAt == nil && $0.expiresAt > now
                })
            else { return nil }
            tables.accountTokens[index].usedAt = now
            return tables.accountTokens[index].userID
        }
    }

    func holder(digest: String, purpose: AccountToken.Purpose, at now: Date) async throws -> UserID? {
        await database.transaction { tables in
            tables.accountTokens.first {
                $0.digest == digest && $0.purpose == purpose && $0.usedAt == nil && $0.expiresAt > now
            }?.userID
        }
    }

    func purge(expiredBefore date: Date) async throws {
        await database.transaction { tables in tables.accountTokens.removeAll { $0.expiresAt < date } }
    }

    /// Every stored token, oldest first.
    func stored() async -> [StoredAccountToken] {
        await database.transaction { tables in tables.accountTokens }
    }
}
