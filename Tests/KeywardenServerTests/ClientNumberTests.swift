import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenServer
import NIOCore
import Testing

@testable import KeywardenGateway

/// Every number a client sends is bounded where it is read: out of range is a 400 naming the
/// parameter, never a trap, and the server answers the next request.
@Suite("Numbers from clients")
struct ClientNumberTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let query: String
        let param: String
        var testDescription: String { query }
    }

    static let usageQueries: [Case] = [
        .init(query: "start_time=9223372036854775000", param: "start_time"),
        .init(query: "start_time=10000000000000000", param: "start_time"),
        .init(query: "start_time=253402300800", param: "start_time"),
        .init(query: "start_time=-1", param: "start_time"),
        .init(query: "start_time=99999999999999999999999", param: "start_time"),
        .init(query: "start_time=1.5", param: "start_time"),
        .init(query: "start_time=0&end_time=9223372036854775807", param: "end_time"),
        .init(query: "start_time=0&end_time=-5", param: "end_time"),
        .init(query: "start_time=100&end_time=100", param: "end_time"),
        .init(
            query: "start_time=9223372036854775000&end_time=9223372036854775807&bucket_width=1m", param: "start_time"),
        .init(query: "start_time=0&limit=0", param: "limit"),
        .init(query: "start_time=0&limit=32", param: "limit"),
        .init(query: "start_time=0&bucket_width=1m&limit=1441", param: "limit"),
        .init(query: "start_time=0&limit=9223372036854775807", param: "limit"),
        .init(query: "start_time=0&bucket_width=2d", param: "bucket_width"),
        // `usage:9223372036854775807`, `usage:-5`, and a page before the start.
        .init(query: "start_time=0&page=page_dXNhZ2U6OTIyMzM3MjAzNjg1NDc3NTgwNw==", param: "page"),
        .init(query: "start_time=0&page=page_dXNhZ2U6LTU=", param: "page"),
        .init(query: "start_time=1000&page=page_dXNhZ2U6NTAw", param: "page"),
        .init(query: "start_time=0&end_time=100&page=page_dXNhZ2U6MjAw", param: "page"),
        .init(query: "start_time=0&page=garbage", param: "page"),
    ]

    @Test(arguments: usageQueries)
    func outOfRangeUsageParametersAreRefusedNamingThem(_ bad: Case) async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            let response = try await api.request(
                .get, "/v1/organization/usage/completions?\(bad.query)", token: token)
            #expect(response.status == .badRequest)
            #expect(response.string("error.code") == "invalid_value")
            #expect(response.string("error.param") == bad.param)
            #expect(try await api.request(.get, "/healthz").status == .ok)
        }
    }

    @Test func theLatestStartTimeIsAnsweredWithoutOverflow() async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            let latest = UnixTime.range.upperBound
            for width in ["1m", "1h", "1d"] {
                let response = try await api.request(
                    .get, "/v1/organization/usage/completions?start_time=\(latest)&bucket_width=\(width)", token: token)
                #expect(response.status == .ok)
                #expect((response.value("data") as? [Any])?.count == 1)
            }
            let whole = try await api.request(
                .get, "/v1/organization/usage/completions?start_time=0&end_time=\(latest)&bucket_width=1m&limit=1440",
                token: token)
            #expect(whole.status == .ok)
            #expect(whole.value("has_more") as? Bool == true)
        }
    }

    static let listQueries = [
        "limit=0", "limit=-1", "limit=101", "limit=9223372036854775807", "limit=99999999999999999999", "limit=1e3",
    ]

    @Test(arguments: listQueries)
    func outOfRangeListLimitsAreRefusedOnEveryList(_ query: String) async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let project = try await api.defaultProject(token)
            for path in [
                "/v1/organization/projects", "/v1/organization/projects/\(project)/api_keys",
                "/v1/organization/admin_api_keys", "/v1/organization/audit_logs", "/v1/organization/users",
            ] {
                let response = try await api.request(.get, "\(path)?\(query)", token: token)
                #expect(response.status == .badRequest, "\(path)")
                #expect(response.string("error.param") == "limit", "\(path)")
            }
        }
    }

    @Test func anEmptyAfterIsTheFirstPageAMalformedOneIsRefusedAndAnUnknownOneIsNotFound() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let project = try await api.defaultProject(token)
            let lists = [
                ("/v1/organization/projects", "proj_unknown"),
                ("/v1/organization/projects/\(project)/api_keys", "key_unknown"),
                ("/v1/organization/admin_api_keys", "key_unknown"),
                ("/v1/organization/audit_logs", "audit_unknown"),
                ("/v1/organization/users", "user_unknown"),
            ]
            for (path, unknown) in lists {
                #expect(try await api.request(.get, "\(path)?after=", token: token).status == .ok, "\(path)")
                let missing = try await api.request(.get, "\(path)?after=\(unknown)", token: token)
                #expect(missing.status == .notFound, "\(path)")
                #expect(missing.string("error.code") == "unknown_cursor", "\(path)")
                #expect(missing.string("error.param") == "after", "\(path)")
                let malformed = try await api.request(.get, "\(path)?after=%C3%A9t%C3%A9", token: token)
                #expect(malformed.status == .badRequest, "\(path)")
                #expect(malformed.string("error.param") == "after", "\(path)")
            }
        }
    }

    @Test func anAfterOfAWellFormedIdThatIsNotInTheListIsRefused() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let project = try await api.defaultProject(token)
            let key = try #require(try await api.createKey(token, project: project).string("id"))
            _ = try await api.request(.delete, "/v1/organization/projects/\(project)/api_keys/\(key)", token: token)
            // Deleted keys still list (revoked); a key id of another organization does not.
            let other = try await api.verifiedOrganization("bob@example.com", number: Numbers.usE164, outbox: outbox)
            let otherProject = try await api.defaultProject(other)
            let theirs = try #require(try await api.createKey(other, project: otherProject).string("id"))
            let refused = try await api.request(
                .get, "/v1/organization/projects/\(project)/api_keys?after=\(theirs)", token: token)
            #expect(refused.status == .notFound)
            #expect(refused.string("error.param") == "after")
            // Nor does a key of another project of the same organization, or an admin key.
            let second = try #require(
                try await api.request(.post, "/v1/organization/projects", token: token, json: #"{"name":"B"}"#)
                    .string("id"))
            let secondKey = try #require(try await api.createKey(token, project: second).string("id"))
            let admin = try #require(
                try await api.request(.post, "/v1/organization/admin_api_keys", token: token, json: "{}").string("id"))
            for cursor in [secondKey, admin] {
                let elsewhere = try await api.request(
                    .get, "/v1/organization/projects/\(project)/api_keys?after=\(cursor)", token: token)
                #expect(elsewhere.status == .notFound)
                #expect(elsewhere.string("error.code") == "unknown_cursor")
            }
            let projectKeyAsAdminCursor = try await api.request(
                .get, "/v1/organization/admin_api_keys?after=\(secondKey)", token: token)
            #expect(projectKeyAsAdminCursor.status == .notFound)
        }
    }

    struct BodyCase: Sendable, CustomTestStringConvertible {
        let json: String
        let param: String
        var testDescription: String { json }
    }

    static let keyBodies: [BodyCase] = [
        .init(json: #"{"expires_in_seconds":1e30}"#, param: "expires_in_seconds"),
        .init(json: #"{"expires_in_seconds":9223372036854775808}"#, param: "expires_in_seconds"),
        .init(json: #"{"expires_in_seconds":-1}"#, param: "expires_in_seconds"),
        .init(json: #"{"expires_in_seconds":0}"#, param: "expires_in_seconds"),
        .init(json: #"{"expires_in_seconds":1.5}"#, param: "expires_in_seconds"),
        .init(json: #"{"expires_in_seconds":null}"#, param: "expires_in_seconds"),
        .init(json: #"{"name":null}"#, param: "name"),
    ]

    @Test(arguments: keyBodies)
    func outOfRangeKeyFieldsAreRefusedNamingThem(_ bad: BodyCase) async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let project = try await api.defaultProject(token)
            let response = try await api.createKey(token, project: project, json: bad.json)
            #expect(response.status == .badRequest)
            #expect(response.string("error.param") == bad.param)
            let keys = try await api.request(.get, "/v1/organization/projects/\(project)/api_keys", token: token)
            #expect((keys.value("data") as? [Any])?.isEmpty == true)
        }
    }

    static let graceBodies: [BodyCase] = [
        .init(json: #"{"grace_period_seconds":-1}"#, param: "grace_period_seconds"),
        .init(json: #"{"grace_period_seconds":2592001}"#, param: "grace_period_seconds"),
        .init(json: #"{"grace_period_seconds":9223372036854775807}"#, param: "grace_period_seconds"),
        .init(json: #"{"grace_period_seconds":1e300}"#, param: "grace_period_seconds"),
        .init(json: #"{"grace_period_seconds":null}"#, param: "grace_period_seconds"),
    ]

    @Test(arguments: graceBodies)
    func outOfRangeGracePeriodsAreRefusedAndTheKeyIsNotRotated(_ bad: BodyCase) async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let project = try await api.defaultProject(token)
            let key = try #require(try await api.createKey(token, project: project).string("id"))
            let response = try await api.request(
                .post, "/v1/organization/projects/\(project)/api_keys/\(key)/rotate", token: token, json: bad.json)
            #expect(response.status == .badRequest)
            #expect(response.string("error.param") == bad.param)
            let keys = try await api.request(.get, "/v1/organization/projects/\(project)/api_keys", token: token)
            #expect((keys.value("data") as? [Any])?.count == 1)
        }
    }

    static let limitBodies: [BodyCase] = [
        .init(json: #"{"max_requests_per_1_minute":0}"#, param: "max_requests_per_1_minute"),
        .init(json: #"{"max_requests_per_1_minute":-3}"#, param: "max_requests_per_1_minute"),
        .init(json: #"{"max_requests_per_1_minute":1000000000001}"#, param: "max_requests_per_1_minute"),
        .init(json: #"{"max_tokens_per_1_minute":9223372036854775808}"#, param: "max_tokens_per_1_minute"),
        .init(json: #"{"max_tokens_per_1_minute":2.5}"#, param: "max_tokens_per_1_minute"),
    ]

    @Test(arguments: limitBodies)
    func outOfRangeProjectLimitsAreRefusedNamingThem(_ bad: BodyCase) async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            let project = try await api.defaultProject(token)
            let response = try await api.request(
                .post, "/v1/organization/projects/\(project)/rate_limits", token: token, json: bad.json)
            #expect(response.status == .badRequest)
            #expect(response.string("error.param") == bad.param)
            let shown = try await api.request(.get, "/v1/organization/projects/\(project)/rate_limits", token: token)
            #expect(shown.value("project_override.max_requests_per_1_minute") is NSNull)
        }
    }

    @Test(arguments: ["9223372036854775807", "9223372036854775808", "18446744073709551615", "1073741825"])
    func aGatewayCallDeclaringAnOversizedBodyIsRefusedBeforeAnythingIsRead(_ length: String) async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: { $0.gateway.upstream = .echo }) { api, _ in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let project = try await api.defaultProject(token)
            let key = try #require(try await api.createKey(token, project: project).string("value"))
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            headers[.contentLength] = length
            let response = try await api.request(.post, "/v1/chat/completions", token: key, headers: headers)
            #expect(response.status == .contentTooLarge)
            #expect(response.string("error.code") == "request_too_large")
            #expect(response.string("error.message")?.contains("1 GiB") == true)
            #expect(try await api.request(.get, "/v1/models", token: key).status == .ok)
        }
    }

    @Test func aBodyOverTheEchoUpstreamsLimitNamesThatLimitNotTheManagementOne() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: { $0.gateway.upstream = .echo }) { api, _ in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let project = try await api.defaultProject(token)
            let key = try #require(try await api.createKey(token, project: project).string("value"))
            let big =
                #"{"model":"echo-1","messages":[{"role":"user","content":""#
                + String(repeating: "a", count: 2 << 20) + #""}]}"#
            let response = try await api.request(.post, "/v1/chat/completions", token: key, json: big)
            #expect(response.status == .contentTooLarge)
            #expect(response.string("error.message")?.contains("64 KiB") == false)
            #expect(response.string("error.message")?.contains("echo upstream") == true)
        }
    }

    @Test func hugeMaxTokensAreChargedTheCapNotCutToTheirFirstDigits() {
        let body = ByteBuffer(string: #"{"max_tokens":123456789012345678901234567890}"#)
        let scanned = body.withUnsafeReadableBytes { JSONNumberScan.values(of: "max_tokens", in: $0) }
        #expect(scanned == [JSONNumberScan.maximum])
        #expect(TokenEstimate.tokens(in: body) > 100_000_000)
        #expect(TokenEstimate.tokens(forBytes: .max) == Int.max / 4 + 1)
    }
}

/// The model a call names is read from raw bytes as the token counts are: escapes decoded, message
/// text never mistaken for the key, and anything that is not a short printable name kept as unknown.
@Suite("Model names from bodies")
struct ModelNameScanTests {
    func first(_ json: String, _ key: String = "model") -> String? {
        ByteBuffer(string: json).withUnsafeReadableBytes { JSONStringScan.firstValue(of: key, in: $0) }
    }

    func last(_ json: String, _ key: String = "model") -> String? {
        ByteBuffer(string: json).withUnsafeReadableBytes { JSONStringScan.lastValue(of: key, in: $0) }
    }

    @Test func everyJSONEscapeIsDecodedIncludingSurrogatePairs() {
        let json = #"{"model":"a\"b\\c\/d\b\f\n\r\t\u00e9\u00E9\ud83d\ude00"}"#
        #expect(first(json) == "a\"b\\c/d\u{8}\u{C}\n\r\t\u{E9}\u{E9}\u{1F600}")
        #expect(first(#"{ "model" :"# + "\n\t " + #""gpt-4o" }"#) == "gpt-4o")
        #expect(first(#"{"model":""}"#) == "")
    }

    @Test func anOccurrenceThatDoesNotDecodeIsSkipped() {
        #expect(first(#"{"model":"bad\x","model":"good"}"#) == "good")
        #expect(first(#"{"model":"\ud83d","model":"lone high surrogate"}"#) == "lone high surrogate")
        #expect(first(#"{"model":"\ude00x"}"#) == nil)
        #expect(first(#"{"model":"\ud83d\u0041"}"#) == nil)
        #expect(first(#"{"model":"\u12G4"}"#) == nil)
        #expect(first(#"{"model":"\u12"}"#) == nil)
        #expect(first(#"{"model":5,"model":"string"}"#) == "string")
        #expect(first(#"{"model":null}"#) == nil)
        #expect(first("{\"model\":\"raw\ncontrol\"}") == nil)
        #expect(first(#"{"model":"unterminated"#) == nil)
        #expect(first(#"{"model":"ends in a backslash\"#) == nil)
        #expect(first(#"{"model""#) == nil)
        #expect(last(#"{"model":"kept","model":"bad\q"}"#) == "kept")
    }

    @Test func theKeyInsideMessageTextIsNeverMatched() {
        let quoted = #"{"messages":[{"content":"\"model\": \"x\""}],"model":"gpt-4o"}"#
        #expect(first(quoted) == "gpt-4o")
        #expect(last(quoted) == "gpt-4o")
        let after = #"{"model":"gpt-4o","messages":[{"content":"say \"model\":\"evil\" and \\\"model\\\""}]}"#
        #expect(last(after) == "gpt-4o")
        // A key whose own text begins with a quote is not the key `model`.
        #expect(first(#"{"\"model":"x","model":"y"}"#) == "y")
        #expect(first(#"{"model_name":"x","my_model":"y"}"#) == nil)
    }

    @Test func valuesLongerThanAModelNameAreSkipped() {
        let longest = String(repeating: "a", count: ModelName.maximumLength)
        #expect(first(#"{"model":""# + longest + #""}"#) == longest)
        let tooLong = #"{"model":""# + longest + #"b","model":"short"}"#
        #expect(first(tooLong) == "short")
        // Length is counted after decoding: fifty `é` are a hundred bytes, fifty-one are too many.
        let accents = String(repeating: #"\u00e9"#, count: 50)
        #expect(first(#"{"model":""# + accents + #""}"#)?.utf8.count == 100)
        #expect(first(#"{"model":""# + accents + #"\u00e9"}"#) == nil)
    }

    @Test func namesThatAreNotShortPrintableASCIIAreKeptAsUnknown() {
        let unknown: [String?] = [
            nil, "", "gpt 4o", "gpt-4ö", "a\nb", "a\u{7F}", "\u{0}", String(repeating: "m", count: 101),
        ]
        for raw in unknown {
            #expect(ModelName.clean(raw) == "", "\(String(reflecting: raw))")
        }
        for raw in ["gpt-4o-2024-08-06", "ft:gpt-4o-mini:acme::abc123", "a", String(repeating: "m", count: 100)] {
            #expect(ModelName.clean(raw) == raw)
        }
    }

    @Test func aBodyIsTrustedToNameItsModelsOnlyWithoutEscapesAndBelowTheScansCap() {
        #expect(
            TokenEstimate.freeCandidates(in: ByteBuffer(string: #"{"model":"free-1","messages":[]}"#)) == ["free-1"])
        // An escape could spell a second "model" key that an upstream reads.
        let escaped = #"{"model":"free-1","mod\u0065l":"gpt-4o"}"#
        #expect(TokenEstimate.freeCandidates(in: ByteBuffer(string: escaped)).isEmpty)
        let many = "{" + (0..<16).map { #""t\#($0)":{"model":"free-1"},"# }.joined() + #""model":"gpt-4o"}"#
        #expect(TokenEstimate.freeCandidates(in: ByteBuffer(string: many)).isEmpty)
    }

    @Test func theRequestsModelIsItsFirstCleanName() {
        #expect(TokenEstimate.model(in: ByteBuffer(string: #"{"model":"gpt-4o","messages":[]}"#)) == "gpt-4o")
        #expect(TokenEstimate.model(in: ByteBuffer(string: #"{"model":"gpt-4\u00f6"}"#)) == "")
        #expect(TokenEstimate.model(in: ByteBuffer(string: #"{"messages":[]}"#)) == "")
        #expect(TokenEstimate.model(in: ByteBuffer()) == "")
    }

    @Test func anAnswersModelIsTheFirstItNamesNotOneInTextTheClientChose() {
        let tap = UsageTap(active: true)
        let opening = #"data: {"model":"gpt-4o-2024-08-06","choices":[{"delta":{"role":"assistant"}}]}"# + "\n\n"
        tap.observe(ByteBuffer(string: opening))
        let chunk =
            #"data: {"model":"gpt-4o-2024-08-06","choices":[{"delta":{"content":"\"model\": \"evil\""}}]}"# + "\n\n"
        for _ in 0..<200 { tap.observe(ByteBuffer(string: chunk)) }
        tap.observe(
            ByteBuffer(
                string: #"data: {"model":"gpt-4o-2024-08-06","choices":[],"#
                    + #""usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46}}"# + "\n\n"))
        tap.observe(ByteBuffer(string: "data: [DONE]\n\n"))
        #expect(tap.model == "gpt-4o-2024-08-06")
        #expect(tap.usage?.prompt == 12)
        #expect(tap.usage?.completion == 34)

        #expect(tap.byteCount > 200 * chunk.utf8.count)

        // A response echoes the client's metadata after its own model: the metadata cannot reprice it.
        let response = UsageTap(active: true)
        response.observe(
            ByteBuffer(
                string: #"{"id":"resp_1","object":"response","model":"o3-2025-04-16","output":[],"#
                    + #""usage":{"input_tokens":5,"output_tokens":7},"metadata":{"model":"gpt-4o-mini"}}"#))
        #expect(response.model == "o3-2025-04-16")
        #expect(response.usage?.completion == 7)
    }

    @Test func aTapNamesNoModelWhenTheBodyNamesNoCleanOne() {
        let inactive = UsageTap(active: false)
        inactive.observe(ByteBuffer(string: #"{"model":"gpt-4o"}"#))
        #expect(inactive.model == nil)
        let foreign = UsageTap(active: true)
        foreign.observe(ByteBuffer(string: #"{"model":"gpt 4o","usage":{"prompt_tokens":1}}"#))
        #expect(foreign.model == nil)
        let silent = UsageTap(active: true)
        silent.observe(ByteBuffer(string: #"{"usage":{"prompt_tokens":1}}"#))
        #expect(silent.model == nil)
    }
}
