import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenServer
import Testing

extension TestAPI {
    /// Signs `email` up, grants it the operator role and turns two-factor authentication on: a
    /// session the operator API lets through.
    func consoleOperatorToken(
        _ email: String = "op@example.com", services: KeywardenServices, clock: ManualClock
    ) async throws -> String {
        let token = try await self.token(email)
        #expect(try await services.console.grantOperator(email: email))
        _ = try await enableTwoFactor(token, clock: clock)
        return token
    }

    /// The id of the caller's first organization.
    func organizationID(of token: String) async throws -> String {
        try #require(try await request(.get, "/v1/organization", token: token).string("id"))
    }
}

@Suite("Operator API")
struct AdminAPITests {
    @Test func onlyASignedInOperatorWithTwoFactorIsLetIn() async throws {
        let time = ManualClock()
        let outbox = TestOutbox()
        try await withApp(clock: time.clock, outbox: outbox) { api, services in
            let path = "/v1/admin/support_requests"
            let signedOut = try await api.request(.get, path)
            #expect(signedOut.status == .unauthorized)
            #expect(signedOut.string("error.code") == "unauthenticated")

            let ada = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let notOperator = try await api.request(.get, path, token: ada)
            #expect(notOperator.status == .forbidden)
            #expect(notOperator.string("error.code") == "operator_required")
            #expect(notOperator.errorFields == ["code", "message", "param", "type"])

            let adminKey = try #require(
                try await api.request(.post, "/v1/organization/admin_api_keys", token: ada, json: #"{"name":"ops"}"#)
                    .string("value"))
            let projectKey = try #require(
                try await api.createKey(ada, project: try await api.defaultProject(ada)).string("value"))

            #expect(try await services.console.grantOperator(email: "ada@example.com"))
            let withoutTwoFactor = try await api.request(.get, path, token: ada)
            #expect(withoutTwoFactor.status == .forbidden)
            #expect(withoutTwoFactor.string("error.code") == "mfa_required")

            _ = try await api.enableTwoFactor(ada, clock: time)
            #expect(try await api.request(.get, path, token: ada).status == .ok)
            // Keys are refused even when their owner is an operator: the console takes a person's session.
            for key in [adminKey, projectKey] {
                let refused = try await api.request(.get, path, token: key)
                #expect(refused.status == .forbidden)
                #expect(refused.string("error.code") == "operator_required")
            }
            let action = try await api.request(
                .post, "/v1/admin/prefix_guard/rules", token: adminKey,
                json: #"{"prefix":"+44","kind":"safe","reason":"key"}"#)
            #expect(action.status == .forbidden)
            #expect(action.string("error.code") == "operator_required")
        }
    }

