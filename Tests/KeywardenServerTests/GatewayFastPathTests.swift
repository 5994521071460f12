import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenServer
import NIOCore
import Testing

@testable import KeywardenGateway

@Suite("Gateway fast path")
struct GatewayFastPathTests {
    static let chat = #"{"model":"m-1","messages":[{"role":"user","content":"hello"}],"max_tokens":5}"#
    static let completion =
        #"{"id":"c1","object":"chat.completion","model":"m-1-2025","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}"#

    func keyed(_ api: TestAPI, outbox: TestOutbox) async throws -> (token: String, key: String) {
        let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
        let project = try await api.defaultProject(token)
        let created = try await api.createKey(token, project: project, json: #"{"name":"fast"}"#)
        return (token, try #require(created.string("value")))
    }

    static func tiers(_ text: String) throws -> RateLimitTiers {
        try #require(RateLimitTiers(tiers: try RateLimitTiers.parseTiers(text), defaultTier: "test"))
    }

    @Test func aKeysFirstCallGoesThroughTheRouterAndTheNextOnesAreServedOnTheEventLoopAlike() async throws {
        let outbox = TestOutbox()
        let stub = StubServer { _ in (.ok, Self.completion) }
        try await stub.run { base in
            try await withServer(outbox: outbox, configure: { $0.gateway.upstream = .url(base) }) {
                api, _, fastPath in
                let (_, key) = try await keyed(api, outbox: outbox)
                let routed = try await api.request(.post, "/v1/chat/completions", token: key, json: Self.chat)
                // The first call read the key's tier and limits; the router answered it.
                #expect(fastPath.counts == (served: 0, handedOn: 1))
                let served = try await api.request(.post, "/v1/chat/completions", token: key, json: Self.chat)
                #expect(fastPath.counts == (served: 1, handedOn: 1))
                for response in [routed, served] {
                    #expect(response.status == .ok)
                    #expect(String(decoding: response.body, as: UTF8.self) == Self.completion)
                }
                // The same headers, apart from the values that differ per call.
                let names = { (response: TestResponse) in Set(response.headers.map { $0.name.canonicalName }) }
                #expect(names(routed) == names(served))
                #expect(served.headers[.server] == "keywarden")
                #expect(served.headers[.init("x-content-type-options")!] == "nosniff")
                #expect(served.headers[.init("x-ratelimit-limit-requests")!] != nil)
                #expect(served.headers[.requestID]?.hasPrefix("req_") == true)
                #expect(served.headers[.requestID] != routed.headers[.requestID])
            }
        }
        // Upstream, the two calls look the same too.
        #expect(stub.requests.count == 2)
        let (first, second) = (stub.requests[0], stub.requests[1])
        #expect(first.body == second.body)
        #expect(Set(first.headers.map(\.name)) == Set(second.headers.map(\.name)))
        #expect(second.headers[.authorization] == nil)
        #expect(second.headers[.init("Forwarded")!] == "for=127.0.0.1;proto=http")
    }

    @Test func callsOnTheFastPathAreMeteredAndChargedToTheirRateLimits() async throws {
        let outbox = TestOutbox()
        let stub = StubServer { _ in (.ok, Self.completion) }
        try await stub.run { base in
            try await withServer(
                outbox: outbox,
                configure: {
                    $0.gateway.upstream = .url(base)
                    $0.gateway.rateLimitTiers = try! Self.tiers("test: rpm=100 tpm=100000 key_rpm=4")
                }
            ) { api, services, fastPath in
                let (token, key) = try await keyed(api, outbox: outbox)
                await api.warm(key)
                var remaining: [String?] = []
                for _ in 0..<4 {
                    let response = try await api.request(.post, "/v1/chat/completions", token: key, json: Self.chat)
                    #expect(response.status == .ok)
                    remaining.append(response.headers[.init("x-ratelimit-remaining-requests")!])
                }
                #expect(remaining == ["3", "2", "1", "0"])
                #expect(fastPath.counts == (served: 4, handedOn: 0))
                // The fifth is refused: the fast path hands it to the router, which answers the 429.
                let refused = try await api.request(.post, "/v1/chat/completions", token: key, json: Self.chat)
                #expect(refused.status == .tooManyRequests)
                #expect(refused.string("error.code") == "rate_limit_exceeded")
                #expect(fastPath.counts == (served: 4, handedOn: 1))
                try await services.gateway.meter.flush(to: services.gateway.usage)
                let usage = try await api.request(
                    .get, "/v1/organization/usage/completions?start_time=\(Int(Date().timeIntervalSince1970) - 60)",
                    token: token)
                let result = try #require(
                    (usage.value("data") as? [[String: Any]])?.first?["results"] as? [[String: Any]])
                // The refused call is metered too, as a failed request.
                #expect(result.first?["num_model_requests"] as? Int == 5)
                #expect(result.first?["input_tokens"] as? Int == 28)
                #expect(result.first?["output_tokens"] as? Int == 12)
            }
        }
    }

    @Test func anAnswerCutOffByTheUpstreamIsA502WhenSmallAndEndsTheConnectionWhenRelayed() async throws {
        let outbox = TestOutbox()
        let stub = StubServer(answer: { request in
            guard request.path.hasPrefix("/v1/broken") else {
                return Response(status: .ok, body: .init(byteBuffer: .init(string: "{}")))
            }
            // Declares more than it sends, then the handler fails: the connection is cut.
            let declared = request.path == "/v1/broken-large" ? 1_000_000 : 100_000
            return Response(
                status: .ok, headers: [.contentLength: String(declared), .contentType: "application/json"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: #"{"partial":"#))
                    throw CancellationError()
                })
        })
        try await stub.run { base in
            try await withServer(outbox: outbox, configure: { $0.gateway.upstream = .url(base) }) {
                api, _, fastPath in
                let (_, key) = try await keyed(api, outbox: outbox)
                await api.warm(key)
                // An answer small enough to be read whole first: the caller gets the gateway's 502.
                let small = try await api.request(.get, "/v1/broken", token: key)
                #expect(small.status == .badGateway)
                #expect(small.string("error.code") == "upstream_unavailable")
                // One relayed as it comes is cut off; on a connection of its own, as the cut ends it.
                var large = HTTPClientRequest(url: "http://127.0.0.1:\(api.client.port ?? 0)/v1/broken-large")
                large.headers.add(name: "Authorization", value: "Bearer \(key)")
                await #expect(throws: (any Error).self) {
                    let response = try await HTTPClient.shared.execute(large, timeout: .seconds(10))
                    #expect(response.status == .ok)
                    _ = try await response.body.collect(upTo: 4 << 20)
                }
                let after = try await api.request(.get, "/v1/models", token: key)
                #expect(after.status == .ok)
                #expect(fastPath.counts.served == 3)
            }
        }
    }

