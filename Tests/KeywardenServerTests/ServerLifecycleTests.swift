import Foundation
import KeywardenCore
import KeywardenServer
import Synchronization
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The whole server, bound to a real port: it starts, refuses a taken port, and stops.
@Suite("Server lifecycle", .timeLimit(.minutes(3)))
struct ServerLifecycleTests {
    func configuration(port: Int = 0) throws -> KeywardenConfiguration {
        var configuration = KeywardenConfiguration()
        configuration.storage.dataDirectory = try temporaryDirectory()
        configuration.server.port = port
        configuration.accounts.bcryptCost = 4
        return configuration
    }

    @Test func aTakenPortEndsStartUpWithOneSentenceNamingTheAddress() async throws {
        let listening = AsyncStream.makeStream(of: Int.self)
        let first = try await KeywardenInstance.build(configuration: try configuration(), logger: quietLogger) {
            listening.continuation.yield($0)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await first.run() }
            var ports = listening.stream.makeAsyncIterator()
            let port = try #require(await ports.next())
            let second = try await KeywardenInstance.build(
                configuration: try configuration(port: port), logger: quietLogger)
            let error = await #expect(throws: StartupError.self) { try await second.run() }
            #expect(error?.description.hasPrefix("127.0.0.1:\(port) is already in use") == true)
            // The first server still answers, and ends when cancelled.
            let (_, health) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/healthz")!)
            #expect((health as? HTTPURLResponse)?.statusCode == 200)
            group.cancelAll()
        }
    }
}
