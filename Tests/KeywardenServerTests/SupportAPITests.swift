import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenServer
import Testing

extension TestAPI {
    /// Files a support request for the caller's organization.
    func fileSupportRequest(
        _ token: String?, reason: String = "no_mobile_phone", details: String = "I only have a landline.",
        headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        try await request(
            .post, "/v1/organization/support_requests", token: token,
            json: #"{"reason":"\#(reason)","details":"\#(details)"}"#, headers: headers)
    }
}

@Suite("Support requests API")
struct SupportAPITests {
    @Test func anOwnerFilesARequestAndASecondOpenOneIsRefused() async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            let filed = try await api.fileSupportRequest(token)
            #expect(filed.status == .created)
            #expect(filed.string("object") == "organization.support_request")
            #expect(filed.string("status") == "open")
            #expect(filed.string("reason") == "no_mobile_phone")
            #expect(filed.string("details") == "I only have a landline.")
            #expect(filed.value("created_at") is Int)
            #expect(filed.value("decided_at") is NSNull)
            #expect(filed.value("decline_reason") is NSNull)
            // Who decided it is the console's to know.
            #expect(filed.value("decided_by") == nil)
            #expect(try #require(filed.string("id")).hasPrefix("supreq_"))

            let again = try await api.fileSupportRequest(token, reason: "code_never_arrives")
            #expect(again.status == .conflict)
            #expect(again.string("error.code") == "support_request_exists")
            #expect(again.errorFields == ["code", "message", "param", "type"])
            #expect(try await api.auditTypes(token).contains("support_request.created"))
        }
    }

    @Test func aReaderCannotFileButEveryMemberSeesTheOrganizationsRequests() async throws {
        try await withApp { api, services in
            let owner = try await api.signUp("ada@example.com")
            let ownerToken = try #require(owner.string("session_token"))
            let organization = try #require(owner.string("organization.id"))
            let reader = try await api.signUp("grace@example.com")
            let readerToken = try #require(reader.string("session_token"))
            try await services.addReader(try #require(reader.string("user.id")), to: organization)
            var headers = HTTPFields()
            headers[.init("Keywarden-Organization")!] = organization

            let refused = try await api.fileSupportRequest(readerToken, headers: headers)
            #expect(refused.status == .forbidden)
            #expect(refused.string("error.code") == "insufficient_permissions")

            let filed = try await api.fileSupportRequest(ownerToken)
            let id = try #require(filed.string("id"))
            let listed = try await api.request(
                .get, "/v1/organization/support_requests", token: readerToken, headers: headers)
            #expect(listed.status == .ok)
            #expect(listed.string("object") == "list")
            let data = try #require(listed.value("data") as? [[String: Any]])
            #expect(data.map { $0["id"] as? String } == [id])
            #expect(listed.string("first_id") == id)
            #expect(listed.string("last_id") == id)
            #expect(listed.value("has_more") as? Bool == false)

            let one = try await api.request(
                .get, "/v1/organization/support_requests/\(id)", token: readerToken, headers: headers)
            #expect(one.status == .ok)
            #expect(one.string("status") == "open")
            #expect(one.string("details") == "I only have a landline.")
        }
    }

    @Test func anotherOrganizationsRequestIsNotFound() async throws {
        try await withApp { api, _ in
            let ada = try await api.token()
            let id = try #require(try await api.fileSupportRequest(ada).string("id"))
            let eve = try await api.token("eve@example.com")
            let hidden = try await api.request(.get, "/v1/organization/support_requests/\(id)", token: eve)
            #expect(hidden.status == .notFound)
            #expect(hidden.string("error.code") == "support_request_not_found")
            let list = try await api.request(.get, "/v1/organization/support_requests", token: eve)
            #expect((list.value("data") as? [Any])?.isEmpty == true)
            let malformed = try await api.request(.get, "/v1/organization/support_requests/not-an-id", token: eve)
            #expect(malformed.status == .notFound)
            #expect(malformed.string("error.code") == "support_request_not_found")
        }
    }

    @Test func filingChecksItsFieldsAndRefusesUnknownOnes() async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            let missing = try await api.request(
                .post, "/v1/organization/support_requests", token: token, json: #"{"details":"help"}"#)
            #expect(missing.status == .badRequest)
            #expect(missing.string("error.code") == "missing_required_parameter")
            #expect(missing.string("error.param") == "reason")
            let unknownReason = try await api.fileSupportRequest(token, reason: "bored")
            #expect(unknownReason.status == .badRequest)
            #expect(unknownReason.string("error.code") == "invalid_value")
            #expect(unknownReason.string("error.param") == "reason")
            let saysNothing = try await api.fileSupportRequest(token, reason: "other", details: "  ")
            #expect(saysNothing.status == .badRequest)
            #expect(saysNothing.string("error.param") == "details")
            let tooLong = try await api.fileSupportRequest(token, details: String(repeating: "a", count: 2001))
            #expect(tooLong.status == .badRequest)
            #expect(tooLong.string("error.param") == "details")
            let unknownField = try await api.request(
                .post, "/v1/organization/support_requests", token: token,
                json: #"{"reason":"other","details":"help","urgent":true}"#)
            #expect(unknownField.status == .badRequest)
            #expect(unknownField.string("error.code") == "unknown_parameter")
            #expect(unknownField.string("error.param") == "urgent")
            let listed = try await api.request(.get, "/v1/organization/support_requests", token: token)
            #expect((listed.value("data") as? [Any])?.isEmpty == true)
        }
    }

    @Test func aVerifiedOrganizationHasNothingToAskFor() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let refused = try await api.fileSupportRequest(token)
            #expect(refused.status == .conflict)
            #expect(refused.string("error.code") == "invalid_value")
        }
    }

    @Test func listsArePagedAndTheirLimitIsRangeChecked() async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            for limit in ["0", "101", "ten"] {
                let refused = try await api.request(
                    .get, "/v1/organization/support_requests?limit=\(limit)", token: token)
                #expect(refused.status == .badRequest, "limit=\(limit)")
                #expect(refused.string("error.code") == "invalid_value")
                #expect(refused.string("error.param") == "limit")
            }
            let malformed = try await api.request(
                .get, "/v1/organization/support_requests?after=proj_123", token: token)
            #expect(malformed.status == .badRequest)
            #expect(malformed.string("error.param") == "after")
            let unknown = try await api.request(
                .get, "/v1/organization/support_requests?after=supreq_0123456789", token: token)
            #expect(unknown.status == .notFound)
            #expect(unknown.string("error.code") == "unknown_cursor")
        }
    }

    @Test func signedOutCallersAndProjectKeysAreRefused() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            let signedOut = try await api.fileSupportRequest(nil)
            #expect(signedOut.status == .unauthorized)
            #expect(signedOut.string("error.code") == "unauthenticated")
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let project = try await api.defaultProject(token)
            let key = try #require(try await api.createKey(token, project: project).string("value"))
            let refused = try await api.request(.get, "/v1/organization/support_requests", token: key)
            #expect(refused.status == .forbidden)
            #expect(refused.string("error.code") == "insufficient_permissions")
        }
    }
}
