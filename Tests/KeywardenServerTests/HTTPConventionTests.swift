import Foundation
import HTTPTypes
import KeywardenServer
import Testing

@Suite("HTTP conventions")
struct HTTPConventionTests {
    @Test func unknownRouteGetsTheErrorEnvelopeWith404() async throws {
        try await withApp { api, _ in
            let response = try await api.request(.get, "/v1/nothing-here")
            #expect(response.status == .notFound)
            #expect(response.errorFields == ["code", "message", "param", "type"])
            #expect(response.string("error.code") == "unknown_url")
            #expect(response.json["error"].map { ($0 as? [String: Any])?["param"] is NSNull } == true)
        }
    }

    @Test func wrongMethodGets405ListingTheAllowedOnes() async throws {
        try await withApp { api, _ in
            let response = try await api.request(.delete, "/v1/organization/projects/proj_abc")
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers[.allow] == "GET, HEAD, POST")
            #expect(response.string("error.code") == "method_not_allowed")
        }
    }

    @Test func aWrongMethodOnAnOwnPathListsThatPathsMethodsNotTheGatewaysCatchAll() async throws {
        try await withApp(configure: { $0.gateway.upstream = .echo }) { api, _ in
            let token = try await api.token()
            for (path, allowed) in [
                ("/v1/me", "GET, HEAD"), ("/v1/organization", "GET, HEAD, POST"), ("/v1/api-keys", "POST"),
            ] {
                let response = try await api.request(.delete, path, token: token)
                #expect(response.status == .methodNotAllowed, "\(path)")
                #expect(response.headers[.allow] == allowed, "\(path)")
            }
        }
    }

    @Test func anEmptyNumberInTheQueryIsRefusedWhileAnEmptyCursorCountsAsAbsent() async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            for path in ["/v1/organization/users", "/v1/organization/invites", "/v1/organization/projects"] {
                let empty = try await api.request(.get, path + "?after=&limit=", token: token)
                #expect(empty.status == .badRequest, "\(path)")
                #expect(empty.string("error.param") == "limit", "\(path)")
                #expect(try await api.request(.get, path + "?after=", token: token).status == .ok, "\(path)")
            }
        }
    }

    @Test func headAnswersGetRoutesWithTheirHeadersAndNoBody() async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            for path in ["/healthz", "/v1/me", "/v1/organization/projects", "/openapi.yaml"] {
                let get = try await api.request(.get, path, token: token)
                let head = try await api.request(.head, path, token: token)
                #expect(head.status == get.status, "\(path)")
                #expect(head.body.isEmpty, "\(path)")
                #expect(head.headers[.contentType] == get.headers[.contentType], "\(path)")
            }
        }
    }

    @Test func everyResponseCarriesARequestID() async throws {
        try await withApp { api, _ in
            let responses = [
                try await api.request(.get, "/healthz"),
                try await api.request(.get, "/nowhere"),
                try await api.request(.post, "/v1/auth/signup", json: "{"),
                try await api.request(.get, "/v1/me"),
            ]
            let ids = responses.compactMap { $0.headers[.init("x-request-id")!] }
            #expect(ids.count == responses.count)
            #expect(Set(ids).count == ids.count)
            #expect(ids.allSatisfy { $0.hasPrefix("req_") })
        }
    }

    struct MalformedCase: Sendable, CustomTestStringConvertible {
        let name: String
        let body: [UInt8]
        let code: String
        let param: String?
        var testDescription: String { name }
    }

    static let malformedSignUps: [MalformedCase] = [
        .init(name: "empty body", body: [], code: "missing_required_parameter", param: "email"),
        .init(name: "white space only", body: Array(" \n".utf8), code: "invalid_json", param: nil),
        .init(name: "not JSON", body: Array("email=ada".utf8), code: "invalid_json", param: nil),
        .init(
            name: "truncated JSON", body: Array(#"{"email":"ada@example.com""#.utf8), code: "invalid_json", param: nil),
        .init(
            name: "invalid UTF-8",
            body: Array(#"{"email":"ada@example.com","password":""#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8),
            code: "invalid_json", param: nil),
        .init(name: "array", body: Array("[1,2]".utf8), code: "invalid_json", param: nil),
        .init(
            name: "missing password", body: Array(#"{"email":"ada@example.com"}"#.utf8),
            code: "missing_required_parameter", param: "password"),
        .init(
            name: "number for email", body: Array(#"{"email":5,"password":"correct horse battery"}"#.utf8),
            code: "invalid_type", param: "email"),
        .init(
            name: "null password", body: Array(#"{"email":"ada@example.com","password":null}"#.utf8),
            code: "invalid_type", param: "password"),
        .init(
            name: "object for name",
            body: Array(#"{"email":"ada@example.com","password":"correct horse battery","name":{}}"#.utf8),
            code: "invalid_type", param: "name"),
        .init(
            name: "unknown field",
            body: Array(#"{"email":"ada@example.com","password":"correct horse battery","admin":true}"#.utf8),
            code: "unknown_parameter", param: "admin"),
        .init(
            name: "control character in name",
            body: Array(#"{"email":"ada@example.com","password":"correct horse battery","name":"A\u0000da"}"#.utf8),
            code: "invalid_value", param: "name"),
        .init(
            name: "long name",
            body: Array(
                #"{"email":"ada@example.com","password":"correct horse battery","name":"\#(String(repeating: "n", count: 300))"}"#
                    .utf8),
            code: "invalid_value", param: "name"),
        .init(
            name: "long password",
            body: Array(#"{"email":"ada@example.com","password":"\#(String(repeating: "p", count: 2000))"}"#.utf8),
            code: "invalid_value", param: "password"),
        .init(
            name: "long email",
            body: Array(
                #"{"email":"\#(String(repeating: "e", count: 300))@example.com","password":"correct horse battery"}"#
                    .utf8),
            code: "invalid_email", param: "email"),
    ]

    @Test(arguments: malformedSignUps)
    func malformedSignUpIsRefusedWithAUsefulErrorAndWritesNothing(_ malformed: MalformedCase) async throws {
        try await withApp { api, _ in
            let response = try await api.request(.post, "/v1/auth/signup", rawBody: malformed.body)
            #expect(response.status == .badRequest)
            #expect(response.errorFields == ["code", "message", "param", "type"])
            #expect(response.string("error.code") == malformed.code)
            #expect(response.string("error.param") == malformed.param)
            #expect(response.string("error.message")?.isEmpty == false)
            // Nothing was half-written: the address is still free.
            #expect(try await api.signUp().status == .created)
        }
    }

    @Test func oversizedBodyIsRefusedWith413() async throws {
        try await withApp { api, _ in
            let megabyte = String(repeating: "x", count: 1_048_576)
            let response = try await api.request(
                .post, "/v1/auth/signup", json: #"{"email":"ada@example.com","password":"\#(megabyte)"}"#)
            #expect(response.status == .contentTooLarge)
            #expect(response.string("error.code") == "request_too_large")
            #expect(try await api.signUp().status == .created)
        }
    }

    @Test func signedInRoutesKeepTheManagementBodyLimitAndTheResponseEncoder() async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            // Over the 64 KiB management limit, far under Hummingbird's own default of 2 MiB.
            let name = String(repeating: "x", count: 100_000)
            let tooLarge = try await api.request(
                .post, "/v1/organization/projects", token: token, json: #"{"name":"\#(name)"}"#)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(tooLarge.string("error.code") == "request_too_large")
            // Keys sorted, slashes unescaped: the shared encoder, not the framework's default.
            let organization = try await api.request(.get, "/v1/organization", token: token)
            let text = String(decoding: organization.body, as: UTF8.self)
            #expect(text.hasPrefix(#"{"created_at":"#))
            let me = try await api.request(.get, "/v1/me", token: token)
            #expect(String(decoding: me.body, as: UTF8.self).hasPrefix(#"{"created_at":"#))
        }
    }

    @Test func wrongTypeInProjectBodyNamesTheField() async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            let response = try await api.request(
                .post, "/v1/organization/projects", token: token, json: #"{"name":42}"#)
            #expect(response.status == .badRequest)
            #expect(response.string("error.param") == "name")
            let empty = try await api.request(
                .post, "/v1/organization/projects", token: token, json: #"{"name":"   "}"#)
            #expect(empty.string("error.code") == "missing_required_parameter")
        }
    }

    @Test func healthAndReadinessAnswer() async throws {
        try await withApp { api, _ in
            let health = try await api.request(.get, "/healthz")
            #expect(health.status == .ok)
            #expect(health.string("status") == "ok")
            let ready = try await api.request(.get, "/readyz")
            #expect(ready.status == .ok)
            #expect(ready.string("status") == "ready")
        }
    }

    @Test func readinessFailsWhenTheDatabaseIsGone() async throws {
        try await withApp { api, services in
            try await services.database.shutdown()
            let ready = try await api.request(.get, "/readyz")
            #expect(ready.status == .serviceUnavailable)
            #expect(ready.string("error.code") == "database_unavailable")
        }
    }

    @Test func secretsNeverAppearInErrorMessages() async throws {
        try await withApp { api, _ in
            try await api.signUp()
            let login = try await api.request(
                .post, "/v1/auth/login", json: #"{"email":"ada@example.com","password":"secret-guess-1234"}"#)
            #expect(!String(decoding: login.body, as: UTF8.self).contains("secret-guess-1234"))
            let token = "sess_" + String(repeating: "A", count: 43)
            let me = try await api.request(.get, "/v1/me", token: token)
            #expect(!String(decoding: me.body, as: UTF8.self).contains(token))
        }
    }
}
