import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeywardenCore
import KeywardenServer
import Testing

/// Runs `body` with a client of the full application served on a loopback port, so requests
/// arrive from a real peer address (127.0.0.1), which the router test mode does not give.
func withLiveApp(
    outbox: TestOutbox? = nil, configure: (inout KeywardenConfiguration) -> Void = { _ in },
    _ body: @Sendable (TestAPI, KeywardenServices) async throws -> Void
) async throws {
    try await withServices(outbox: outbox, configure: configure) { services in
        let (router, _) = try buildRouter(services: services)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: quietLogger)
        try await app.test(.live) { client in
            try await body(TestAPI(client: client, services: services), services)
        }
    }
}

extension TestAPI {
    /// `POST /v1/keys/verify` with the operator token, the key and the caller's address.
    func verifyKey(_ key: String, clientIP: String) async throws -> TestResponse {
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(operatorToken)"
        return try await request(
            .post, "/v1/keys/verify", json: #"{"key":"\#(key)","client_ip":"\#(clientIP)"}"#, headers: headers)
    }

    /// `POST` to a key's path: `""` to change it, `/disable` or `/enable`.
    func keyAction(
        _ action: String, _ token: String, project: String, key: String, json: String? = nil
    ) async throws -> TestResponse {
        try await request(
            .post, "/v1/organization/projects/\(project)/api_keys/\(key)\(action)", token: token, json: json)
    }

    /// The details of the organization's audit events of `type`, newest first.
    func auditDetails(_ token: String, type: String) async throws -> [[String: Any]] {
        let audit = try await request(.get, "/v1/organization/audit_logs?event_types[]=\(type)", token: token)
        let events = try #require(audit.value("data") as? [[String: Any]])
        return events.compactMap { $0[type] as? [String: Any] }
    }
}

@Suite("Key controls: changing, disabling, expiry and allowed addresses")
struct KeyControlsAPITests {
    static func configure(_ configuration: inout KeywardenConfiguration) {
        configuration.keys.operatorToken = operatorToken
        configuration.gateway.upstream = .echo
    }

    static let chat = #"{"model":"echo-1","messages":[{"role":"user","content":"hi"}]}"#

