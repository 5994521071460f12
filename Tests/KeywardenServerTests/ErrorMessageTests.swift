import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenServer
import Testing

/// Refusals that tell a person what to do next, instead of leaving them stuck.
@Suite("Error messages that say what to do")
struct ErrorMessageTests {
    @Test func aGatewayCallWithTheGatewayOffSaysHowToTurnItOn() async throws {
        try await withApp { api, _ in
            let response = try await api.request(.post, "/v1/chat/completions", json: "{}")
            #expect(response.status == .notFound)
            #expect(response.string("error.message")?.contains("--upstream") == true)
            // A mistyped management path is not about the gateway.
            let token = try await api.token()
            let mistyped = try await api.request(.get, "/v1/organization/projectz", token: token)
            #expect(mistyped.status == .notFound)
            #expect(mistyped.string("error.message")?.contains("--upstream") == false)
        }
    }

    @Test func aSessionTokenOnAGatewayPathIsToldWhichCredentialThePathNeeds() async throws {
        try await withApp(configure: { $0.gateway.upstream = .echo }) { api, _ in
            let token = try await api.token()
            let response = try await api.request(.post, "/v1/chat/completions", token: token, json: "{}")
            #expect(response.status == .unauthorized)
            #expect(response.string("error.code") == "invalid_api_key")
            let message = try #require(response.string("error.message"))
            #expect(message.contains("sk-proj-"))
            #expect(message.contains("Session tokens"))
        }
    }

    @Test func aMistypedManagementPathIsA404NotAnAPIKeyRefusalWithTheGatewayOn() async throws {
        try await withApp(configure: { $0.gateway.upstream = .echo }) { api, _ in
            let token = try await api.token()
            for path in ["/v1/organization/projectz", "/v1/me/settings", "/v1/auth/sign-in", "/v1/organization/x/y"] {
                let response = try await api.request(.get, path, token: token)
                #expect(response.status == .notFound, "\(path)")
                #expect(response.string("error.code") == "unknown_url", "\(path)")
                #expect(response.string("error.message")?.contains("/openapi.yaml") == true, "\(path)")
            }
        }
    }

    @Test(arguments: ["USA", "us1", "U", "Ü S"])
    func aCountryThatIsNotATwoLetterCodeIsToldTheForm(_ country: String) async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            let response = try await api.request(
                .post, "/v1/organization/phone_verifications", token: token,
                json: #"{"phone_number":"2015550123","country":"\#(country)"}"#)
            #expect(response.status == .badRequest)
            #expect(response.string("error.param") == "country")
            #expect(response.string("error.message")?.contains("two-letter") == true)
            #expect(response.string("error.message")?.contains("US") == true)
        }
    }

    @Test(arguments: ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])
    func aBodyOfAnotherContentTypeIsToldToBeJSON(_ contentType: String) async throws {
        try await withApp { api, _ in
            var headers = HTTPFields()
            headers[.contentType] = contentType
            let response = try await api.request(
                .post, "/v1/auth/signup",
                rawBody: Array(#"{"email":"ada@example.com","password":"correct horse battery"}"#.utf8),
                headers: headers)
            #expect(response.status == .unsupportedMediaType)
            #expect(response.string("error.code") == "unsupported_content_type")
            #expect(response.string("error.message")?.contains("application/json") == true)
            #expect(try await api.signUp().status == .created)
        }
    }
}