    @Test func keyChecksInEitherFormAreAnsweredOnTheEventLoopAndEverythingElseByTheRouter() async throws {
        let outbox = TestOutbox()
        try await withServer(outbox: outbox, configure: { $0.keys.operatorToken = operatorToken }) {
            api, _, fastPath in
            let (_, key) = try await keyed(api, outbox: outbox)
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(operatorToken)"
            let posted = try await api.request(.post, "/v1/keys/verify", json: #"{"key":"\#(key)"}"#, headers: headers)
            #expect(posted.status == .ok)
            #expect(posted.value("valid") as? Bool == true)
            #expect(posted.headers[.cacheControl] == "no-store")
            var byHeader = headers
            byHeader[.init("Keywarden-Key")!] = key
            let got = try await api.request(.get, "/v1/keys/verify", headers: byHeader)
            #expect(got.status == .ok)
            #expect(got.value("valid") as? Bool == true)
            #expect(got.string("key_id") == posted.string("key_id"))
            #expect(fastPath.counts == (served: 2, handedOn: 0))

            var unknown = headers
            unknown[.init("Keywarden-Key")!] = "sk-proj-nothing"
            let invalid = try await api.request(.get, "/v1/keys/verify", headers: unknown)
            #expect(invalid.value("valid") as? Bool == false)
            #expect(invalid.string("code") == "not_found")
            #expect(fastPath.counts.served == 3)

            // Refusals come from the router, in the error envelope.
            var badAddress = byHeader
            badAddress[.init("Keywarden-Client-IP")!] = "not-an-address"
            let refused = try await api.request(.get, "/v1/keys/verify", headers: badAddress)
            #expect(refused.status == .badRequest)
            #expect(refused.string("error.param") == "Keywarden-Client-IP")
            let missing = try await api.request(.get, "/v1/keys/verify", headers: headers)
            #expect(missing.status == .badRequest)
            #expect(missing.string("error.code") == "missing_required_parameter")
            var wrongToken = byHeader
            wrongToken[.authorization] = "Bearer not-the-operator"
            let unauthorized = try await api.request(.get, "/v1/keys/verify", headers: wrongToken)
            #expect(unauthorized.status == .unauthorized)
            #expect(unauthorized.string("error.code") == "invalid_operator_token")
            #expect(fastPath.counts == (served: 3, handedOn: 3))
        }
    }

    @Test func sessionTokensAdminKeysAndOwnEndpointsAreLeftToTheRouter() async throws {
        let outbox = TestOutbox()
        let stub = StubServer { _ in (.ok, "{}") }
        try await stub.run { base in
            try await withServer(outbox: outbox, configure: { $0.gateway.upstream = .url(base) }) {
                api, _, fastPath in
                let (token, key) = try await keyed(api, outbox: outbox)
                await api.warm(key)
                let session = try await api.request(.get, "/v1/models", token: token)
                #expect(session.status == .unauthorized)
                #expect(session.string("error.code") == "invalid_api_key")
                let own = try await api.request(.get, "/v1/organization/projects", token: key)
                #expect(own.status != .ok)
                let dotted = try await api.request(.get, "/v1/files/../chat/completions", token: key)
                #expect(dotted.status == .badRequest)
                #expect(fastPath.counts.served == 0)
            }
        }
        #expect(stub.requests.isEmpty)
    }
}

@Suite("Gateway paths")
struct GatewayPathTests {
    @Test func plainPathsSplitAsBytesAsEncodedOnesDecode() throws {
        #expect(try GatewayPath.segments(of: "/v1/chat/completions") == ["v1", "chat", "completions"])
        #expect(try GatewayPath.segments(of: "/v1/models/") == ["v1", "models"])
        #expect(try GatewayPath.segments(of: "/v1/files/file-1%41") == ["v1", "files", "file-1A"])
        #expect(try GatewayPath.segments(of: "/v1/files/é") == ["v1", "files", "é"])
        for refused in ["/v1//models", "/v1/./models", "/v1/files/../chat", "/v1/a%2Fb", "/v1/a\\b", "/v1/%2e%2e/x"] {
            #expect(throws: DomainError.self, "\(refused)") { try GatewayPath.segments(of: refused) }
        }
    }
}
