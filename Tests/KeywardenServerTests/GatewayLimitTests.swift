import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenServer
import KeywardenStorage
import Testing

@Suite("Gateway rate limits and metering")
struct GatewayLimitTests {
    static let chat =
        #"{"model":"echo-1","messages":[{"role":"user","content":"hello gateway world"}]}"#

    func keyed(
        _ api: TestAPI, outbox: TestOutbox
    ) async throws -> (token: String, project: String, key: String, keyID: String) {
        let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
        let project = try await api.defaultProject(token)
        let created = try await api.createKey(token, project: project, json: #"{"name":"limits"}"#)
        return (token, project, try #require(created.string("value")), try #require(created.string("id")))
    }

    func header(_ response: TestResponse, _ name: String) -> String? {
        response.headers[HTTPField.Name(name)!]
    }

    func tiers(_ text: String, store: RateLimitStore = .memory) throws -> (inout KeywardenConfiguration) -> Void {
        let tiers = try #require(RateLimitTiers(tiers: try RateLimitTiers.parseTiers(text), defaultTier: "test"))
        return { configuration in
            configuration.gateway.upstream = .echo
            configuration.gateway.rateLimitTiers = tiers
            configuration.gateway.rateLimitStore = store
        }
    }

    @Test(arguments: RateLimitStore.allCases)
    func rateLimitHeadersDecreaseAndResetAsTheWindowMoves(store: RateLimitStore) async throws {
        let outbox = TestOutbox()
        let time = ManualClock()
        try await withApp(
            clock: time.clock, outbox: outbox, configure: try tiers("test: rpm=100 tpm=100000 key_rpm=3", store: store)
        ) {
            api, _ in
            let (_, _, key, _) = try await keyed(api, outbox: outbox)
            var remaining: [String?] = []
            for _ in 0..<3 {
                let response = try await api.request(.get, "/v1/models", token: key)
                #expect(response.status == .ok)
                #expect(header(response, "x-ratelimit-limit-requests") == "3")
                remaining.append(header(response, "x-ratelimit-remaining-requests"))
            }
            #expect(remaining == ["2", "1", "0"])
            let last = try await api.request(.get, "/v1/models", token: key)
            #expect(last.status == .tooManyRequests)
            #expect(last.string("error.code") == "rate_limit_exceeded")
            #expect(last.string("error.type") == "rate_limit_error")
            #expect(header(last, "retry-after") == "20")
            #expect(header(last, "retry-after-ms") == "20000")
            #expect(header(last, "x-ratelimit-reset-requests") == "1m0s")
            #expect(last.string("error.message")?.contains("requests per min (RPM): Limit 3") == true)
            #expect(last.string("error.message")?.hasPrefix("Rate limit reached for key key_") == true)

            time.advance(by: 20)
            let refilled = try await api.request(.get, "/v1/models", token: key)
            #expect(refilled.status == .ok)
            #expect(header(refilled, "x-ratelimit-remaining-requests") == "0")
            #expect(header(refilled, "x-ratelimit-reset-requests") == "1m0s")
            time.advance(by: 50)
            let later = try await api.request(.get, "/v1/models", token: key)
            #expect(header(later, "x-ratelimit-remaining-requests") == "1")
            #expect(header(later, "x-ratelimit-reset-requests") == "30s")
        }
    }

    @Test(arguments: RateLimitStore.allCases)
    func tokensAreEstimatedFromMaxTokensAndCorrectedByTheRealUsage(store: RateLimitStore) async throws {
        let outbox = TestOutbox()
        let time = ManualClock()
        try await withApp(
            clock: time.clock, outbox: outbox, configure: try tiers("test: rpm=100 tpm=6000", store: store)
        ) { api, _ in
            let (_, _, key, _) = try await keyed(api, outbox: outbox)
            let body =
                #"{"model":"echo-1","max_tokens":1000,"messages":[{"role":"user","content":"hello gateway world"}]}"#
            let first = try await api.request(.post, "/v1/chat/completions", token: key, json: body)
            #expect(first.status == .ok)
            let estimate = 1000 + (body.utf8.count + 3) / 4
            #expect(header(first, "x-ratelimit-limit-tokens") == "6000")
            #expect(header(first, "x-ratelimit-remaining-tokens") == String(6000 - estimate))
            // The echo upstream reported 5 prompt and 5 completion tokens; the rest came back.
            let used = try #require(first.value("usage.total_tokens") as? Int)
            let models = try await api.request(.get, "/v1/models", token: key)
            #expect(header(models, "x-ratelimit-remaining-tokens") == String(6000 - used))

            // Asking for more than is left is refused, naming tokens.
            let greedy = #"{"model":"echo-1","max_tokens":5999,"messages":[]}"#
            let refused = try await api.request(.post, "/v1/chat/completions", token: key, json: greedy)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.string("error.message")?.contains("tokens per min (TPM): Limit 6000") == true)
            #expect(refused.string("error.message")?.hasPrefix("Rate limit reached for organization org_") == true)
        }
    }

    @Test func streamedUsageCorrectsTheChargeToo() async throws {
        let outbox = TestOutbox()
        let time = ManualClock()
        try await withApp(clock: time.clock, outbox: outbox, configure: try tiers("test: rpm=100 tpm=6000")) {
            api, services in
            let (token, _, key, _) = try await keyed(api, outbox: outbox)
            let body =
                #"{"model":"echo-1","max_tokens":3000,"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"one two three"}]}"#
            let streamed = try await api.request(.post, "/v1/chat/completions", token: key, json: body)
            #expect(streamed.status == .ok)
            let after = try await api.request(.get, "/v1/models", token: key)
            let remaining = Int(try #require(header(after, "x-ratelimit-remaining-tokens"))) ?? 0
            #expect(remaining > 5900)

            let usage = try await api.request(
                .get, "/v1/organization/usage/completions?start_time=1749999960&bucket_width=1m&limit=2", token: token)
            let results = try #require(usage.value("data") as? [[String: Any]])
            let first = try #require((results.first?["results"] as? [[String: Any]])?.first)
            // Only the model call counts as completions usage; GET /v1/models is counted apart.
            #expect(first["num_model_requests"] as? Int == 1)
            #expect(first["input_tokens"] as? Int == 4)
            #expect(first["output_tokens"] as? Int == 4)
            _ = services
        }
    }

    @Test func usageIsMeteredPerKeyAndMinuteAndReportedInOpenAIsBuckets() async throws {
        let outbox = TestOutbox()
        let time = ManualClock()
        try await withApp(clock: time.clock, outbox: outbox, configure: try tiers("test: rpm=100 tpm=100000 key_rpm=2"))
        {
            api, _ in
            let (token, project, key, keyID) = try await keyed(api, outbox: outbox)
            let second = try #require(
                try await api.createKey(token, project: project, json: #"{"name":"second"}"#).string("value"))
            let secondID = try #require(
                try await api.request(.get, "/v1/organization/projects/\(project)/api_keys", token: token)
                    .value("data") as? [[String: Any]]
            ).compactMap { $0["id"] as? String }.first { $0 != keyID }
            for _ in 0..<2 {
                #expect(try await api.request(.post, "/v1/chat/completions", token: key, json: Self.chat).status == .ok)
            }
            #expect(
                try await api.request(.post, "/v1/chat/completions", token: key, json: Self.chat).status
                    == .tooManyRequests)
            time.advance(by: 3600)
            #expect(try await api.request(.post, "/v1/chat/completions", token: second, json: Self.chat).status == .ok)
            #expect(try await api.request(.post, "/v1/unknown", token: second, json: "{}").status == .notFound)

            let start = 1_750_000_000 - 1_750_000_000 % 3600
            let hourly = try await api.request(
                .get,
                "/v1/organization/usage/completions?start_time=\(start)&end_time=\(start + 5 * 3600)&bucket_width=1h&limit=3",
                token: token)
            #expect(hourly.status == .ok)
            #expect(hourly.string("object") == "page")
            #expect(hourly.value("has_more") as? Bool == true)
            let nextPage = try #require(hourly.string("next_page"))
            let buckets = try #require(hourly.value("data") as? [[String: Any]])
            #expect(buckets.map { $0["start_time"] as? Int } == [start, start + 3600, start + 7200])
            #expect(buckets.allSatisfy { $0["object"] as? String == "bucket" })
            let firstHour = try #require((buckets[0]["results"] as? [[String: Any]])?.first)
            #expect(firstHour["object"] as? String == "organization.usage.completions.result")
            #expect(firstHour["num_model_requests"] as? Int == 3)
            #expect(firstHour["num_model_request_errors"] as? Int == 1)
            #expect(firstHour["input_tokens"] as? Int == 10)
            #expect(firstHour["output_tokens"] as? Int == 10)
            #expect(firstHour["project_id"] is NSNull)
            let secondHour = try #require((buckets[1]["results"] as? [[String: Any]])?.first)
            #expect(secondHour["num_model_requests"] as? Int == 1)
            #expect((buckets[2]["results"] as? [Any])?.isEmpty == true)

            let more = try await api.request(
                .get,
                "/v1/organization/usage/completions?start_time=\(start)&end_time=\(start + 5 * 3600)&bucket_width=1h&limit=3&page=\(nextPage)",
                token: token)
            #expect(
                (more.value("data") as? [[String: Any]])?.map { $0["start_time"] as? Int } == [
                    start + 3 * 3600, start + 4 * 3600,
                ])
            #expect(more.value("has_more") as? Bool == false)
            // Without end_time the buckets run up to the present.
            let open = try await api.request(
                .get, "/v1/organization/usage/completions?start_time=\(start)&bucket_width=1h", token: token)
            #expect((open.value("data") as? [Any])?.count == 2)

            let byKey = try await api.request(
                .get,
                "/v1/organization/usage/completions?start_time=\(start)&end_time=\(start + 7200)&group_by=api_key_id&group_by=project_id",
                token: token)
            let day = try #require((byKey.value("data") as? [[String: Any]])?.first?["results"] as? [[String: Any]])
            #expect(Set(day.compactMap { $0["api_key_id"] as? String }) == [keyID, try #require(secondID)])
            #expect(day.allSatisfy { $0["project_id"] as? String == project })

            let bad = try await api.request(
                .get, "/v1/organization/usage/completions?start_time=\(start)&group_by=user_id", token: token)
            #expect(bad.status == .badRequest)
            #expect(bad.string("error.param") == "group_by")
            let missing = try await api.request(.get, "/v1/organization/usage/completions", token: token)
            #expect(missing.string("error.param") == "start_time")
            let width = try await api.request(
                .get, "/v1/organization/usage/completions?start_time=0&bucket_width=2h", token: token)
            #expect(width.string("error.param") == "bucket_width")
        }
    }

