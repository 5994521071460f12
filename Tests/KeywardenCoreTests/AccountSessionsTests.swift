import Foundation
import KeywardenCore
import Testing

@Suite("A person's sessions")
struct AccountSessionsTests {
    @Test func theListShowsLiveSessionsNewestFirstWithWhereTheyCameFrom() async throws {
        let bench = AccountBench()
        let longAgent = "Mozilla/5.0 " + String(repeating: "x", count: 300) + "\u{7}"
        let result = try await bench.signUp(clientAddress: "203.0.113.7", userAgent: "curl/8.5.0")
        bench.time.advance(by: 10)
        let second = try await bench.logIn(clientAddress: "198.51.100.1", userAgent: longAgent)
        bench.time.advance(by: 10)
        let third = try await bench.logIn()
        let user = try await bench.user(result.user.id)
        let thirdSession = try #require(try await bench.session(third))
        try await bench.service.logOut(thirdSession.session, user: user, clientAddress: nil)

        let listed = try await bench.service.liveSessions(of: user)
        #expect(!listed.hasMore)
        #expect(listed.items.map(\.ipAddress) == ["198.51.100.1", "203.0.113.7"])
        #expect(listed.items.last?.userAgent == "curl/8.5.0")
        let cut = try #require(listed.items.first?.userAgent)
        #expect(cut.count == Session.userAgentLimit)
        #expect(cut.hasPrefix("Mozilla/5.0 xxx"))
        #expect(try await bench.session(second)?.session.id == listed.items.first?.id)
    }

    @Test func anIdleOrExpiredSessionIsNotListed() async throws {
        let bench = AccountBench(settings: { $0.sessionIdleTimeout = 600 })
        let result = try await bench.signUp()
        bench.time.advance(by: 601)
        _ = try await bench.logIn()
        let listed = try await bench.service.liveSessions(of: try await bench.user(result.user.id))
        #expect(listed.items.count == 1)
        #expect(listed.items.first?.createdAt == AccountBench.opening.addingTimeInterval(601))
    }

    @Test func endingAnotherOfOnesSessionsStopsItAndIsAudited() async throws {
        let bench = AccountBench()
        let result = try await bench.signUp()
        let other = try await bench.logIn()
        let current = try #require(try await bench.session(result.token))
        let otherID = try #require(try await bench.session(other)?.session.id)

        let revoked = try await bench.service.revokeSession(
            otherID.rawValue, of: current.user, current: current.session, clientAddress: "203.0.113.7")
        #expect(revoked == otherID)
        #expect(try await bench.session(other) == nil)
        #expect(try await bench.session(result.token) != nil)
        let event = await bench.repositories.database.auditEvents(in: result.organization.id).last
        #expect(event?.type == .sessionRevoked)
        #expect(event?.details == ["session_id": otherID.rawValue])
        let twice = await refusal {
            try await bench.service.revokeSession(
                otherID.rawValue, of: current.user, current: current.session, clientAddress: nil)
        }
        #expect(twice == "session_not_found")
    }

    @Test func anotherPersonsSessionIsNotFoundAndTheOneInUseIsNotEndedThisWay() async throws {
        let bench = AccountBench()
        let ada = try await bench.signUp()
        let grace = try await bench.signUp("grace@example.com")
        let current = try #require(try await bench.session(ada.token))
        let theirs = try #require(try await bench.session(grace.token))

        for id in [theirs.session.id.rawValue, "sessid_unknown", "not-an-id"] {
            let code = await refusal {
                try await bench.service.revokeSession(
                    id, of: current.user, current: current.session, clientAddress: nil)
            }
            #expect(code == "session_not_found", "\(id)")
        }
        #expect(try await bench.session(grace.token) != nil)
        let own = await refusalError {
            try await bench.service.revokeSession(
                current.session.id.rawValue, of: current.user, current: current.session, clientAddress: nil)
        }
        #expect(own?.code == .invalidValue)
        #expect(own?.param == "session_id")
        #expect(try await bench.session(ada.token) != nil)
    }

    @Test func endingEveryOtherSessionKeepsTheOneInUse() async throws {
        let bench = AccountBench()
        let result = try await bench.signUp()
        let first = try await bench.logIn()
        let second = try await bench.logIn()
        let grace = try await bench.signUp("grace@example.com")
        let current = try #require(try await bench.session(result.token))

        let count = try await bench.service.revokeOtherSessions(
            of: current.user, current: current.session, clientAddress: nil)
        #expect(count == 2)
        #expect(try await bench.session(first) == nil)
        #expect(try await bench.session(second) == nil)
        #expect(try await bench.session(result.token) != nil)
        #expect(try await bench.session(grace.token) != nil)
        #expect(
            try await bench.service.revokeOtherSessions(of: current.user, current: current.session, clientAddress: nil)
                == 0)
    }
}