    @Test func approvingARequestExemptsTheOrganizationAndNamesTheOperatorInItsAuditLog() async throws {
        let time = ManualClock()
        let mailbox = TestMailbox()
        try await withApp(clock: time.clock, mailbox: mailbox) { api, services in
            let owner = try await api.token()
            let organization = try await api.organizationID(of: owner)
            let id = try #require(try await api.fileSupportRequest(owner).string("id"))
            let op = try await api.consoleOperatorToken(services: services, clock: time)

            let queue = try await api.request(.get, "/v1/admin/support_requests?status=open", token: op)
            #expect(queue.status == .ok)
            #expect(queue.string("object") == "list")
            let entry = try #require((queue.value("data") as? [[String: Any]])?.first)
            #expect(entry["id"] as? String == id)
            #expect(entry["organization_id"] as? String == organization)
            #expect(entry["email"] as? String == "ada@example.com")
            #expect(entry["status"] as? String == "open")
            #expect(entry["decided_by"] is NSNull)

            let approved = try await api.request(.post, "/v1/admin/support_requests/\(id)/approve", token: op)
            #expect(approved.status == .ok)
            #expect(approved.string("status") == "approved")
            #expect(approved.string("decided_by") == "op@example.com")
            #expect(approved.value("decided_at") is Int)

            let after = try await api.request(.get, "/v1/organization", token: owner)
            #expect(after.string("verification.status") == "exempt")
            #expect(after.string("verification.method") == "support")
            let seen = try await api.request(.get, "/v1/organization/support_requests/\(id)", token: owner)
            #expect(seen.string("status") == "approved")

            let audit = try await api.request(.get, "/v1/organization/audit_logs?limit=100", token: owner)
            let events = try #require(audit.value("data") as? [[String: Any]])
            let event = try #require(events.first { $0["type"] as? String == "support_request.approved" })
            let actor = try #require(event["actor"] as? [String: Any])
            #expect(actor["type"] as? String == "operator")
            let named = try #require(actor["operator"] as? [String: Any])
            #expect((named["user"] as? [String: Any])?["email"] as? String == "op@example.com")
            // An organization is told who decided, never from where.
            #expect(named["ip_address"] == nil)
            #expect(mailbox.sent(to: "ada@example.com").contains { $0.subject == "Your support request was approved" })

            let twice = try await api.request(.post, "/v1/admin/support_requests/\(id)/approve", token: op)
            #expect(twice.status == .conflict)
            #expect(twice.string("error.code") == "support_request_not_open")
            let declinedLate = try await api.request(
                .post, "/v1/admin/support_requests/\(id)/decline", token: op, json: #"{"reason":"Too late."}"#)
            #expect(declinedLate.status == .conflict)
            #expect(declinedLate.string("error.code") == "support_request_not_open")
            // Approving takes no fields.
            let withFields = try await api.request(
                .post, "/v1/admin/support_requests/\(id)/approve", token: op, json: #"{"reason":"Fine."}"#)
            #expect(withFields.status == .badRequest)
            #expect(withFields.string("error.code") == "unknown_parameter")
            let unknown = try await api.request(
                .post, "/v1/admin/support_requests/supreq_0123456789/approve", token: op)
            #expect(unknown.status == .notFound)
            #expect(unknown.string("error.code") == "support_request_not_found")
        }
    }

    @Test func decliningARequestTellsTheMembersWhyAndTheyMayFileAgain() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, services in
            let owner = try await api.token()
            let id = try #require(try await api.fileSupportRequest(owner).string("id"))
            let op = try await api.consoleOperatorToken(services: services, clock: time)
            let unexplained = try await api.request(
                .post, "/v1/admin/support_requests/\(id)/decline", token: op, json: "{}")
            #expect(unexplained.status == .badRequest)
            #expect(unexplained.string("error.code") == "missing_required_parameter")
            #expect(unexplained.string("error.param") == "reason")

            let declined = try await api.request(
                .post, "/v1/admin/support_requests/\(id)/decline", token: op,
                json: #"{"reason":"Numbers from your country can be verified now."}"#)
            #expect(declined.status == .ok)
            #expect(declined.string("status") == "declined")
            let seen = try await api.request(.get, "/v1/organization/support_requests/\(id)", token: owner)
            #expect(seen.string("status") == "declined")
            #expect(seen.string("decline_reason") == "Numbers from your country can be verified now.")
            let organization = try await api.request(.get, "/v1/organization", token: owner)
            #expect(organization.string("verification.status") == "unverified")
            #expect(try await api.fileSupportRequest(owner).status == .created)
            let declinedOnly = try await api.request(.get, "/v1/admin/support_requests?status=declined", token: op)
            #expect((declinedOnly.value("data") as? [[String: Any]])?.map { $0["id"] as? String } == [id])
        }
    }

    @Test func aSuspendedOrganizationsKeysAreRefusedAtTheGatewayUntilItIsLifted() async throws {
        let time = ManualClock()
        let outbox = TestOutbox()
        try await withApp(clock: time.clock, outbox: outbox, configure: { $0.gateway.upstream = .echo }) {
            api, services in
            let owner = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let organization = try await api.organizationID(of: owner)
            let key = try #require(
                try await api.createKey(owner, project: try await api.defaultProject(owner)).string("value"))
            #expect(try await api.request(.get, "/v1/models", token: key).status == .ok)
            let adminKey = try #require(
                try await api.request(.post, "/v1/organization/admin_api_keys", token: owner, json: #"{"name":"ops"}"#)
                    .string("value"))
            let op = try await api.consoleOperatorToken(services: services, clock: time)

            let suspended = try await api.request(
                .post, "/v1/admin/organizations/\(organization)/suspend", token: op,
                json: #"{"reason":"Card testing from this organization."}"#)
            #expect(suspended.status == .ok)
            #expect(suspended.string("suspension.reason") == "Card testing from this organization.")
            #expect(suspended.value("suspension.suspended_at") is Int)
            let refused = try await api.request(.get, "/v1/models", token: key)
            #expect(refused.status == .forbidden)
            #expect(refused.string("error.code") == "organization_suspended")
            let newKey = try await api.createKey(owner, project: try await api.defaultProject(owner))
            #expect(newKey.status == .forbidden)
            #expect(newKey.string("error.code") == "organization_suspended")
            let twice = try await api.request(
                .post, "/v1/admin/organizations/\(organization)/suspend", token: op, json: #"{"reason":"Again."}"#)
            #expect(twice.status == .conflict)
            // Admin keys are keys too; the members still sign in, see why, and may only appeal.
            let byAdminKey = try await api.request(.get, "/v1/organization/projects", token: adminKey)
            #expect(byAdminKey.status == .forbidden)
            #expect(byAdminKey.string("error.code") == "organization_suspended")
            let seen = try await api.request(.get, "/v1/organization", token: owner)
            #expect(seen.string("suspension.reason") == "Card testing from this organization.")
            let exemption = try await api.request(
                .post, "/v1/organization/support_requests", token: owner,
                json: #"{"reason":"no_mobile_phone","details":"No phone."}"#)
            #expect(exemption.status == .badRequest)
            #expect(exemption.string("error.param") == "reason")
            let appeal = try await api.request(
                .post, "/v1/organization/support_requests", token: owner,
                json: #"{"reason":"suspension_appeal","details":"That was a test card of ours."}"#)
            #expect(appeal.status == .created)

            let lifted = try await api.request(.post, "/v1/admin/organizations/\(organization)/unsuspend", token: op)
            #expect(lifted.status == .ok)
            #expect(lifted.value("suspension") is NSNull)
            #expect(try await api.request(.get, "/v1/models", token: key).status == .ok)
            #expect(try await api.request(.get, "/v1/organization/projects", token: adminKey).status == .ok)
            // Lifting the suspension answers the appeal, so it cannot lift a later one.
            let answered = try await api.request(
                .get, "/v1/organization/support_requests/\(try #require(appeal.string("id")))", token: owner)
            #expect(answered.string("status") == "approved")
            let types = try await api.auditTypes(owner)
            #expect(types.contains("organization.suspended"))
            #expect(types.contains("organization.unsuspended"))
        }
    }

    @Test func anOrganizationIsFoundByItsWholeVerifiedNumber() async throws {
        let time = ManualClock()
        let outbox = TestOutbox()
        try await withApp(clock: time.clock, outbox: outbox) { api, services in
            let owner = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let organization = try await api.organizationID(of: owner)
            let op = try await api.consoleOperatorToken(services: services, clock: time)
            for query in ["%2B12015550123", "%2B1%20201%20555%200123"] {
                let found = try await api.request(.get, "/v1/admin/organizations?query=\(query)", token: op)
                #expect(found.status == .ok)
                #expect((found.value("data") as? [[String: Any]])?.map { $0["id"] as? String } == [organization])
            }
            let other = try await api.request(.get, "/v1/admin/organizations?query=%2B12015550124", token: op)
            #expect((other.value("data") as? [Any])?.isEmpty == true)
            // Paging: two organizations (Ada's and the operator's), one page each.
            let first = try await api.request(.get, "/v1/admin/organizations?limit=1", token: op)
            #expect(first.value("has_more") as? Bool == true)
            let lastID = try #require(first.string("last_id"))
            let rest = try await api.request(.get, "/v1/admin/organizations?after=\(lastID)", token: op)
            let restIDs = (rest.value("data") as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
            #expect(restIDs.count == 1 && restIDs.first != lastID)
            #expect(([lastID] + restIDs).contains(organization))
            #expect(rest.value("has_more") as? Bool == false)
            let unknown = try await api.request(
                .get, "/v1/admin/organizations?after=org_000000000000000000000000", token: op)
            #expect(unknown.status == .notFound)
            #expect(unknown.string("error.code") == "unknown_cursor")
        }
    }

    @Test func aCreditGrantChangesTheBalance() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, services in
            let owner = try await api.token()
            let organization = try await api.organizationID(of: owner)
            let op = try await api.consoleOperatorToken(services: services, clock: time)
            let path = "/v1/admin/organizations/\(organization)/credit_grants"

            let granted = try await api.request(
                .post, path, token: op, json: #"{"amount":"25.00","reason":"Welcome credit"}"#)
            #expect(granted.status == .created)
            #expect(granted.string("object") == "admin.credit_grant")
            #expect(granted.string("organization_id") == organization)
            #expect(granted.string("transaction.type") == "grant")
            #expect(granted.value("transaction.amount.micros") as? Int == 25_000_000)
            #expect(granted.value("balance.micros") as? Int == 25_000_000)
            #expect(granted.string("balance.formatted") == "$25.00")
            let number = try await api.request(.post, path, token: op, json: #"{"amount":2.5}"#)
            #expect(number.value("balance.micros") as? Int == 27_500_000)
            let whole = try await api.request(.post, path, token: op, json: #"{"amount":10}"#)
            #expect(whole.value("balance.micros") as? Int == 37_500_000)

            let billing = try await api.request(.get, "/v1/organization/billing", token: owner)
            #expect(billing.value("balance.micros") as? Int == 37_500_000)
            #expect(try await api.auditTypes(owner).contains("billing.credits_granted"))

            for (json, code) in [
                (#"{"amount":"lots"}"#, "invalid_value"), (#"{"amount":"0.001"}"#, "invalid_value"),
                (#"{"amount":-5}"#, "invalid_value"), (#"{"amount":true}"#, "invalid_type"),
                ("{}", "missing_required_parameter"),
            ] {
                let refused = try await api.request(.post, path, token: op, json: json)
                #expect(refused.status == .badRequest, "\(json)")
                #expect(refused.string("error.code") == code, "\(json)")
                #expect(refused.string("error.param") == "amount", "\(json)")
            }
            let unchanged = try await api.request(.get, "/v1/organization/billing", token: owner)
            #expect(unchanged.value("balance.micros") as? Int == 37_500_000)
        }
    }

    @Test func organizationsAreFoundAndShownWithMembersAndRedactedKeys() async throws {
        let time = ManualClock()
        let outbox = TestOutbox()
        try await withApp(clock: time.clock, outbox: outbox) { api, services in
            let owner = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let organization = try await api.organizationID(of: owner)
            let created = try await api.createKey(owner, project: try await api.defaultProject(owner))
            let secret = try #require(created.string("value"))
            let op = try await api.consoleOperatorToken(services: services, clock: time)

            let found = try await api.request(.get, "/v1/admin/organizations?query=ada%40example.com", token: op)
            #expect(found.status == .ok)
            let summaries = try #require(found.value("data") as? [[String: Any]])
            #expect(summaries.map { $0["id"] as? String } == [organization])
            let summary = try #require(summaries.first)
            #expect(summary["object"] as? String == "admin.organization")
            #expect(summary["member_count"] as? Int == 1)
            #expect((summary["verification"] as? [String: Any])?["status"] as? String == "verified")
            #expect(summary["suspension"] is NSNull)
            let nobody = try await api.request(.get, "/v1/admin/organizations?query=nobody-at-all", token: op)
            #expect((nobody.value("data") as? [Any])?.isEmpty == true)

            let path = "/v1/admin/organizations/\(organization)"
            let detail = try await api.request(.get, path, token: op)
            #expect(detail.status == .ok)
            #expect(detail.string("verification.method") == "phone")
            let members = try #require(detail.value("members") as? [[String: Any]])
            #expect(members.map { $0["email"] as? String } == ["ada@example.com"])
            let keys = try #require(detail.value("keys") as? [[String: Any]])
            #expect(keys.contains { $0["id"] as? String == created.string("id") })
            #expect(keys.allSatisfy { $0["value"] == nil && $0["redacted_value"] is String })
            #expect(!String(decoding: detail.body, as: UTF8.self).contains(secret))
            #expect(detail.value("usage_30d.requests") as? Int == 0)
            #expect(detail.string("usage_30d.cost.currency") == "usd")
            #expect(detail.value("balance.micros") as? Int == 0)
            #expect(detail.value("organizations_sharing_number") as? Int == 0)
            #expect(detail.value("organizations_sharing_card") as? Int == 0)
            #expect((detail.value("support_requests") as? [Any])?.isEmpty == true)
            #expect(detail.value("pinned_tier") is NSNull)

            let pinned = try await api.request(.post, path + "/tier", token: op, json: #"{"tier":"tier-2"}"#)
            #expect(pinned.status == .ok)
            #expect(pinned.string("pinned_tier") == "tier-2")
            #expect(pinned.string("tier") == "tier-2")
            let unknownTier = try await api.request(.post, path + "/tier", token: op, json: #"{"tier":"platinum"}"#)
            #expect(unknownTier.status == .badRequest)
            #expect(unknownTier.string("error.code") == "unknown_tier")
            let noTier = try await api.request(.post, path + "/tier", token: op, json: "{}")
            #expect(noTier.string("error.code") == "missing_required_parameter")
            let unpinned = try await api.request(.post, path + "/tier", token: op, json: #"{"tier":null}"#)
            #expect(unpinned.value("pinned_tier") is NSNull)

            let reset = try await api.request(
                .post, path + "/reset_verification", token: op, json: #"{"reason":"The number was reassigned."}"#)
            #expect(reset.status == .ok)
            #expect(reset.string("verification.status") == "unverified")
            let seen = try await api.request(.get, "/v1/organization", token: owner)
            #expect(seen.string("verification.status") == "unverified")
            #expect(try await api.auditTypes(owner).contains("organization.verification_reset"))

            let missing = try await api.request(.get, "/v1/admin/organizations/org_0123456789", token: op)
            #expect(missing.status == .notFound)
            #expect(missing.string("error.code") == "organization_not_found")
        }
    }

    @Test func insightsCountStartsAndRefusalsByCountryAndAPrefixRuleBlocksSends() async throws {
        let time = ManualClock()
        let outbox = TestOutbox()
        try await withApp(
            clock: time.clock, outbox: outbox,
            configure: { $0.verificationMessagePrices = MessagePrices(byCountry: ["US": 7_900]) }
        ) { api, services in
            let owner = try await api.token()
            let op = try await api.consoleOperatorToken(services: services, clock: time)
            let rule = try await api.request(
                .post, "/v1/admin/prefix_guard/rules", token: op,
                json: #"{"prefix":"+1 201 555","kind":"blocked","reason":"Toll fraud from this range."}"#)
            #expect(rule.status == .ok)
            #expect(rule.string("prefix") == "+1201555")
            #expect(rule.string("kind") == "blocked")
            #expect(rule.string("created_by") == "op@example.com")

            let blocked = try await api.startVerification(owner)
            #expect(blocked.status == .badRequest)
            #expect(blocked.string("error.code") == "phone_prefix_blocked")
            #expect(outbox.sent.isEmpty)

            let removed = try await api.request(.delete, "/v1/admin/prefix_guard/rules/%2B1201555", token: op)
            #expect(removed.status == .ok)
            #expect(removed.string("prefix") == "+1201555")
            #expect(removed.value("deleted") as? Bool == true)
            #expect(try await api.startVerification(owner).status == .created)

            let insights = try await api.request(.get, "/v1/admin/verification_insights?window=24h", token: op)
            #expect(insights.status == .ok)
            #expect(insights.string("window") == "24h")
            let rows = try #require(insights.value("data") as? [[String: Any]])
            let us = try #require(rows.first { $0["country"] as? String == "US" })
            #expect(us["started"] as? Int == 1)
            #expect(us["sent"] as? [String: Int] == ["sms": 1, "whatsapp": 0])
            #expect(us["approved"] as? Int == 0)
            #expect(us["conversion_percent"] as? Int == 0)
            #expect(us["refusals"] as? [String: Int] == ["phone_prefix_blocked": 1])
            let spend = try #require(us["estimated_spend"] as? [String: Any])
            #expect(spend["value"] as? Double == 0.0079)
            #expect(spend["currency"] as? String == "usd")

            let wrongWindow = try await api.request(.get, "/v1/admin/verification_insights?window=1h", token: op)
            #expect(wrongWindow.status == .badRequest)
            #expect(wrongWindow.string("error.param") == "window")
        }
    }

    @Test func thePrefixGuardRefusesBadPrefixesAndListsItsRules() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, services in
            let op = try await api.consoleOperatorToken(services: services, clock: time)
            let rules = "/v1/admin/prefix_guard/rules"
            for (json, param) in [
                (#"{"prefix":"abc","kind":"blocked","reason":"x"}"#, "prefix"),
                (#"{"prefix":"+044","kind":"blocked","reason":"x"}"#, "prefix"),
                (#"{"prefix":"+44","kind":"maybe","reason":"x"}"#, "kind"),
                (#"{"kind":"safe"}"#, "prefix"),
            ] {
                let refused = try await api.request(.post, rules, token: op, json: json)
                #expect(refused.status == .badRequest, "\(json)")
                #expect(refused.string("error.param") == param, "\(json)")
            }
            let unknownField = try await api.request(
                .post, rules, token: op, json: #"{"prefix":"+44","kind":"safe","reason":"","note":"x"}"#)
            #expect(unknownField.string("error.code") == "unknown_parameter")
            let badLift = try await api.request(.post, "/v1/admin/prefix_guard/pauses/%2B0/lift", token: op)
            #expect(badLift.status == .badRequest)
            #expect(badLift.string("error.param") == "prefix")
            let noPause = try await api.request(.post, "/v1/admin/prefix_guard/pauses/%2B44/lift", token: op)
            #expect(noPause.status == .notFound)
            let noRule = try await api.request(.delete, rules + "/%2B44", token: op)
            #expect(noRule.status == .notFound)

            let empty = try await api.request(.get, "/v1/admin/prefix_guard", token: op)
            #expect(empty.string("object") == "admin.prefix_guard")
            #expect((empty.value("paused") as? [Any])?.isEmpty == true)
            #expect((empty.value("rules") as? [Any])?.isEmpty == true)
            let safe = try await api.request(
                .post, rules, token: op, json: #"{"prefix":"44","kind":"safe","reason":"Our own support line."}"#)
            #expect(safe.status == .ok)
            let listed = try await api.request(.get, "/v1/admin/prefix_guard", token: op)
            let rule = try #require((listed.value("rules") as? [[String: Any]])?.first)
            #expect(rule["prefix"] as? String == "+44")
            #expect(rule["kind"] as? String == "safe")
            #expect(rule["reason"] as? String == "Our own support line.")
        }
    }

    @Test func theConsoleAuditLogCoversOrganizationsAndTheConsoleItself() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, services in
            let owner = try await api.token()
            let organization = try await api.organizationID(of: owner)
            let id = try #require(try await api.fileSupportRequest(owner).string("id"))
            let op = try await api.consoleOperatorToken(services: services, clock: time)
            _ = try await api.request(.post, "/v1/admin/support_requests/\(id)/approve", token: op)
            let rule = #"{"prefix":"+44","kind":"safe","reason":"ok"}"#
            _ = try await api.request(.post, "/v1/admin/prefix_guard/rules", token: op, json: rule)

            let ofOrganization = try await api.request(
                .get, "/v1/admin/audit_logs?organization_id=\(organization)", token: op)
            #expect(ofOrganization.status == .ok)
            let events = try #require(ofOrganization.value("data") as? [[String: Any]])
            #expect(!events.isEmpty)
            #expect(events.allSatisfy { $0["organization_id"] as? String == organization })
            let approval = try #require(events.first { $0["type"] as? String == "support_request.approved" })
            #expect(approval["object"] as? String == "admin.audit_log")
            let named = try #require((approval["actor"] as? [String: Any])?["operator"] as? [String: Any])
            #expect((named["user"] as? [String: Any])?["email"] as? String == "op@example.com")
            #expect(named.keys.contains("ip_address"))

            let console = try await api.request(.get, "/v1/admin/audit_logs?type=prefix_guard.rule_set", token: op)
            let consoleEvents = try #require(console.value("data") as? [[String: Any]])
            #expect(consoleEvents.count == 1)
            #expect(consoleEvents.first?["organization_id"] is NSNull)
            #expect((consoleEvents.first?["prefix_guard.rule_set"] as? [String: String])?["prefix"] == "+44")

            let first = try await api.request(.get, "/v1/admin/audit_logs?limit=1", token: op)
            #expect(first.value("has_more") as? Bool == true)
            let last = try #require(first.string("last_id"))
            let next = try await api.request(.get, "/v1/admin/audit_logs?limit=1&after=\(last)", token: op)
            #expect(next.status == .ok)
            #expect(next.string("first_id") != last)

            let badOrganization = try await api.request(.get, "/v1/admin/audit_logs?organization_id=proj_1", token: op)
            #expect(badOrganization.status == .badRequest)
            #expect(badOrganization.string("error.param") == "organization_id")
        }
    }

    @Test func everyLimitAndChoiceIsRangeChecked() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, services in
            let op = try await api.consoleOperatorToken(services: services, clock: time)
            for path in ["/v1/admin/support_requests", "/v1/admin/organizations", "/v1/admin/audit_logs"] {
                for limit in ["0", "101", "-1", "many"] {
                    let refused = try await api.request(.get, "\(path)?limit=\(limit)", token: op)
                    #expect(refused.status == .badRequest, "\(path)?limit=\(limit)")
                    #expect(refused.string("error.code") == "invalid_value")
                    #expect(refused.string("error.param") == "limit")
                }
                #expect(try await api.request(.get, "\(path)?limit=100", token: op).status == .ok, "\(path)")
            }
            let status = try await api.request(.get, "/v1/admin/support_requests?status=closed", token: op)
            #expect(status.status == .badRequest)
            #expect(status.string("error.param") == "status")
            let cursor = try await api.request(.get, "/v1/admin/support_requests?after=org_123", token: op)
            #expect(cursor.status == .badRequest)
            #expect(cursor.string("error.param") == "after")
        }
    }
}
