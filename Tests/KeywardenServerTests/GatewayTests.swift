import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenServer
import NIOCore
import Testing

@testable import KeywardenGateway

@Suite("Gateway")
struct GatewayTests {
    /// A verified organization's token and a fresh project key.
    func keyed(
        _ api: TestAPI, outbox: TestOutbox, json: String = #"{"name":"gateway"}"#
    ) async throws
        -> (token: String, project: String, key: String, keyID: String)
    {
        let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
        let project = try await api.defaultProject(token)
        let created = try await api.createKey(token, project: project, json: json)
        let key = try #require(created.string("value"))
        await api.warm(key)
        return (token, project, key, try #require(created.string("id")))
    }

    static let chat =
        #"{"model":"echo-1","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello gateway world"}]}"#

    @Test func echoUpstreamAnswersChatCompletionsModelsAndEmbeddings() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: { $0.gateway.upstream = .echo }) { api, _ in
            let (_, _, key, _) = try await keyed(api, outbox: outbox)
            let completion = try await api.request(.post, "/v1/chat/completions", token: key, json: Self.chat)
            #expect(completion.status == .ok)
            #expect(completion.string("object") == "chat.completion")
            let choices = try #require(completion.value("choices") as? [[String: Any]])
            #expect((choices.first?["message"] as? [String: Any])?["content"] as? String == "hello gateway world")
            #expect(completion.value("usage.completion_tokens") as? Int == 5)
            #expect(completion.headers[.init("x-request-id")!] != nil)

            let models = try await api.request(.get, "/v1/models", token: key)
            #expect(((models.value("data") as? [[String: Any]])?.first?["id"] as? String) == "echo-1")
            let embeddings = try await api.request(
                .post, "/v1/embeddings", token: key, json: #"{"model":"echo-1","input":["a","b"]}"#)
            #expect((embeddings.value("data") as? [Any])?.count == 2)
        }
    }

