import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenServer
import SQLKit
import Testing

let operatorToken = String(repeating: "operator-token-", count: 3)

extension TestAPI {
    /// `POST /v1/keys/verify` with the operator token.
    func verifyKey(_ key: String) async throws -> TestResponse {
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(operatorToken)"
        return try await request(.post, "/v1/keys/verify", json: #"{"key":"\#(key)"}"#, headers: headers)
    }

    /// The id of the caller's first project.
    func defaultProject(_ token: String) async throws -> String {
        let projects = try await request(.get, "/v1/organization/projects", token: token)
        return try #require((projects.value("data") as? [[String: Any]])?.first?["id"] as? String)
    }

    func createKey(_ token: String, project: String, json: String = #"{"name":"ci"}"#) async throws -> TestResponse {
        try await request(.post, "/v1/organization/projects/\(project)/api_keys", token: token, json: json)
    }
}

@Suite("API keys and the issuance policy")
struct APIKeyAPITests {
    static func configure(_ configuration: inout KeywardenConfiguration) {
        configuration.keys.operatorToken = operatorToken
    }

    @Test func unverifiedOrganizationIsRefusedOnEveryCreationPath() async throws {
        try await withApp(configure: Self.configure) { api, services in
            let signUp = try await api.signUp()
            let token = try #require(signUp.string("session_token"))
            let project = try #require(signUp.string("default_project.id"))
            let legacy = try await services.keys.importKeys(
                [
                    .init(
                        name: "old", value: "sk-legacy-0123456789abcdefghij", sha256: nil,
                        createdAt: Date(timeIntervalSince1970: 1_690_000_000))
                ],
                project: project)

            var refusals = [
                try await api.createKey(token, project: project),
                try await api.request(
                    .post, "/v1/organization/projects/\(project)/service_accounts", token: token,
                    json: #"{"name":"bot"}"#),
                try await api.request(.post, "/v1/organization/admin_api_keys", token: token, json: #"{"name":"ops"}"#),
                try await api.request(
                    .post, "/v1/organization/projects/\(project)/api_keys/\(legacy[0].id)/rotate", token: token),
            ]
            refusals.append(
                try await api.request(.post, "/v1/api-keys", token: "sk-legacy-0123456789abcdefghij", json: "{}"))
            for response in refusals {
                #expect(response.status == .forbidden)
                #expect(response.string("error.code") == "phone_verification_required")
                #expect(response.string("error.message")?.contains("keep working") == true)
            }
            // The legacy key itself still works.
            let verified = try await api.verifyKey("sk-legacy-0123456789abcdefghij")
            #expect(verified.value("valid") as? Bool == true)
            #expect(verified.string("project_id") == project)
        }
    }

    /// `curl .../v1/api-keys -H "Authorization: Bearer EXISTING_KEY" --data ''`: a form content
    /// type and no body at all.
    func briefsCall(_ api: TestAPI, key: String) async throws -> TestResponse {
        var headers = HTTPFields()
        headers[.contentType] = "application/x-www-form-urlencoded"
        headers[.contentLength] = "0"
        return try await api.request(.post, "/v1/api-keys", token: key, rawBody: [], headers: headers)
    }

    @Test func theBriefsCallWithALegacyKeyOfAnUnverifiedOrganizationSaysToVerifyWhileSignedIn() async throws {
        try await withApp(configure: Self.configure) { api, services in
            let signUp = try await api.signUp()
            let project = try #require(signUp.string("default_project.id"))
            _ = try await services.keys.importKeys(
                [
                    .init(
                        name: "old", value: "sk-legacy-0123456789abcdefghij", sha256: nil,
                        createdAt: Date(timeIntervalSince1970: 1_690_000_000))
                ],
                project: project)
            let refused = try await briefsCall(api, key: "sk-legacy-0123456789abcdefghij")
            #expect(refused.status == .forbidden)
            #expect(refused.string("error.code") == "phone_verification_required")
            let message = try #require(refused.string("error.message"))
            #expect(message.contains("POST /v1/organization/phone_verifications"))
            #expect(message.contains("session token"))
        }
    }

    @Test func theBriefsCallWithAVerifiedOrganizationsKeyCreatesAKeyWithEveryDefault() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: Self.configure) { api, _ in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let project = try await api.defaultProject(token)
            let key = try #require(try await api.createKey(token, project: project).string("value"))
            let created = try await briefsCall(api, key: key)
            #expect(created.status == .created)
            #expect(created.string("value")?.hasPrefix("sk-proj-") == true)
            #expect(created.string("project_id") == project)
            #expect(created.string("permissions") == "all")
        }
    }

