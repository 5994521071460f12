import Foundation
import KeywardenCore
import KeywardenStorage
import Testing

@Suite("SessionRepository contract")
struct SessionRepositoryTests {
    func makeSession(for user: UserID) -> Session {
        Session(
            id: .generate(), userID: user, createdAt: epoch, lastSeenAt: epoch,
            expiresAt: epoch.addingTimeInterval(3600))
    }

    @Test(arguments: Backend.available)
    func sessionIsFoundOnlyByItsTokenDigest(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let sessions = SQLSessionRepository(database: database)
            let session = makeSession(for: account.user.id)
            let token = SessionToken.generate()
            try await sessions.create(session, tokenDigest: token.digest)

            let value1 = try await sessions.session(tokenDigest: token.digest)
            #expect(value1 == session)
            let value2 = try await sessions.session(tokenDigest: SessionToken.generate().digest)
            #expect(value2 == nil)
        }
    }

    @Test(arguments: Backend.available)
    func touchWritesOnlyWhenTheLastRecordIsStale(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let sessions = SQLSessionRepository(database: database)
            let session = makeSession(for: account.user.id)
            try await sessions.create(session, tokenDigest: "digest")

            let soon = epoch.addingTimeInterval(30)
            try await sessions.touch(session.id, at: soon, ifLastSeenBefore: soon.addingTimeInterval(-60))
            let value3 = try await sessions.session(tokenDigest: "digest")?.lastSeenAt
            #expect(value3 == epoch)

            let later = epoch.addingTimeInterval(120)
            try await sessions.touch(session.id, at: later, ifLastSeenBefore: later.addingTimeInterval(-60))
            let value4 = try await sessions.session(tokenDigest: "digest")?.lastSeenAt
            #expect(value4 == later)
        }
    }

    @Test(arguments: Backend.available)
    func revokeRecordsTheFirstRevocationOnly(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let sessions = SQLSessionRepository(database: database)
            let session = makeSession(for: account.user.id)
            try await sessions.create(session, tokenDigest: "digest")

            try await sessions.revoke(session.id, at: epoch.addingTimeInterval(10))
            try await sessions.revoke(session.id, at: epoch.addingTimeInterval(20))
            let value5 = try await sessions.session(tokenDigest: "digest")?.revokedAt
            #expect(value5 == epoch.addingTimeInterval(10))
        }
    }
}