    @Test func streamedCompletionsArriveAsServerSentEventsWithUsage() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: { $0.gateway.upstream = .echo }) { api, _ in
            let (_, _, key, _) = try await keyed(api, outbox: outbox)
            let body =
                #"{"model":"echo-1","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"one two three"}]}"#
            let response = try await api.request(.post, "/v1/chat/completions", token: key, json: body)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/event-stream")
            let events = String(decoding: response.body, as: UTF8.self).components(separatedBy: "\n\n")
                .filter { !$0.isEmpty }
            #expect(events.allSatisfy { $0.hasPrefix("data: ") })
            #expect(events.last == "data: [DONE]")
            let contents = events.dropLast().compactMap { event -> String? in
                let json = try? JSONSerialization.jsonObject(with: Data(event.dropFirst(6).utf8)) as? [String: Any]
                let delta = ((json?["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])
                return delta?["content"] as? String
            }
            #expect(contents.joined() == "one two three")
            #expect(events.dropLast().last?.contains(#""usage":{"prompt_tokens""#) == true)
        }
    }

    @Test func badMissingAndRevokedKeysAreRefusedOnTheNextRequest() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: { $0.gateway.upstream = .echo }) { api, _ in
            let (token, project, key, keyID) = try await keyed(api, outbox: outbox)
            let missing = try await api.request(.get, "/v1/models")
            #expect(missing.status == .unauthorized)
            #expect(missing.string("error.code") == "invalid_api_key")
            let wrong = try await api.request(.get, "/v1/models", token: "sk-proj-" + String(repeating: "A", count: 38))
            #expect(wrong.status == .unauthorized)
            #expect(try await api.request(.get, "/v1/models", token: key).status == .ok)
            _ = try await api.request(.delete, "/v1/organization/projects/\(project)/api_keys/\(keyID)", token: token)
            let revoked = try await api.request(.get, "/v1/models", token: key)
            #expect(revoked.status == .unauthorized)
            #expect(revoked.string("error.message")?.contains("revoked") == true)
            // Keywarden's own routes still answer sessions.
            #expect(try await api.request(.get, "/v1/organization", token: token).status == .ok)
        }
    }

    @Test func readOnlyAndRestrictedKeysAreHeldToTheirPermissions() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: { $0.gateway.upstream = .echo }) { api, _ in
            let (token, project, readOnly, _) = try await keyed(
                api, outbox: outbox, json: #"{"permissions":"read_only"}"#)
            #expect(try await api.request(.get, "/v1/models", token: readOnly).status == .ok)
            let refused = try await api.request(.post, "/v1/chat/completions", token: readOnly, json: Self.chat)
            #expect(refused.status == .forbidden)
            #expect(refused.string("error.code") == "insufficient_permissions")

            let restricted = try #require(
                try await api.createKey(
                    token, project: project, json: #"{"permissions":"restricted","scopes":["model.request"]}"#
                ).string("value"))
            #expect(
                try await api.request(.post, "/v1/chat/completions", token: restricted, json: Self.chat).status == .ok)
            #expect(try await api.request(.get, "/v1/models", token: restricted).status == .forbidden)
        }
    }

    static let dotPaths = [
        "/v1/files/../chat/completions", "/v1/files/%2e%2e/chat/completions", "/v1/files/%2E%2e/chat/completions",
        "/v1/files/./../chat/completions", "/v1/./chat/completions", "/v1//chat/completions",
        "/v1/files%2f..%2fchat/completions", "/v1/files%2F..%2Fchat/completions", "/v1/files/..%5cchat/completions",
        "/v1/files/%zz",
    ]

    @Test(arguments: dotPaths)
    func pathsWithDotOrEmptySegmentsAreRefusedBeforeAuthorizingOrForwarding(_ path: String) async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: { $0.gateway.upstream = .echo }) { api, _ in
            let (_, _, key, _) = try await keyed(
                api, outbox: outbox, json: #"{"permissions":"restricted","scopes":["api.files.write"]}"#)
            let response = try await api.request(.post, path, token: key, json: Self.chat)
            #expect(response.status == .badRequest)
            #expect(response.string("error.code") == "invalid_path")
        }
    }

    @Test func modelCallsNeedModelRequestWhateverApiScopesAKeyHas() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: { $0.gateway.upstream = .echo }) { api, _ in
            let (_, _, key, _) = try await keyed(
                api, outbox: outbox,
                json: #"{"permissions":"restricted","scopes":["api.*.write","api.*.read","api.chat.write"]}"#)
            for path in ["/v1/chat/completions", "/v1/embeddings", "/v1/%63hat/completions", "/v1/responses"] {
                let refused = try await api.request(.post, path, token: key, json: Self.chat)
                #expect(refused.status == .forbidden, "\(path)")
                #expect(refused.string("error.message")?.contains("model.request") == true, "\(path)")
            }
            // The wildcard still covers everything that is not a model call.
            #expect(try await api.request(.get, "/v1/models", token: key).status == .ok)
            let files = try await api.request(.post, "/v1/files", token: key, json: "{}")
            #expect(files.status != .forbidden)
        }
    }

    @Test(arguments: Carrier.allCases)
    func forwardingStripsTheCallersKeyAndHopByHopHeadersAndRelaysTheAnswer(carrier: Carrier) async throws {
        let outbox = TestOutbox()
        let stub = StubServer { _ in (.created, #"{"upstream":"yes"}"#) }
        try await stub.run { base in
            try await withGateway(
                carrier, outbox: outbox,
                configure: {
                    $0.gateway.upstream = .url(base)
                    $0.gateway.upstreamAuthorization = "Bearer upstream-secret"
                }
            ) { api, _ in
                let (_, _, key, _) = try await keyed(api, outbox: outbox)
                var headers = HTTPFields()
                headers[.init("Keep-Alive")!] = "timeout=5"
                headers[.init("X-Custom")!] = "kept"
                let response = try await api.request(
                    .post, "/v1/files/upload?purpose=batch", token: key, json: #"{"hello":"upstream"}"#,
                    headers: headers)
                #expect(response.status == .created)
                #expect(response.string("upstream") == "yes")
            }
        }
        let forwarded = try #require(stub.requests.first)
        #expect(forwarded.method == .post)
        #expect(forwarded.path == "/v1/files/upload")
        #expect(forwarded.query == "purpose=batch")
        #expect(forwarded.body == #"{"hello":"upstream"}"#)
        #expect(forwarded.headers[.authorization] == "Bearer upstream-secret")
        #expect(forwarded.headers[.init("X-Custom")!] == "kept")
        #expect(forwarded.headers[.init("Keep-Alive")!] == nil)
        #expect(forwarded.headers[.init("x-request-id")!] != nil)
        #expect(forwarded.headers[.init("Forwarded")!] != nil)
    }

    @Test func forwardedNamesTheCaller() {
        #expect(Gateway.forwarded("203.0.113.7") == "for=203.0.113.7;proto=http")
        #expect(Gateway.forwarded("2001:db8::1") == #"for="[2001:db8::1]";proto=http"#)
        #expect(Gateway.forwarded(nil) == "proto=http")
    }

    @Test(arguments: Carrier.allCases)
    func aSilentUpstreamIsAGatewayTimeout(carrier: Carrier) async throws {
        let outbox = TestOutbox()
        let stub = StubServer { _ in
            Thread.sleep(forTimeInterval: 2)
            return (.ok, "{}")
        }
        try await stub.run { base in
            try await withGateway(
                carrier, outbox: outbox,
                configure: {
                    $0.gateway.upstream = .url(base)
                    $0.gateway.readTimeout = 1
                }
            ) { api, _ in
                let (_, _, key, _) = try await keyed(api, outbox: outbox)
                let response = try await api.request(.get, "/v1/models", token: key)
                #expect(response.status == .gatewayTimeout)
                #expect(response.string("error.code") == "upstream_timeout")
            }
        }
    }

    @Test(arguments: Carrier.allCases)
    func anUnreachableUpstreamIsABadGateway(carrier: Carrier) async throws {
        let outbox = TestOutbox()
        try await withGateway(
            carrier, outbox: outbox,
            configure: {
                $0.gateway.upstream = .url("http://127.0.0.1:9")
                $0.gateway.connectTimeout = 2
            }
        ) { api, _ in
            let (_, _, key, _) = try await keyed(api, outbox: outbox)
            let response = try await api.request(.get, "/v1/models", token: key)
            #expect(response.status == .badGateway)
            #expect(response.string("error.code") == "upstream_unavailable")
        }
    }

    @Test(arguments: Carrier.allCases)
    func largeAndRepeatedAnswersArriveWhole(carrier: Carrier) async throws {
        let outbox = TestOutbox()
        let large = "[" + Array(repeating: "\"0123456789abcdef\"", count: 40_000).joined(separator: ",") + "]"
        let stub = StubServer { request in
            request.path == "/v1/large" ? (.ok, large) : (.ok, #"{"path":"\#(request.path)","q":"\#(request.query)"}"#)
        }
        try await stub.run { base in
            try await withGateway(
                carrier, outbox: outbox,
                configure: {
                    $0.gateway.upstream = .url(base + "/")
                }
            ) { api, _ in
                let (_, _, key, _) = try await keyed(api, outbox: outbox)
                let response = try await api.request(.get, "/v1/large", token: key)
                #expect(response.status == .ok)
                #expect(response.body.count == large.utf8.count)
                #expect(String(decoding: response.body, as: UTF8.self) == large)
                for index in 0..<20 {
                    let small = try await api.request(.get, "/v1/items/\(index)?page=\(index)", token: key)
                    #expect(small.string("path") == "/v1/items/\(index)")
                    #expect(small.string("q") == "page=\(index)")
                }
                let deleted = try await api.request(.delete, "/v1/items/1", token: key)
                #expect(deleted.status == .ok)
            }
        }
        #expect(stub.requests.count == 22)
        #expect(stub.requests.last?.method == .delete)
    }

    @Test(arguments: Carrier.allCases)
    func serverSentEventsFromTheUpstreamArriveUnchangedAndTheirUsageIsMetered(carrier: Carrier) async throws {
        let outbox = TestOutbox()
        let events = [
            #"data: {"choices":[{"delta":{"content":"Hel"}}],"usage":null}"#,
            #"data: {"choices":[{"delta":{"content":"lo"}}],"usage":null}"#,
            #"data: {"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":2,"total_tokens":13}}"#,
            "data: [DONE]",
        ].map { $0 + "\n\n" }
        let stub = StubServer(answer: { _ in
            // No length: the answer is chunked, one event per chunk.
            Response(
                status: .ok, headers: [.contentType: "text/event-stream"],
                body: ResponseBody { writer in
                    for event in events { try await writer.write(ByteBuffer(string: event)) }
                    try await writer.finish(nil)
                })
        })
        try await stub.run { base in
            try await withGateway(
                carrier, outbox: outbox,
                configure: {
                    $0.gateway.upstream = .url(base)
                }
            ) { api, services in
                let (token, _, key, _) = try await keyed(api, outbox: outbox)
                let response = try await api.request(
                    .post, "/v1/chat/completions", token: key,
                    json: #"{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}"#)
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/event-stream")
                #expect(String(decoding: response.body, as: UTF8.self) == events.joined())
                let usage = try await api.request(
                    .get, "/v1/organization/usage/completions?start_time=\(Int(Date().timeIntervalSince1970) - 60)",
                    token: token)
                let result = try #require(
                    (usage.value("data") as? [[String: Any]])?.first?["results"] as? [[String: Any]])
                #expect(result.first?["input_tokens"] as? Int == 11)
                #expect(result.first?["output_tokens"] as? Int == 2)
                _ = services
            }
        }
    }
}
