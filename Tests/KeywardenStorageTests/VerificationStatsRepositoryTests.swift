import Foundation
import KeywardenCore
import KeywardenStorage
import Testing

@Suite("VerificationStatsRepository contract")
struct VerificationStatsRepositoryTests {
    /// The start of the hour `epoch` falls in.
    let hour = Date(timeIntervalSince1970: 1_749_999_600)

    func at(_ seconds: TimeInterval) -> Date { hour.addingTimeInterval(seconds) }

    @Test(arguments: Backend.available)
    func statsCountPerHourAndCountry(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let stats = SQLVerificationStatsRepository(database: database)
            try await stats.count(.started, country: "US", at: at(10))
            try await stats.count(.started, country: "US", at: at(3599))
            try await stats.count(.sent(channel: "sms"), country: "US", at: at(20))
            try await stats.count(.sent(channel: "whatsapp"), country: "US", at: at(21))
            try await stats.count(.started, country: "GB", at: at(30))
            try await stats.count(.refused(reason: "unsupported_country"), country: "FR", at: at(40))
            try await stats.count(.approved, country: "US", at: at(3600))
            try await stats.count(.started, country: "US", at: at(-1))

            let thisHourOn: [String: [String: Int]] = [
                "US": ["started": 2, "sent.sms": 1, "sent.whatsapp": 1, "approved": 1],
                "GB": ["started": 1],
                "FR": ["refused.unsupported_country": 1],
            ]
            #expect(try await stats.counts(from: hour) == thisHourOn)
            // A start inside an hour counts the whole hour.
            #expect(try await stats.counts(from: at(1800)) == thisHourOn)
            #expect(try await stats.counts(from: at(3600)) == ["US": ["approved": 1]])
            #expect(try await stats.counts(from: at(-3600))["US"]?["started"] == 3)
            #expect(try await stats.counts(from: at(7200)).isEmpty)
        }
    }

    @Test(arguments: Backend.available)
    func countsAtOnceAreNeverLost(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let stats = SQLVerificationStatsRepository(database: database)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 {
                    let date = at(TimeInterval(index))
                    group.addTask { try await stats.count(.started, country: "US", at: date) }
                }
                try await group.waitForAll()
            }
            #expect(try await stats.counts(from: hour) == ["US": ["started": 20]])
        }
    }
}