    @Test(arguments: RateLimitStore.allCases)
    func aProjectsOwnLimitsApplyAtOnceAndOnlyOwnersMaySetThem(store: RateLimitStore) async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: try tiers("test: rpm=100 tpm=100000", store: store)) { api, _ in
            let (token, project, key, _) = try await keyed(api, outbox: outbox)
            let shown = try await api.request(.get, "/v1/organization/projects/\(project)/rate_limits", token: token)
            #expect(shown.string("object") == "project.rate_limits")
            #expect(shown.string("tier") == "test")
            #expect(shown.value("max_requests_per_1_minute") as? Int == 100)
            #expect(shown.value("project_override.max_requests_per_1_minute") is NSNull)

            let set = try await api.request(
                .post, "/v1/organization/projects/\(project)/rate_limits", token: token,
                json: #"{"max_requests_per_1_minute":1}"#)
            #expect(set.status == .ok)
            #expect(set.value("max_requests_per_1_minute") as? Int == 1)
            #expect(set.value("max_tokens_per_1_minute") as? Int == 100000)
            #expect(try await api.request(.get, "/v1/models", token: key).status == .ok)
            let overProject = try await api.request(.get, "/v1/models", token: key)
            #expect(overProject.status == .tooManyRequests)
            #expect(
                overProject.string("error.message")?.hasPrefix("Rate limit reached for project \(project) on") == true)

            let cleared = try await api.request(
                .post, "/v1/organization/projects/\(project)/rate_limits", token: token,
                json: #"{"max_requests_per_1_minute":null}"#)
            #expect(cleared.value("max_requests_per_1_minute") as? Int == 100)
            for body in [#"{"max_requests_per_1_minute":0}"#, #"{"max_requests_per_1_minute":"9"}"#, #"{"rpm":9}"#] {
                let refused = try await api.request(
                    .post, "/v1/organization/projects/\(project)/rate_limits", token: token, json: body)
                #expect(refused.status == .badRequest)
            }
            let audit = try await api.request(
                .get, "/v1/organization/audit_logs?event_types[]=rate_limit.updated", token: token)
            #expect((audit.value("data") as? [Any])?.count == 2)
            let unknown = try await api.request(
                .get, "/v1/organization/audit_logs?event_types[]=rate_limit.changed", token: token)
            #expect(unknown.status == .badRequest)
            #expect(unknown.string("error.param") == "event_types[]")
            #expect(unknown.string("error.message")?.contains("rate_limit.updated") == true)
            // Brackets percent-encoded, as many clients send them, name the same filter.
            let encoded = try await api.request(
                .get, "/v1/organization/audit_logs?event_types%5B%5D=rate_limit.updated", token: token)
            #expect((encoded.value("data") as? [Any])?.count == 2)
            let encodedUnknown = try await api.request(
                .get, "/v1/organization/audit_logs?event_types%5B%5D=rate_limit.changed", token: token)
            #expect(encodedUnknown.status == .badRequest)
        }
    }

    @Test func anOrganizationsTierChoosesItsLimits() async throws {
        let outbox = TestOutbox()
        try await withApp(
            outbox: outbox, configure: try tiers("test: rpm=100 tpm=100000; big: rpm=100000 tpm=100000000 key_rpm=7")
        ) { api, services in
            let (token, _, key, _) = try await keyed(api, outbox: outbox)
            let organization = try #require(try await api.request(.get, "/v1/organization", token: token).string("id"))
            let before = try await api.request(.get, "/v1/models", token: key)
            #expect(header(before, "x-ratelimit-limit-requests") == "100")
            try await services.gateway.rateLimits.setTier(
                "big", of: OrganizationID(unchecked: organization), now: services.clock.now())
            let after = try await api.request(.get, "/v1/models", token: key)
            #expect(header(after, "x-ratelimit-limit-requests") == "7")
            await #expect(throws: DomainError.self) {
                try await services.gateway.rateLimits.setTier(
                    "nonexistent", of: OrganizationID(unchecked: organization), now: services.clock.now())
            }
        }
    }

    @Test(arguments: [true, false])
    func proxiedAnswersAreMeteredFromTheirUsageAndLargeUploadsStreamUncharged(lean: Bool) async throws {
        let outbox = TestOutbox()
        let time = ManualClock()
        let stub = StubServer { request in
            if request.path == "/v1/broken" { return (.internalServerError, #"{"error":"down"}"#) }
            if request.path == "/v1/files" { return (.ok, #"{"bytes":\#(request.body.utf8.count)}"#) }
            if request.path == "/v1/models" { return (.ok, #"{"object":"list","data":[]}"#) }
            return (.ok, #"{"id":"x","usage":{"prompt_tokens": 1200, "completion_tokens": 34, "total_tokens": 1234}}"#)
        }
        try await stub.run { base in
            let configure = try tiers("test: rpm=100 tpm=5000", store: lean ? .database : .memory)
            try await withApp(
                clock: time.clock, outbox: outbox,
                configure: {
                    configure(&$0)
                    $0.gateway.upstream = .url(base)
                    $0.gateway.leanClient = lean
                }
            ) { api, _ in
                let (token, _, key, _) = try await keyed(api, outbox: outbox)
                let answered = try await api.request(.post, "/v1/chat/completions", token: key, json: Self.chat)
                #expect(answered.status == .ok)
                let next = try await api.request(.get, "/v1/models", token: key)
                #expect(header(next, "x-ratelimit-remaining-tokens") == String(5000 - 1234))

                let broken = try await api.request(.post, "/v1/broken", token: key, json: Self.chat)
                #expect(broken.status == .internalServerError)
                let afterFailure = try await api.request(.get, "/v1/models", token: key)
                #expect(header(afterFailure, "x-ratelimit-remaining-tokens") == String(5000 - 1234))

                let upload = [UInt8](repeating: 0x61, count: 4 << 20)
                var headers = HTTPFields()
                headers[.contentType] = "application/octet-stream"
                let stored = try await api.request(.post, "/v1/files", token: key, rawBody: upload, headers: headers)
                #expect(stored.status == .ok)
                #expect(stored.value("bytes") as? Int == 4 << 20)
                #expect(header(stored, "x-ratelimit-remaining-tokens") == String(5000 - 1234))

                let start = 1_750_000_000 - 1_750_000_000 % 3600
                let usage = try await api.request(
                    .get, "/v1/organization/usage/completions?start_time=\(start)&bucket_width=1h&limit=1", token: token
                )
                let result = try #require(
                    (usage.value("data") as? [[String: Any]])?.first?["results"] as? [[String: Any]])
                // The chat completion; the other paths (models, files, the failed one) are counted apart.
                #expect(result.first?["num_model_requests"] as? Int == 1)
                #expect(result.first?["num_model_request_errors"] as? Int == 0)
                #expect(result.first?["input_tokens"] as? Int == 1200)
                #expect(result.first?["output_tokens"] as? Int == 34)
            }
        }
    }

    @Test func instancesSharingBucketsHoldOneLimitBetweenThem() async throws {
        try await withServices { services in
            let store = SQLRateLimitLeaseRepository(database: services.database)
            let instances = [SharedRateLimiter(store: store), SharedRateLimiter(store: store)]
            let scope = RateLimiter.Scope(
                .project, id: "proj_shared", limits: MinuteLimits(requests: 40, tokens: 1_000_000))
            var admitted = [0, 0]
            for round in 0..<100 {
                let which = round % 2
                if case .admitted = try await instances[which].acquire([scope], tokens: 10, now: 1000) {
                    admitted[which] += 1
                }
            }
            #expect(admitted[0] + admitted[1] == 40)
            #expect(admitted[0] > 0 && admitted[1] > 0)
            // What one instance leased but did not use goes back once its lease ages out.
            for instance in instances { try await instance.returnStale(now: 1010) }
            let later = try await instances[0].acquire([scope], tokens: 10, now: 1010)
            guard case .admitted(let status) = later else {
                Issue.record("ten seconds later a sixth of the minute has come back")
                return
            }
            #expect(status.remainingRequests >= 5)
        }
    }
}