    /// A verified organization's token, its default project and a new key's value and id.
    func keyed(
        _ api: TestAPI, outbox: TestOutbox, json: String = #"{"name":"ci"}"#
    ) async throws -> (token: String, project: String, value: String, id: String) {
        let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
        let project = try await api.defaultProject(token)
        let created = try await api.createKey(token, project: project, json: json)
        #expect(created.status == .created, "\(String(decoding: created.body, as: UTF8.self))")
        return (token, project, try #require(created.string("value")), try #require(created.string("id")))
    }

    @Test func aChangedKeyIsHeldToItsNewPermissionsByTheGatewayAtOnce() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: Self.configure) { api, _ in
            let (token, project, value, id) = try await keyed(api, outbox: outbox)
            #expect(try await api.request(.get, "/v1/models", token: value).status == .ok)

            let restricted = try await api.keyAction(
                "", token, project: project, key: id, json: #"{"permissions":"restricted","scopes":["model.request"]}"#)
            #expect(restricted.status == .ok)
            #expect(restricted.string("object") == "organization.project.api_key")
            #expect(restricted.string("permissions") == "restricted")
            #expect(restricted.value("scopes") as? [String] == ["model.request"])
            #expect(restricted.string("name") == "ci")
            #expect(restricted.value("value") == nil)
            let models = try await api.request(.get, "/v1/models", token: value)
            #expect(models.status == .forbidden)
            #expect(models.string("error.code") == "insufficient_permissions")
            #expect(try await api.request(.post, "/v1/chat/completions", token: value, json: Self.chat).status == .ok)

            // Only what is sent changes.
            let renamed = try await api.keyAction("", token, project: project, key: id, json: #"{"name":"deploy"}"#)
            #expect(renamed.string("name") == "deploy")
            #expect(renamed.string("permissions") == "restricted")
            let widened = try await api.keyAction("", token, project: project, key: id, json: #"{"permissions":"all"}"#)
            #expect(widened.value("scopes") as? [String] == [])
            #expect(try await api.request(.get, "/v1/models", token: value).status == .ok)

            let changed = try await api.auditDetails(token, type: "api_key.updated").compactMap {
                $0["changed"] as? String
            }
            #expect(changed.sorted() == ["name", "permissions,scopes", "permissions,scopes"])
        }
    }

    @Test func aChangeIsCheckedByTheRulesOfCreation() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: Self.configure) { api, _ in
            let (token, project, _, id) = try await keyed(api, outbox: outbox)
            let refusals: [(json: String, status: HTTPResponse.Status, code: String, param: String)] = [
                (#"{"scopes":["model.request"]}"#, .badRequest, "invalid_value", "scopes"),
                (#"{"permissions":"restricted"}"#, .badRequest, "invalid_value", "scopes"),
                (#"{"permissions":"sudo"}"#, .badRequest, "invalid_value", "permissions"),
                (#"{"allowed_ips":["1.2.3.4/33"]}"#, .badRequest, "invalid_value", "allowed_ips"),
                (#"{"allowed_ips":"10.0.0.0/8"}"#, .badRequest, "invalid_type", "allowed_ips"),
                (#"{"expires_in_seconds":60}"#, .badRequest, "unknown_parameter", "expires_in_seconds"),
                (#"{"name":null}"#, .badRequest, "invalid_type", "name"),
            ]
            for refused in refusals {
                let response = try await api.keyAction("", token, project: project, key: id, json: refused.json)
                #expect(response.status == refused.status, "\(refused.json)")
                #expect(response.string("error.code") == refused.code, "\(refused.json)")
                #expect(response.string("error.param") == refused.param, "\(refused.json)")
            }
            let unknown = try await api.keyAction(
                "", token, project: project, key: "key_" + String(repeating: "a", count: 20), json: #"{"name":"x"}"#)
            #expect(unknown.status == .notFound)
            #expect(unknown.string("error.code") == "api_key_not_found")
            #expect(try await api.auditDetails(token, type: "api_key.updated").isEmpty)
        }
    }

    @Test func aDisabledKeyIsRefusedByTheGatewayAndVerifyUntilItIsEnabled() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: Self.configure) { api, _ in
            let (token, project, value, id) = try await keyed(api, outbox: outbox)
            let fresh = try await api.request(.get, "/v1/organization/projects/\(project)/api_keys/\(id)", token: token)
            #expect(fresh.json.keys.contains("disabled_at"))
            #expect(fresh.value("disabled_at") is NSNull)
            #expect(fresh.value("allowed_ips") as? [String] == [])

            let disabled = try await api.keyAction("/disable", token, project: project, key: id)
            #expect(disabled.status == .ok)
            let disabledAt = try #require(disabled.value("disabled_at") as? Int)
            #expect(abs(disabledAt - Int(Date().timeIntervalSince1970)) < 60)
            let refused = try await api.request(.get, "/v1/models", token: value)
            #expect(refused.status == .unauthorized)
            #expect(refused.string("error.code") == "invalid_api_key")
            #expect(refused.string("error.message")?.contains("is disabled") == true)
            #expect(refused.string("error.message")?.contains(value) == false)
            let verified = try await api.verifyKey(value)
            #expect(verified.value("valid") as? Bool == false)
            #expect(verified.string("code") == "disabled")
            #expect(try await api.request(.post, "/v1/api-keys", token: value, json: "{}").status == .unauthorized)
            // Disabling again changes nothing; a disabled key is enabled before it is rotated.
            let again = try await api.keyAction("/disable", token, project: project, key: id)
            #expect(again.value("disabled_at") as? Int == disabledAt)
            let rotated = try await api.request(
                .post, "/v1/organization/projects/\(project)/api_keys/\(id)/rotate", token: token)
            #expect(rotated.status == .conflict)
            #expect(rotated.string("error.code") == "api_key_disabled")

            let enabled = try await api.keyAction("/enable", token, project: project, key: id)
            #expect(enabled.status == .ok)
            #expect(enabled.value("disabled_at") is NSNull)
            #expect(try await api.request(.get, "/v1/models", token: value).status == .ok)
            #expect(try await api.verifyKey(value).value("valid") as? Bool == true)
            #expect(try await api.auditDetails(token, type: "api_key.disabled").count == 1)
            #expect(try await api.auditDetails(token, type: "api_key.enabled").count == 1)

            // A revoked key stays revoked.
            _ = try await api.request(.delete, "/v1/organization/projects/\(project)/api_keys/\(id)", token: token)
            for action in ["/enable", "/disable", ""] {
                let response = try await api.keyAction(action, token, project: project, key: id, json: "{}")
                #expect(response.status == .conflict, "\(action)")
                #expect(response.string("error.code") == "api_key_not_active", "\(action)")
            }
            #expect(try await api.verifyKey(value).string("code") == "revoked")
        }
    }

    @Test func expiresInSecondsSetsExpiresAtOnEveryCreationPathWithinAMinuteToFiveYears() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: Self.configure) { api, _ in
            let (token, project, value, _) = try await keyed(
                api, outbox: outbox, json: #"{"name":"short","expires_in_seconds":3600}"#)
            let listed = try await api.projectKeyObjects(token, project: project)
            let key = try #require(listed.first)
            let created = try #require(key["created_at"] as? Int)
            #expect(key["expires_at"] as? Int == created + 3600)

            let account = try await api.request(
                .post, "/v1/organization/projects/\(project)/service_accounts", token: token,
                json: #"{"name":"bot","expires_in_seconds":86400,"allowed_ips":["10.0.0.0/8"]}"#)
            #expect(account.status == .created)
            let accountCreated = try #require(account.value("api_key.created_at") as? Int)
            #expect(account.value("api_key.expires_at") as? Int == accountCreated + 86400)
            #expect(account.value("api_key.allowed_ips") as? [String] == ["10.0.0.0/8"])

            let admin = try await api.request(
                .post, "/v1/organization/admin_api_keys", token: token,
                json: #"{"name":"ops","expires_in_seconds":600}"#)
            #expect(admin.status == .created)
            #expect(admin.value("expires_at") as? Int == (admin.value("created_at") as? Int).map { $0 + 600 })

            let made = try await api.request(.post, "/v1/api-keys", token: value, json: #"{"expires_in_seconds":120}"#)
            #expect(made.status == .created)
            #expect(made.value("expires_at") as? Int == (made.value("created_at") as? Int).map { $0 + 120 })

            for (path, json) in [
                ("/v1/organization/projects/\(project)/api_keys", #"{"expires_in_seconds":59}"#),
                ("/v1/organization/projects/\(project)/api_keys", #"{"expires_in_seconds":157680001}"#),
                ("/v1/organization/projects/\(project)/service_accounts", #"{"name":"b","expires_in_seconds":0}"#),
                ("/v1/organization/admin_api_keys", #"{"expires_in_seconds":-5}"#),
                ("/v1/api-keys", #"{"expires_in_seconds":30}"#),
            ] {
                let credential = path == "/v1/api-keys" ? value : token
                let refused = try await api.request(.post, path, token: credential, json: json)
                #expect(refused.status == .badRequest, "\(path) \(json)")
                #expect(refused.string("error.code") == "invalid_value", "\(path) \(json)")
                #expect(refused.string("error.param") == "expires_in_seconds", "\(path) \(json)")
                #expect(refused.string("error.message")?.contains("157680000") == true, "\(path) \(json)")
            }
            let text = try await api.createKey(token, project: project, json: #"{"expires_in_seconds":"3600"}"#)
            #expect(text.status == .badRequest)
            #expect(text.string("error.code") == "invalid_type")
            #expect(text.string("error.param") == "expires_in_seconds")
            let longest = try await api.createKey(token, project: project, json: #"{"expires_in_seconds":157680000}"#)
            #expect(longest.status == .created)
        }
    }

    @Test func allowedIPsAreNormalisedShownOnTheKeyAndCappedAtThirtyTwo() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: Self.configure) { api, _ in
            let (token, project, _, id) = try await keyed(
                api, outbox: outbox, json: #"{"allowed_ips":[" 203.0.113.0/24","2001:DB8::/32","203.0.113.0/24"]}"#)
            let shown = try await api.request(.get, "/v1/organization/projects/\(project)/api_keys/\(id)", token: token)
            #expect(shown.value("allowed_ips") as? [String] == ["203.0.113.0/24", "2001:db8::/32"])
            // An address with bits past its prefix is not guessed at: both readings are offered.
            let ambiguous = try await api.createKey(
                token, project: project, json: #"{"allowed_ips":["203.0.113.9/24"]}"#)
            #expect(ambiguous.status == .badRequest)
            #expect(ambiguous.string("error.code") == "invalid_value")
            #expect(ambiguous.string("error.param") == "allowed_ips")
            #expect(
                ambiguous.string("error.message")
                    == "'203.0.113.9/24' has bits set past its /24 prefix; "
                    + "write 203.0.113.0/24 for the whole range or 203.0.113.9/32 for the one address.")

            let entries = (0..<33).map { "\"10.0.\($0).0/24\"" }.joined(separator: ",")
            let tooMany = try await api.createKey(token, project: project, json: #"{"allowed_ips":[\#(entries)]}"#)
            #expect(tooMany.status == .badRequest)
            #expect(tooMany.string("error.param") == "allowed_ips")
            let bad = try await api.createKey(token, project: project, json: #"{"allowed_ips":["300.1.1.1"]}"#)
            #expect(bad.status == .badRequest)
            #expect(bad.string("error.message")?.contains("'300.1.1.1'") == true)
            let cleared = try await api.keyAction("", token, project: project, key: id, json: #"{"allowed_ips":[]}"#)
            #expect(cleared.value("allowed_ips") as? [String] == [])
            let changed = try await api.auditDetails(token, type: "api_key.updated").compactMap {
                $0["changed"] as? String
            }
            #expect(changed == ["allowed_ips"])
        }
    }

    @Test func withoutAPeerAddressAKeyLimitedToRangesIsRefused() async throws {
        // The router test mode has no peer: an address the key cannot check is not let through.
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: Self.configure) { api, _ in
            let (_, _, value, _) = try await keyed(api, outbox: outbox, json: #"{"allowed_ips":["0.0.0.0/0"]}"#)
            let refused = try await api.request(.get, "/v1/models", token: value)
            #expect(refused.status == .forbidden)
            #expect(refused.string("error.code") == "ip_not_allowed")
            #expect(refused.string("error.message")?.contains("unknown") == true)
        }
    }

    @Test func aKeyIsRefusedFromOutsideItsRangesAndWorksFromInside() async throws {
        let outbox = TestOutbox()
        try await withLiveApp(outbox: outbox, configure: Self.configure) { api, services in
            let (token, project, elsewhere, id) = try await keyed(
                api, outbox: outbox, json: #"{"name":"office","allowed_ips":["10.0.0.0/8"]}"#)
            let refused = try await api.request(.get, "/v1/models", token: elsewhere)
            #expect(refused.status == .forbidden)
            #expect(refused.string("error.code") == "ip_not_allowed")
            let message = try #require(refused.string("error.message"))
            #expect(message.contains("127.0.0.1"))
            #expect(message.contains("not in the key's allowed IP ranges"))
            #expect(!message.contains("10.0.0.0"))
            // Making keys with it is refused from here too.
            #expect(try await api.request(.post, "/v1/api-keys", token: elsewhere, json: "{}").status == .forbidden)
            // A refused call is not a use of the key.
            let path = "/v1/organization/projects/\(project)/api_keys/\(id)"
            try await services.keys.flushUses()
            #expect(try await api.request(.get, path, token: token).value("last_used_at") is NSNull)

            let local = try #require(
                try await api.createKey(token, project: project, json: #"{"allowed_ips":["127.0.0.1/32"]}"#)
                    .string("value"))
            #expect(try await api.request(.get, "/v1/models", token: local).status == .ok)
            #expect(try await api.request(.post, "/v1/chat/completions", token: local, json: Self.chat).status == .ok)

            // Widening the first key's ranges lets it in at once.
            let widened = try await api.keyAction(
                "", token, project: project, key: id, json: #"{"allowed_ips":["10.0.0.0/8","127.0.0.0/8"]}"#)
            #expect(widened.value("allowed_ips") as? [String] == ["10.0.0.0/8", "127.0.0.0/8"])
            #expect(try await api.request(.get, "/v1/models", token: elsewhere).status == .ok)
            try await services.keys.flushUses()
            #expect(try await api.request(.get, path, token: token).value("last_used_at") is Int)
        }
    }

    /// Creates an admin key accepting calls from `ranges`, returning its value and id.
    func adminKey(
        _ api: TestAPI, _ token: String, allowedIPs ranges: [String]
    ) async throws -> (value: String, id: String) {
        let entries = ranges.map { "\"\($0)\"" }.joined(separator: ",")
        let created = try await api.request(
            .post, "/v1/organization/admin_api_keys", token: token,
            json: #"{"name":"ops","allowed_ips":[\#(entries)]}"#)
        #expect(created.status == .created, "\(String(decoding: created.body, as: UTF8.self))")
        return (try #require(created.string("value")), try #require(created.string("id")))
    }

    @Test func anAdminKeyLimitedToRangesIsRefusedOnManagementEndpointsFromOutsideThem() async throws {
        let outbox = TestOutbox()
        try await withLiveApp(outbox: outbox, configure: Self.configure) { api, services in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let elsewhere = try await adminKey(api, token, allowedIPs: ["10.0.0.0/8"])
            let local = try await adminKey(api, token, allowedIPs: ["127.0.0.0/8"])
            #expect(elsewhere.value.hasPrefix("sk-admin-"))

            for path in ["/v1/organization/projects", "/v1/organization/users"] {
                let refused = try await api.request(.get, path, token: elsewhere.value)
                #expect(refused.status == .forbidden, "\(path)")
                #expect(refused.string("error.code") == "ip_not_allowed", "\(path)")
                #expect(refused.string("error.message")?.contains("127.0.0.1") == true, "\(path)")
                #expect(refused.string("error.message")?.contains("10.0.0.0") == false, "\(path)")
                #expect(try await api.request(.get, path, token: local.value).status == .ok, "\(path)")
            }
            let made = try await api.request(
                .post, "/v1/organization/admin_api_keys", token: elsewhere.value, json: #"{"name":"more"}"#)
            #expect(made.status == .forbidden)
            #expect(made.string("error.code") == "ip_not_allowed")

            // Only the key let in counts as used.
            try await services.keys.flushUses()
            let listed = try await api.request(.get, "/v1/organization/admin_api_keys", token: token)
            let keys = try #require(listed.value("data") as? [[String: Any]])
            let refusedKey = try #require(keys.first { $0["id"] as? String == elsewhere.id })
            let acceptedKey = try #require(keys.first { $0["id"] as? String == local.id })
            #expect(refusedKey["last_used_at"] is NSNull)
            #expect(acceptedKey["last_used_at"] is Int)
        }
    }

    @Test func aDisabledAdminKeyIsRefusedUntilItIsEnabled() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: Self.configure) { api, services in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let admin = try await adminKey(api, token, allowedIPs: [])
            #expect(try await api.request(.get, "/v1/organization/projects", token: admin.value).status == .ok)

            // The API has no way to disable an admin key; the command line's does.
            let disabled = try await services.keys.disableByOperator(admin.id)
            #expect(disabled.disabledAt != nil)
            let refused = try await api.request(.get, "/v1/organization/projects", token: admin.value)
            #expect(refused.status == .unauthorized)
            let made = try await api.request(
                .post, "/v1/organization/admin_api_keys", token: admin.value, json: #"{"name":"more"}"#)
            #expect(made.status == .unauthorized)
            #expect(try await api.verifyKey(admin.value).string("code") == "disabled")

            _ = try await services.keys.enableByOperator(admin.id)
            #expect(try await api.request(.get, "/v1/organization/projects", token: admin.value).status == .ok)
        }
    }

    @Test func aKeyThatExpiresMakesKeysThatExpireWithItOrSooner() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: Self.configure) { api, _ in
            let (token, project, value, id) = try await keyed(
                api, outbox: outbox, json: #"{"name":"ci","expires_in_seconds":3600}"#)
            let path = "/v1/organization/projects/\(project)/api_keys/\(id)"
            let expiresAt = try #require(
                try await api.request(.get, path, token: token).value("expires_at") as? Int)

            let inherited = try await api.request(.post, "/v1/api-keys", token: value, json: "{}")
            #expect(inherited.status == .created)
            #expect(inherited.value("expires_at") as? Int == expiresAt)
            let sooner = try await api.request(
                .post, "/v1/api-keys", token: value, json: #"{"expires_in_seconds":600}"#)
            #expect(sooner.status == .created)
            #expect(sooner.value("expires_at") as? Int == (sooner.value("created_at") as? Int).map { $0 + 600 })

            let later = try await api.request(
                .post, "/v1/api-keys", token: value, json: #"{"expires_in_seconds":7200}"#)
            #expect(later.status == .forbidden)
            #expect(later.string("error.code") == "insufficient_permissions")
            #expect(later.string("error.param") == "expires_in_seconds")
            #expect(later.string("error.message")?.contains("can create keys only expiring by then") == true)
            #expect(try await api.projectKeyObjects(token, project: project).count == 3)
        }
    }

    @Test func aRotatedKeyExpiresWhenTheKeyItReplacesWould() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: Self.configure) { api, _ in
            let (token, project, _, id) = try await keyed(
                api, outbox: outbox, json: #"{"name":"ci","expires_in_seconds":2592000}"#)
            let keys = "/v1/organization/projects/\(project)/api_keys"
            let expiresAt = try #require(
                try await api.request(.get, "\(keys)/\(id)", token: token).value("expires_at") as? Int)
            let rotated = try await api.request(
                .post, "\(keys)/\(id)/rotate", token: token, json: #"{"grace_period_seconds":0}"#)
            #expect(rotated.status == .created)
            #expect(rotated.value("expires_at") as? Int == expiresAt)
        }
    }

    @Test func verifyChecksTheCallersAddressAgainstTheKeysRanges() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: Self.configure) { api, _ in
            let (token, project, limited, _) = try await keyed(
                api, outbox: outbox, json: #"{"allowed_ips":["10.0.0.0/8","2001:db8::/32"]}"#)
            #expect(try await api.verifyKey(limited, clientIP: "10.20.30.40").value("valid") as? Bool == true)
            #expect(try await api.verifyKey(limited, clientIP: "::ffff:10.20.30.40").value("valid") as? Bool == true)
            #expect(try await api.verifyKey(limited, clientIP: "2001:db8::7").value("valid") as? Bool == true)
            for outside in ["192.0.2.1", "2001:db9::1"] {
                let answer = try await api.verifyKey(limited, clientIP: outside)
                #expect(answer.value("valid") as? Bool == false, "\(outside)")
                #expect(answer.string("code") == "ip_not_allowed", "\(outside)")
            }
            // Without the caller's address a limited key is not vouched for.
            let unsaid = try await api.verifyKey(limited)
            #expect(unsaid.value("valid") as? Bool == false)
            #expect(unsaid.string("code") == "ip_not_allowed")
            let malformed = try await api.verifyKey(limited, clientIP: "10.0.0.256")
            #expect(malformed.status == .badRequest)
            #expect(malformed.string("error.param") == "client_ip")

            // A key without ranges is valid from anywhere, with or without an address.
            let open = try #require(try await api.createKey(token, project: project).string("value"))
            #expect(try await api.verifyKey(open).value("valid") as? Bool == true)
            #expect(try await api.verifyKey(open, clientIP: "192.0.2.1").value("valid") as? Bool == true)
        }
    }
}
