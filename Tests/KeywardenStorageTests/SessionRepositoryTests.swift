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

    @Test(arguments: Backend.available)
    func aSessionKeepsWhereItWasStartedFrom(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let sessions = SQLSessionRepository(database: database)
            var session = makeSession(for: account.user.id)
            session.ipAddress = "203.0.113.7"
            session.userAgent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"
            try await sessions.create(session, tokenDigest: "digest")

            #expect(try await sessions.session(tokenDigest: "digest") == session)
        }
    }

    @Test(arguments: Backend.available)
    func liveSessionsAreTheUsersOwnNotEndedNewestFirst(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            let other = try makeAccount(email: "grace@example.com")
            try await SQLAccountRepository(database: database).createAccount(account)
            try await SQLAccountRepository(database: database).createAccount(other)
            let sessions = SQLSessionRepository(database: database)
            func started(_ user: UserID, at offset: TimeInterval, lifetime: TimeInterval = 3600) -> Session {
                let start = epoch.addingTimeInterval(offset)
                return Session(
                    id: .generate(), userID: user, createdAt: start, lastSeenAt: start,
                    expiresAt: start.addingTimeInterval(lifetime))
            }
            let oldest = started(account.user.id, at: 0)
            let newest = started(account.user.id, at: 20)
            let revoked = started(account.user.id, at: 10)
            let expired = started(account.user.id, at: 5, lifetime: 50)
            let idle = started(account.user.id, at: -500)
            let others = started(other.user.id, at: 15)
            for (index, session) in [oldest, newest, revoked, expired, idle, others].enumerated() {
                try await sessions.create(session, tokenDigest: "digest-\(index)")
            }
            try await sessions.revoke(revoked.id, at: epoch.addingTimeInterval(30))

            let now = epoch.addingTimeInterval(60)
            let live = try await sessions.liveSessions(
                of: account.user.id, at: now, lastSeenAfter: epoch.addingTimeInterval(-100), limit: 10)
            #expect(live.map(\.id) == [newest.id, oldest.id])
            let one = try await sessions.liveSessions(
                of: account.user.id, at: now, lastSeenAfter: epoch.addingTimeInterval(-100), limit: 1)
            #expect(one.map(\.id) == [newest.id])
        }
    }

    @Test(arguments: Backend.available)
    func revokingBySomeoneElsesIdEndsNothing(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            let other = try makeAccount(email: "grace@example.com")
            try await SQLAccountRepository(database: database).createAccount(account)
            try await SQLAccountRepository(database: database).createAccount(other)
            let sessions = SQLSessionRepository(database: database)
            let theirs = makeSession(for: other.user.id)
            try await sessions.create(theirs, tokenDigest: "theirs")

            #expect(try await sessions.revoke(theirs.id, of: account.user.id, at: epoch.addingTimeInterval(1)) == false)
            #expect(try await sessions.session(tokenDigest: "theirs")?.revokedAt == nil)
            #expect(try await sessions.revoke(theirs.id, of: other.user.id, at: epoch.addingTimeInterval(2)))
            #expect(try await sessions.revoke(theirs.id, of: other.user.id, at: epoch.addingTimeInterval(3)) == false)
            #expect(try await sessions.session(tokenDigest: "theirs")?.revokedAt == epoch.addingTimeInterval(2))
        }
    }

    @Test(arguments: Backend.available)
    func revokeAllEndsEverySessionOfTheUserButTheOneKept(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            let other = try makeAccount(email: "grace@example.com")
            try await SQLAccountRepository(database: database).createAccount(account)
            try await SQLAccountRepository(database: database).createAccount(other)
            let sessions = SQLSessionRepository(database: database)
            let kept = makeSession(for: account.user.id)
            let ended = [makeSession(for: account.user.id), makeSession(for: account.user.id)]
            let theirs = makeSession(for: other.user.id)
            for (index, session) in ([kept, theirs] + ended).enumerated() {
                try await sessions.create(session, tokenDigest: "digest-\(index)")
            }

            let revoked = try await sessions.revokeAll(of: account.user.id, except: kept.id, at: epoch)
            #expect(Set(revoked) == Set(ended.map(\.id)))
            #expect(try await sessions.session(tokenDigest: "digest-0")?.revokedAt == nil)
            #expect(try await sessions.session(tokenDigest: "digest-1")?.revokedAt == nil)
            let all = try await sessions.revokeAll(of: account.user.id, except: nil, at: epoch)
            #expect(all == [kept.id])
        }
    }
}
