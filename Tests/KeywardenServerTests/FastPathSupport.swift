import Foundation
import Hummingbird
import HummingbirdTesting
import KeywardenCore
import KeywardenServer
import Testing

@testable import KeywardenGateway

/// Runs `body` against the server as `keywarden serve` builds it, on a port of its own: the
/// connection guard and the event-loop fast path ahead of the router.
func withServer(
    outbox: TestOutbox? = nil, configure: (inout KeywardenConfiguration) -> Void = { _ in },
    _ body: @Sendable (TestAPI, KeywardenServices, GatewayFastPath) async throws -> Void
) async throws {
    try await withServices(outbox: outbox, configure: configure) { services in
        let (router, _) = try buildRouter(services: services)
        let fastPath = buildFastPath(services: services, serverName: "keywarden", logger: quietLogger)
        let app = Application(
            router: router,
            server: KeywardenInstance.httpServer(configuration: services.configuration, fastPath: fastPath),
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "keywarden"),
            logger: quietLogger)
        defer { fastPath.shutdown() }
        try await app.test(.live) { client in
            try await body(TestAPI(client: client, services: services), services, fastPath)
        }
    }
}

/// What carries a gateway call to a URL upstream.
enum Carrier: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// The event-loop fast path and its upstream pool per loop.
    case fastPath
    /// The router, and the lean client.
    case lean
    /// The router, and AsyncHTTPClient.
    case asyncHTTPClient

    var testDescription: String { rawValue }
}

/// Runs `body` with the gateway carried by `carrier`. With the fast path, the calls after a key
/// is warmed (``TestAPI/warm(_:)``) are served there, and at least one must be.
func withGateway(
    _ carrier: Carrier, outbox: TestOutbox? = nil, configure: (inout KeywardenConfiguration) -> Void,
    _ body: @Sendable (TestAPI, KeywardenServices) async throws -> Void
) async throws {
    switch carrier {
    case .fastPath:
        try await withServer(
            outbox: outbox,
            configure: {
                configure(&$0)
                $0.gateway.leanClient = true
            }
        ) { api, services, fastPath in
            try await body(api, services)
            #expect(fastPath.counts.served > 0, "no call was served on the fast path")
        }
    case .lean, .asyncHTTPClient:
        try await withApp(
            outbox: outbox,
            configure: {
                configure(&$0)
                $0.gateway.leanClient = carrier == .lean
            }, body)
    }
}

extension TestAPI {
    /// Reads what the fast path needs about `key` into memory (its tier, standing and project
    /// limits, and a spend lease when calls are priced), as the first call of a key through the
    /// router does.
    func warm(_ key: String) async {
        guard let services, case .valid(let apiKey) = services.keys.index.authenticate(key, now: Date()) else {
            return
        }
        _ = await services.gateway.rateLimits.scopes(for: apiKey, now: Date())
        if let pricing = services.gateway.pricing {
            _ = await pricing.spend.admit(organization: apiKey.organizationID, project: apiKey.projectID, now: Date())
        }
    }
}
