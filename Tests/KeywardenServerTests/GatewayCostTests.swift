import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenServer
import KeywardenStorage
import Testing

@Suite("Gateway costs, tiers and spend limits")
struct GatewayCostTests {
    /// 2025-06-30 23:58:20 UTC: a month ends a minute and forty seconds later.
    static let lastMinutesOfJune: TimeInterval = 1_751_327_900
    static let juneThirtieth = 1_751_241_600
    static let prices = "echo-1: input=2.50 output=10; big: input=1000 output=1000; free-1: input=0 output=0"
    static let tiers =
        "free: paid=0 monthly=none rpm=1000 tpm=10000000; tier-1: paid=5 monthly=0.03 rpm=2000 tpm=10000000"

    func chat(_ model: String) -> String {
        #"{"model":"\#(model)","messages":[{"role":"user","content":"hello gateway world"}]}"#
    }

    func configure(_ configuration: inout KeywardenConfiguration) {
        configuration.gateway.upstream = .echo
        // Both texts are pinned above; a mistake in them fails every test here at its first priced call.
        configuration.gateway.modelPrices = (try? ModelPrices.parse(Self.prices)) ?? .none
        configuration.gateway.usageTiers = (try? UsageTiers.parse(Self.tiers, currency: .usd)) ?? .standard
    }

    func header(_ response: TestResponse, _ name: String) -> String? {
        response.headers[HTTPField.Name(name)!]
    }