    @Test func verifiedOrganizationCreatesKeysOnEveryPath() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: Self.configure) { api, _ in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let project = try await api.defaultProject(token)

            let created = try await api.createKey(
                token, project: project, json: #"{"name":"ci","permissions":"read_only"}"#)
            #expect(created.status == .created)
            let value = try #require(created.string("value"))
            #expect(value.hasPrefix("sk-proj-"))
            #expect(created.string("redacted_value") == "sk-proj-..." + value.suffix(4))
            #expect(created.string("permissions") == "read_only")
            #expect(created.value("legacy") as? Bool == false)
            let id = try #require(created.string("id"))

            let listed = try await api.request(.get, "/v1/organization/projects/\(project)/api_keys", token: token)
            #expect(!String(decoding: listed.body, as: UTF8.self).contains(value))
            let fetched = try await api.request(
                .get, "/v1/organization/projects/\(project)/api_keys/\(id)", token: token)
            #expect(fetched.value("value") == nil)

            let account = try await api.request(
                .post, "/v1/organization/projects/\(project)/service_accounts", token: token, json: #"{"name":"bot"}"#)
            #expect(account.status == .created)
            let accountKey = try #require(account.string("api_key.value"))
            #expect(accountKey.hasPrefix("sk-svcacct-"))

            let admin = try await api.request(
                .post, "/v1/organization/admin_api_keys", token: token, json: #"{"name":"ops"}"#)
            let adminKey = try #require(admin.string("value"))
            #expect(adminKey.hasPrefix("sk-admin-"))

            let byKey = try await api.request(.post, "/v1/api-keys", token: accountKey, json: #"{"name":"from key"}"#)
            #expect(byKey.status == .created)
            #expect(byKey.string("project_id") == project)
            #expect(try #require(byKey.string("value")).hasPrefix("sk-svcacct-"))

            let readOnly = try await api.request(.post, "/v1/api-keys", token: value, json: "{}")
            #expect(readOnly.status == .forbidden)

            // Admin keys work on management endpoints only; project keys never do.
            let asAdmin = try await api.request(.get, "/v1/organization/projects", token: adminKey)
            #expect(asAdmin.status == .ok)
            let adminOnKeys = try await api.request(.post, "/v1/api-keys", token: adminKey, json: "{}")
            #expect(adminOnKeys.status == .unauthorized)
            let adminOnMe = try await api.request(.get, "/v1/me", token: adminKey)
            #expect(adminOnMe.status == .unauthorized)
            let projectOnAdmin = try await api.request(.get, "/v1/organization/projects", token: accountKey)
            #expect(projectOnAdmin.status == .forbidden)
        }
    }

    @Test func perUserScopeNeedsTheCreatorsOwnVerification() async throws {
        let outbox = TestOutbox()
        try await withApp(
            outbox: outbox,
            configure: {
                Self.configure(&$0)
                $0.keys.verificationScope = .user
            }
        ) { api, services in
            let ada = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let organization = try #require(try await api.request(.get, "/v1/organization", token: ada).string("id"))
            let project = try await api.defaultProject(ada)
            let grace = try await api.signUp("grace@example.com")
            try await services.addMember(try #require(grace.string("user.id")), to: organization, role: "owner")
            var headers = HTTPFields()
            headers[.init("Keywarden-Organization")!] = organization

            let byAda = try await api.createKey(ada, project: project)
            #expect(byAda.status == .created)
            let byGrace = try await api.request(
                .post, "/v1/organization/projects/\(project)/api_keys", token: grace.string("session_token"),
                json: #"{"name":"grace"}"#, headers: headers)
            #expect(byGrace.status == .forbidden)
            #expect(byGrace.string("error.code") == "phone_verification_required")
        }
    }

    @Test func keysMadeBeforeAFutureEnforcementDateKeepWorkingAfterIt() async throws {
        let time = ManualClock()
        try await withApp(
            clock: time.clock,
            configure: {
                Self.configure(&$0)
                $0.keys.enforcementDate = Date(timeIntervalSince1970: 1_750_000_000 + 3600)
            }
        ) { api, _ in
            let signUp = try await api.signUp()
            let token = try #require(signUp.string("session_token"))
            let project = try #require(signUp.string("default_project.id"))
            let early = try await api.createKey(token, project: project)
            #expect(early.status == .created)
            #expect(early.value("legacy") as? Bool == true)
            let value = try #require(early.string("value"))

            time.advance(by: 3601)
            #expect(try await api.verifyKey(value).value("valid") as? Bool == true)
            // The session is an hour old: it confirms it is the person before making a key.
            _ = try await api.request(
                .post, "/v1/auth/reauthenticate", token: token, json: #"{"password":"correct horse battery"}"#)
            let late = try await api.createKey(token, project: project)
            #expect(late.string("error.code") == "phone_verification_required")
        }
    }

    @Test func revocationIsImmediateAndRotationKeepsTheOldKeyForTheGracePeriod() async throws {
        let outbox = TestOutbox()
        let time = ManualClock()
        try await withApp(clock: time.clock, outbox: outbox, configure: Self.configure) { api, services in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let project = try await api.defaultProject(token)
            let first = try await api.createKey(token, project: project)
            let firstValue = try #require(first.string("value"))
            let firstID = try #require(first.string("id"))
            let deleted = try await api.request(
                .delete, "/v1/organization/projects/\(project)/api_keys/\(firstID)", token: token)
            #expect(deleted.value("deleted") as? Bool == true)
            let revoked = try await api.verifyKey(firstValue)
            #expect(revoked.value("valid") as? Bool == false)
            #expect(revoked.string("code") == "revoked")

            let second = try await api.createKey(token, project: project)
            let secondValue = try #require(second.string("value"))
            let secondID = try #require(second.string("id"))
            var headers = HTTPFields()
            headers[.init("Idempotency-Key")!] = "rotate-1"
            let rotated = try await api.request(
                .post, "/v1/organization/projects/\(project)/api_keys/\(secondID)/rotate", token: token,
                json: #"{"grace_period_seconds":60}"#, headers: headers)
            #expect(rotated.status == .created)
            let newValue = try #require(rotated.string("value"))
            #expect(rotated.string("rotated_from") == secondID)
            let retried = try await api.request(
                .post, "/v1/organization/projects/\(project)/api_keys/\(secondID)/rotate", token: token,
                json: #"{"grace_period_seconds":60}"#, headers: headers)
            #expect(retried.string("value") == newValue)
            #expect(retried.string("id") == rotated.string("id"))
            let keys = try await api.request(.get, "/v1/organization/projects/\(project)/api_keys", token: token)
            #expect((keys.value("data") as? [Any])?.count == 3)

            time.advance(by: 59)
            #expect(try await api.verifyKey(secondValue).value("valid") as? Bool == true)
            time.advance(by: 2)
            #expect(try await api.verifyKey(secondValue).string("code") == "expired")
            #expect(try await api.verifyKey(newValue).value("valid") as? Bool == true)

            try await services.keys.flushUses()
            let used = try await api.request(
                .get, "/v1/organization/projects/\(project)/api_keys/\(try #require(rotated.string("id")))",
                token: token)
            #expect(used.value("last_used_at") is Int)
        }
    }

    @Test func mistypedAndUnknownKeysAreRefusedWithTheKeyMasked() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: Self.configure) { api, _ in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let project = try await api.defaultProject(token)
            let value = try #require(try await api.createKey(token, project: project).string("value"))
            var mistyped = Array(value)
            mistyped[12] = mistyped[12] == "a" ? "b" : "a"
            let mistypedKey = String(mistyped)
            #expect(try await api.verifyKey(mistypedKey).string("code") == "malformed")
            let invented = APIKeyFormat().generate(.project)
            #expect(try await api.verifyKey(invented).string("code") == "not_found")

            let refused = try await api.request(.post, "/v1/api-keys", token: mistypedKey, json: "{}")
            #expect(refused.status == .unauthorized)
            #expect(refused.string("error.code") == "invalid_api_key")
            let message = try #require(refused.string("error.message"))
            #expect(message.contains("sk-proj-****" + mistypedKey.suffix(4)))
            #expect(!message.contains(mistypedKey))

            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(operatorToken)"
            let spaced = try await api.request(
                .post, "/v1/keys/verify", json: " {\n \"key\" : \"\(value)\" }\n", headers: headers)
            #expect(spaced.value("valid") as? Bool == true)
            let escaped = try await api.request(
                .post, "/v1/keys/verify", json: #"{"key":"\#(value.prefix(2))\u002d\#(value.dropFirst(3))"}"#,
                headers: headers)
            #expect(escaped.value("valid") as? Bool == true)
            let extra = try await api.request(
                .post, "/v1/keys/verify", json: #"{"key":"\#(value)","also":1}"#, headers: headers)
            #expect(extra.string("error.code") == "unknown_parameter")
            let notJSON = try await api.request(.post, "/v1/keys/verify", json: "key=\(value)", headers: headers)
            #expect(notJSON.string("error.code") == "invalid_json")

            let noToken = try await api.request(.post, "/v1/keys/verify", json: #"{"key":"\#(value)"}"#)
            #expect(noToken.status == .unauthorized)
            #expect(noToken.string("error.code") == "invalid_operator_token")
        }
    }

    @Test func keyValuesNeverReachStorageLogsListsOrTheAuditLog() async throws {
        let outbox = TestOutbox()
        let logs = CapturedLogs()
        try await withApp(outbox: outbox, logger: logs.logger, configure: Self.configure) { api, services in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let project = try await api.defaultProject(token)
            let created = try await api.createKey(token, project: project)
            let value = try #require(created.string("value"))
            let id = try #require(created.string("id"))
            let rotated = try await api.request(
                .post, "/v1/organization/projects/\(project)/api_keys/\(id)/rotate", token: token)
            let rotatedValue = try #require(rotated.string("value"))
            _ = try await api.verifyKey(value)
            _ = try await api.request(.post, "/v1/api-keys", token: rotatedValue, json: "{}")
            let listed = try await api.request(.get, "/v1/organization/projects/\(project)/api_keys", token: token)
            let audit = try await api.request(.get, "/v1/organization/audit_logs", token: token)

            let stored = try await services.database.withConnection { db in
                var text = ""
                for table in ["api_keys", "audit_logs", "phone_verifications", "sessions"] {
                    for row in try await db.raw("SELECT * FROM \(ident: table)").all() {
                        for column in row.allColumns {
                            text += (try? row.decode(column: column, as: String.self)) ?? ""
                        }
                    }
                }
                return text
            }
            for secret in [value, rotatedValue] {
                #expect(!stored.contains(secret))
                #expect(!logs.all.contains { $0.contains(secret) })
                #expect(!String(decoding: listed.body, as: UTF8.self).contains(secret))
                #expect(!String(decoding: audit.body, as: UTF8.self).contains(secret))
            }
        }
    }
}

@Suite("Key import file")
struct KeyImportFileTests {
    @Test func csvWithQuotesDatesAndDigestsIsRead() throws {
        let text = """
            name,key,sha256,created_at
            "old, quoted",sk-abcdefghijklmnopqrstuvwxyz0123,,2023-06-01T00:00:00Z
            by digest,,\(String(repeating: "a", count: 64)),1690000000

            """
        let keys = try KeyImportFile.parse(text)
        #expect(keys.count == 2)
        #expect(keys[0].name == "old, quoted")
        #expect(keys[0].value == "sk-abcdefghijklmnopqrstuvwxyz0123")
        #expect(keys[0].createdAt == Date(timeIntervalSince1970: 1_685_577_600))
        #expect(keys[1].sha256 == String(repeating: "a", count: 64))
        #expect(keys[1].createdAt == Date(timeIntervalSince1970: 1_690_000_000))
        #expect(throws: KeyImportFile.ImportError.self) {
            try KeyImportFile.parse("name,created_at\nx,2023-01-01T00:00:00Z")
        }
        #expect(throws: KeyImportFile.ImportError.self) {
            try KeyImportFile.parse("name,key,created_at\nx,sk-a,yesterday")
        }
    }

    @Test func keysChangedByAnotherProcessReachTheIndex() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: APIKeyAPITests.configure) { api, services in
            let signUp = try await api.signUp()
            let project = try #require(signUp.string("default_project.id"))
            // Another process (the command line) imports a key straight into storage.
            let other = KeywardenServices(
                database: services.database, configuration: KeywardenConfiguration(), secret: testSecret,
                logger: quietLogger, hasher: testHasher)
            let since = Date()
            _ = try await other.keys.importKeys(
                [
                    .init(
                        name: "cli", value: "sk-cliimported0123456789abcdef", sha256: nil,
                        createdAt: Date(timeIntervalSince1970: 1_690_000_000))
                ],
                project: project)
            #expect(try await api.verifyKey("sk-cliimported0123456789abcdef").string("code") == "not_found")
            #expect(try await services.keys.refreshIndex(changedSince: since.addingTimeInterval(-5)) == 1)
            #expect(try await api.verifyKey("sk-cliimported0123456789abcdef").value("valid") as? Bool == true)
        }
    }
}
