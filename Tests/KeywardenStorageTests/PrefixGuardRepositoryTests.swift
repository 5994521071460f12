import Foundation
import KeywardenCore
import KeywardenStorage
import Testing

@Suite("PrefixGuardRepository contract")
struct PrefixGuardRepositoryTests {
    func pause(_ prefix: String = "+4479", from start: TimeInterval, to end: TimeInterval) -> PrefixPause {
        PrefixPause(
            prefix: prefix, reason: "40 sends and 1 approvals in the last 60 minutes",
            pausedAt: epoch.addingTimeInterval(start), until: epoch.addingTimeInterval(end))
    }

    @Test(arguments: Backend.available)
    func rulesAreSetReplacedAndRemoved(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLPrefixGuardRepository(database: database)
            let safe = PrefixRule(
                prefix: "+44", kind: .safe, reason: "Our office.", createdAt: epoch, createdBy: "op@example.com")
            let blocked = PrefixRule(
                prefix: "+4479", kind: .blocked, reason: "Fraud.", createdAt: epoch, createdBy: "op@example.com")
            try await repository.setRule(blocked)
            try await repository.setRule(safe)
            #expect(try await repository.rules() == [safe, blocked])

            var replaced = safe
            replaced.kind = .blocked
            replaced.reason = "Not any more."
            replaced.createdAt = epoch.addingTimeInterval(60)
            try await repository.setRule(replaced)
            #expect(try await repository.rules() == [replaced, blocked])

            #expect(try await repository.removeRule(prefix: "+44"))
            #expect(!(try await repository.removeRule(prefix: "+44")))
            #expect(try await repository.rules() == [blocked])
        }
    }

    @Test(arguments: Backend.available)
    func activePauseIsNotReplacedUntilItEnds(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLPrefixGuardRepository(database: database)
            let first = pause(from: 0, to: 600)
            try await repository.recordPause(first)
            #expect(try await repository.pause(prefix: "+4479") == first)
            try await repository.recordPause(pause(from: 60, to: 660))
            #expect(try await repository.pause(prefix: "+4479") == first)

            let next = pause(from: 600, to: 1200)
            try await repository.recordPause(next)
            #expect(try await repository.pause(prefix: "+4479") == next)
            #expect(try await repository.pause(prefix: "+4420") == nil)
        }
    }

    @Test(arguments: Backend.available)
    func liftedPauseIsNotReplacedUntilItEnds(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLPrefixGuardRepository(database: database)
            try await repository.recordPause(pause(from: 0, to: 600))
            let liftedAt = epoch.addingTimeInterval(60)
            #expect(try await repository.liftPause(prefix: "+4479", by: "op@example.com", at: liftedAt))
            #expect(!(try await repository.liftPause(prefix: "+4479", by: "op@example.com", at: liftedAt)))
            var lifted = pause(from: 0, to: 600)
            lifted.liftedAt = liftedAt
            lifted.liftedBy = "op@example.com"
            #expect(try await repository.pause(prefix: "+4479") == lifted)

            // The guard trips again while the lifted pause runs: the operator's word stands.
            try await repository.recordPause(pause(from: 120, to: 720))
            #expect(try await repository.pause(prefix: "+4479") == lifted)
            #expect(try await repository.pauses(endingAfter: epoch.addingTimeInterval(120)) == [lifted])
            #expect(try await repository.pauses(endingAfter: epoch.addingTimeInterval(600)).isEmpty)

            // Once it has ended, a new pause is active.
            let again = pause(from: 600, to: 1200)
            try await repository.recordPause(again)
            #expect(try await repository.pause(prefix: "+4479") == again)
            #expect(try await repository.pause(prefix: "+4479")?.isActive(at: epoch.addingTimeInterval(601)) == true)
        }
    }

    @Test(arguments: Backend.available)
    func onlyAnActivePauseCanBeLifted(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLPrefixGuardRepository(database: database)
            #expect(!(try await repository.liftPause(prefix: "+4479", by: "op@example.com", at: epoch)))
            try await repository.recordPause(pause(from: 0, to: 600))
            #expect(
                !(try await repository.liftPause(
                    prefix: "+4479", by: "op@example.com", at: epoch.addingTimeInterval(600))))
            #expect(try await repository.pause(prefix: "+4479")?.liftedAt == nil)
        }
    }

    @Test(arguments: Backend.available)
    func pausesThatHaveNotEndedAreListedNewestFirst(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLPrefixGuardRepository(database: database)
            let older = pause("+4479", from: 0, to: 600)
            let newer = pause("+2348", from: 10, to: 610)
            let ended = pause("+3361", from: 0, to: 20)
            for each in [older, newer, ended] { try await repository.recordPause(each) }
            #expect(try await repository.pauses(endingAfter: epoch.addingTimeInterval(30)) == [newer, older])
            #expect(try await repository.pauses(endingAfter: epoch.addingTimeInterval(605)) == [newer])
        }
    }
}