    /// A scripted month: an organization without credit is refused, credit lets its calls
    /// through, calls either side of midnight on the last day of the month are priced into their
    /// own days and debited exactly, a payment moves it up a tier, and an organization budget,
    /// a project budget and the tier's monthly usage limit each stop it with their own refusal.
    @Test func aScriptedMonthEndsWithExactCostsBalanceTierAndRefusals() async throws {
        let outbox = TestOutbox()
        let time = ManualClock()
        time.advance(by: Self.lastMinutesOfJune - time.now.timeIntervalSince1970)
        try await withApp(clock: time.clock, outbox: outbox, configure: configure) { api, services in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let project = try await api.defaultProject(token)
            let key = try #require(try await api.createKey(token, project: project).string("value"))
            let organization = OrganizationID(
                unchecked: try #require(try await api.request(.get, "/v1/organization", token: token).string("id")))

            // No credit: a priced call is refused at once, and the SDKs are told not to retry.
            let broke = try await api.request(.post, "/v1/chat/completions", token: key, json: chat("echo-1"))
            #expect(broke.status == .tooManyRequests)
            #expect(broke.string("error.code") == "insufficient_quota")
            #expect(broke.string("error.type") == "insufficient_quota")
            #expect(broke.string("error.message") == SpendRefusal.quotaSentence)
            #expect(header(broke, "x-should-retry") == "false")
            // A model listed at no cost needs no credit; one not listed might be answered by a
            // priced one, so it needs credit like any other.
            let free = try await api.request(.post, "/v1/chat/completions", token: key, json: chat("free-1"))
            #expect(free.status == .ok)
            let unlisted = try await api.request(.post, "/v1/chat/completions", token: key, json: chat("unlisted"))
            #expect(unlisted.string("error.code") == "insufficient_quota")
            // Other writes can spend upstream money too (a batch); reads cannot.
            let batch = try await api.request(.post, "/v1/batches", token: key, json: #"{"input_file_id":"file-1"}"#)
            #expect(batch.string("error.code") == "insufficient_quota")
            #expect(try await api.request(.get, "/v1/models", token: key).status == .ok)

            _ = try await services.billing.grant(micros: 1_000_000, to: organization, reason: nil, by: .operator)
            time.advance(by: 3)  // the refusal is looked at again after two seconds

            // Four calls on 30 June, four on 1 July.
            var perCall: Int64 = 0
            for index in 0..<8 {
                if index == 4 { time.advance(by: 120) }
                let call = try await api.request(.post, "/v1/chat/completions", token: key, json: chat("echo-1"))
                #expect(call.status == .ok)
                let prompt = Int64(try #require(call.value("usage.prompt_tokens") as? Int))
                let completion = Int64(try #require(call.value("usage.completion_tokens") as? Int))
                // $2.50 and $10 per million tokens are 2,500 and 10,000 nano-units a token.
                perCall = prompt * 2_500 + completion * 10_000
            }
            let day = perCall * 4
            let costs = try await api.request(
                .get, "/v1/organization/costs?start_time=\(Self.juneThirtieth)&limit=2&group_by=line_item", token: token
            )
            #expect(costs.status == .ok)
            let buckets = try #require(costs.value("data") as? [[String: Any]])
            #expect(buckets.count == 2)
            for bucket in buckets {
                let results = try #require(bucket["results"] as? [[String: Any]])
                let items = results.compactMap { $0["line_item"] as? String }
                #expect(items == ["echo-1, input", "echo-1, output"])
                let values = results.compactMap { ($0["amount"] as? [String: Any])?["value"] as? Double }
                #expect(values.count == 2)
            }
            let total = try await api.request(
                .get, "/v1/organization/costs?start_time=\(Self.juneThirtieth)&limit=2", token: token)
            let text = String(decoding: total.body, as: UTF8.self)
            let dayValue = Decimal(sign: .plus, exponent: -9, significand: Decimal(day))
            #expect(text.components(separatedBy: #""value":\#(dayValue)"#).count == 3, "\(text)")

            // The balance lost exactly what the calls cost, one usage entry a day.
            let billing = try await api.request(.get, "/v1/organization/billing", token: token)
            #expect(billing.value("balance.micros") as? Int == 1_000_000 - Int(2 * day / 1000))
            let history = try await api.request(.get, "/v1/organization/billing/transactions", token: token)
            let kinds = (history.value("data") as? [[String: Any]])?.compactMap { $0["type"] as? String }
            #expect(kinds?.filter { $0 == "usage" }.count == 2)

            // A payment of $5 earns Tier 1 once the cached standing is read again.
            _ = try await SQLBillingRepository(database: services.database).append(
                LedgerEntry(
                    organizationID: organization, kind: .purchase, amountMicros: 5_000_000,
                    description: "Credit purchase", reference: "test-purchase", createdAt: time.now))
            time.advance(by: 11)
            let limits = try await api.request(.get, "/v1/organization/spend_limits", token: token)
            #expect(limits.string("tier.name") == "tier-1")
            #expect(limits.value("tier.monthly_usage_limit.micros") as? Int == 30_000)
            #expect(limits.value("next_tier") is NSNull)
            let models = try await api.request(.get, "/v1/models", token: key)
            #expect(header(models, "x-ratelimit-limit-requests") == "2000")

            // An organization budget of one cent: July's spend passes it with one big call.
            let setBudget = try await api.request(
                .post, "/v1/organization/spend_limits", token: token, json: #"{"monthly_budget":1}"#)
            #expect(setBudget.status == .ok)
            #expect(setBudget.value("monthly_budget.micros") as? Int == 10_000)
            #expect(try await api.request(.post, "/v1/chat/completions", token: key, json: chat("big")).status == .ok)
            let overBudget = try await api.request(.post, "/v1/chat/completions", token: key, json: chat("big"))
            #expect(overBudget.status == .tooManyRequests)
            #expect(overBudget.string("error.code") == "organization_spend_limit_exceeded")
            #expect(overBudget.string("error.message")?.contains("$0.01") == true)

            // Moved to the project: its own budget refuses with its own code.
            _ = try await api.request(
                .post, "/v1/organization/spend_limits", token: token, json: #"{"monthly_budget":null}"#)
            let projectBudget = try await api.request(
                .post, "/v1/organization/projects/\(project)/spend_limits", token: token,
                json: #"{"monthly_budget":1,"hard_limit":true}"#)
            #expect(projectBudget.status == .ok)
            let overProject = try await api.request(.post, "/v1/chat/completions", token: key, json: chat("big"))
            #expect(overProject.string("error.code") == "project_spend_limit_exceeded")

            // Without budgets, Tier 1's three cents a month are what is left to spend.
            _ = try await api.request(
                .post, "/v1/organization/projects/\(project)/spend_limits", token: token,
                json: #"{"monthly_budget":null}"#)
            var refusal: TestResponse?
            for _ in 0..<5 {
                let call = try await api.request(.post, "/v1/chat/completions", token: key, json: chat("big"))
                if call.status != .ok {
                    refusal = call
                    break
                }
                // Let each call's cost be written, as the usage flusher does every second.
                try await services.gateway.meter.flush(to: services.gateway.usage)
            }
            let monthly = try #require(refusal)
            #expect(monthly.status == .tooManyRequests)
            #expect(monthly.string("error.code") == "insufficient_quota")
            #expect(monthly.string("error.message")?.contains("usage tier (tier-1) allows $0.03") == true)
            let spent = try await api.request(.get, "/v1/organization/spend_limits", token: token)
            let spentMicros = try #require(spent.value("spent_this_month.micros") as? Int)
            #expect(spentMicros >= 30_000 && spentMicros < 30_000 + 20_000)
        }
    }

    @Test func budgetsAreCheckedWhereTheyAreRead() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: configure) { api, _ in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            for body in [
                #"{"monthly_budget":0}"#, #"{"monthly_budget":-5}"#, #"{"monthly_budget":"10"}"#,
                #"{"monthly_budget":100,"alert_thresholds":[0]}"#, #"{"monthly_budget":100,"alert_thresholds":[101]}"#,
                #"{"hard_limit":true}"#, #"{"monthly_budget":1000000000000000}"#,
            ] {
                let response = try await api.request(
                    .post, "/v1/organization/spend_limits", token: token, json: body)
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.string("error.type") == "invalid_request_error")
            }
            let unchanged = try await api.request(.get, "/v1/organization/spend_limits", token: token)
            #expect(unchanged.value("monthly_budget") is NSNull)
        }
    }

    @Test func completionsUsageIsGroupedByModelAndLeavesOtherPathsOut() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: { $0.gateway.upstream = .echo }) { api, _ in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let project = try await api.defaultProject(token)
            let key = try #require(try await api.createKey(token, project: project).string("value"))
            for model in ["echo-1", "echo-1", "echo-2"] {
                _ = try await api.request(.post, "/v1/chat/completions", token: key, json: chat(model))
            }
            _ = try await api.request(.get, "/v1/models", token: key)
            let start = Int(Date().timeIntervalSince1970) - 3600
            let usage = try await api.request(
                .get, "/v1/organization/usage/completions?start_time=\(start)&bucket_width=1h&limit=3&group_by=model",
                token: token)
            let results = (usage.value("data") as? [[String: Any]])?.flatMap {
                ($0["results"] as? [[String: Any]]) ?? []
            }
            let byModel = Dictionary(
                uniqueKeysWithValues: (results ?? []).compactMap { result in
                    (result["model"] as? String).map { ($0, result["num_model_requests"] as? Int ?? 0) }
                })
            #expect(byModel == ["echo-1": 2, "echo-2": 1])
        }
    }

    /// Owners are mailed when the month's spend passes an alert threshold: the highest passed,
    /// once per threshold and month, however often the check runs.
    @Test func budgetAlertsAreMailedToOwnersOncePerThresholdAndMonth() async throws {
        let outbox = TestOutbox()
        let mailbox = TestMailbox()
        let time = ManualClock()
        try await withApp(clock: time.clock, outbox: outbox, mailbox: mailbox, configure: configure) {
            api, services in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let project = try await api.defaultProject(token)
            let organization = try #require(try await api.request(.get, "/v1/organization", token: token).string("id"))
            let budget = try await api.request(
                .post, "/v1/organization/spend_limits", token: token,
                json: #"{"monthly_budget":100,"hard_limit":false,"alert_thresholds":[50,80,100]}"#)
            #expect(budget.status == .ok)
            func spend(_ micros: Int64) async throws {
                try await services.gateway.usage.add([
                    UsageRecord(
                        apiKeyID: "key_a", projectID: project, organizationID: organization, minute: time.now,
                        model: "echo-1", requests: 1, inputCostNanos: micros * 1000)
                ])
            }
            func alerts() -> [EmailMessage] {
                mailbox.sent(to: "ada@example.com").filter { $0.subject.contains("monthly budget") }
            }
            try await spend(400_000)  // $0.40 of $1.00: no threshold yet
            #expect(try await services.spend.sendAlerts() == 0)
            try await spend(450_000)  // $0.85: past 50% and 80%, one email for 80%
            #expect(try await services.spend.sendAlerts() == 1)
            #expect(try await services.spend.sendAlerts() == 0)
            #expect(alerts().map(\.subject) == ["80% of your monthly budget is spent"])
            #expect(alerts().first?.text.contains("$0.85") == true)
            try await spend(200_000)  // $1.05
            #expect(try await services.spend.sendAlerts() == 1)
            #expect(alerts().count == 2)
            let log = try await api.request(
                .get, "/v1/organization/audit_logs?event_types[]=spend_alert.sent", token: token)
            #expect((log.value("data") as? [Any])?.count == 2)
        }
    }

    /// A stream without `include_usage` reports no usage: it is charged an estimate, not nothing.
    @Test func anAnswerThatReportsNoUsageIsChargedAnEstimate() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: configure) { api, services in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let project = try await api.defaultProject(token)
            let key = try #require(try await api.createKey(token, project: project).string("value"))
            let organization = OrganizationID(
                unchecked: try #require(try await api.request(.get, "/v1/organization", token: token).string("id")))
            _ = try await services.billing.grant(micros: 1_000_000, to: organization, reason: nil, by: .operator)
            let body =
                #"{"model":"big","stream":true,"messages":[{"role":"user","content":"one two three four"}]}"#
            let streamed = try await api.request(.post, "/v1/chat/completions", token: key, json: body)
            #expect(streamed.status == .ok)
            #expect(!String(decoding: streamed.body, as: UTF8.self).contains("prompt_tokens"))
            try await services.gateway.meter.flush(to: services.gateway.usage)
            let limits = try await api.request(.get, "/v1/organization/spend_limits", token: token)
            // At a thousandth of a dollar a token, a token per four bytes each way is several cents.
            let spent = try #require(limits.value("spent_this_month.micros") as? Int)
            let estimate = (body.utf8.count + 3) / 4 + (streamed.body.count + 3) / 4
            #expect(spent == estimate * 1000)
        }
    }
}
