import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenServer
import SQLKit
import Testing

@Suite("Dashboard: organization settings")
struct DashboardSettingsTests {
    /// Signs up through the pages and opens `path`, so the browser holds the session's form token.
    func signedIn(_ api: TestAPI, at path: String, email: String = "ada@example.com") async throws -> TestBrowser {
        let browser = TestBrowser(api)
        try await browser.signUp(email)
        let page = try await browser.get(path)
        #expect(page.status == .ok)
        return browser
    }

    func token(_ browser: TestBrowser) throws -> String {
        try #require(browser.cookies["keywarden_session"])
    }

    func organizationID(_ api: TestAPI, _ browser: TestBrowser) async throws -> String {
        try #require(try await api.request(.get, "/v1/organization", token: token(browser)).string("id"))
    }

    func projects(_ api: TestAPI, _ browser: TestBrowser) async throws -> [[String: Any]] {
        let list = try await api.request(.get, "/v1/organization/projects?include_archived=true", token: token(browser))
        return try #require(list.value("data") as? [[String: Any]])
    }

    func defaultProjectID(_ api: TestAPI, _ browser: TestBrowser) async throws -> String {
        let all = try await projects(api, browser)
        return try #require(all.first { $0["is_default"] as? Bool == true }?["id"] as? String)
    }

    /// The number of events the audit log page shows.
    func eventCount(_ html: String) -> Int {
        html.components(separatedBy: "<time datetime=").count - 1
    }

    /// The "Older events" link of the page, unescaped.
    func olderLink(_ html: String) -> String? {
        html.firstMatch(of: /href="([^"]+)" rel="next">Older events</).map {
            String($0.output.1).replacingOccurrences(of: "&amp;", with: "&")
        }
    }

    /// A purchase credited to the organization at `date`, as the ledger records one; the tier's
    /// cached standing is forgotten so the next page counts it.
    func pay(_ micros: Int64, to organization: String, at date: Date, services: KeywardenServices) async throws {
        let id = "le_test_\(UUID().uuidString.lowercased())"
        let milliseconds = Int64(date.timeIntervalSince1970 * 1000)
        try await services.database.withConnection { db in
            try await db.raw(
                """
                INSERT INTO ledger_entries
                    (id, organization_id, kind, amount_micros, description, reference, created_at)
                VALUES (\(bind: id), \(bind: organization), 'purchase', \(bind: micros), 'Credits', \(bind: id),
                    \(bind: milliseconds))
                """
            ).run()
        }
        services.gateway.rateLimits.forgetStanding(of: OrganizationID(unchecked: organization))
    }

    /// The organization's budget as the spend service reads it.
    func budget(_ organization: String, services: KeywardenServices) async throws -> SpendBudget? {
        try await services.spend.summary(of: OrganizationID(unchecked: organization)).budget
    }

    /// The project's budget as the spend service reads it.
    func budget(
        _ organization: String, project: String, services: KeywardenServices
    ) async throws -> SpendBudget? {
        let summary = try await services.spend.summary(of: OrganizationID(unchecked: organization))
        return summary.projects[ProjectID(unchecked: project)]?.budget
    }

    /// The sentence a budget amount that is not one gets.
    static let budgetAmountSentence =
        "Enter the monthly budget as an amount from $0.01 to $10,000,000.00, such as 50.00."

    @Test func everySettingsPageIsInTheNavAndHasNoInlineScriptOrStyle() async throws {
        try await withApp { api, _ in
            let browser = try await signedIn(api, at: "/settings/organization/general")
            for (path, heading) in [
                ("general", "General"), ("members", "Members"), ("projects", "Projects"), ("limits", "Limits"),
                ("billing", "Billing"), ("audit-log", "Audit log"),
            ] {
                let page = try await browser.get("/settings/organization/\(path)")
                #expect(page.status == .ok, "\(path)")
                #expect(browser.lastPage.contains("<h1>\(heading)</h1>"), "\(path)")
                #expect(
                    browser.lastPage.contains(
                        #"<a href="/settings/organization/\#(path)" aria-current="page">\#(heading)</a>"#), "\(path)")
                #expect(!browserHasInlineScriptOrStyle(browser.lastPage), "\(path)")
            }
        }
    }

    @Test func anOwnerRenamesTheOrganizationAndTheSwitcherAndTheAuditLogShowIt() async throws {
        try await withApp { api, _ in
            let browser = try await signedIn(api, at: "/settings/organization/general")
            #expect(browser.lastPage.contains("<h1>General</h1>"))
            #expect(browser.lastPage.contains(#"<label for="name">Organization name</label>"#))
            let id = try await organizationID(api, browser)
            #expect(browser.lastPage.contains(#"<code id="organization-id">\#(id)</code>"#))
            #expect(browser.lastPage.contains("Unverified"))

            let saved = try await browser.post("/settings/organization/general", [("name", "  Analytical Engines ")])
            #expect(saved.status == .seeOther)
            #expect(saved.headers[.location] == "/settings/organization/general")
            try await browser.follow(saved)
            #expect(browser.lastPage.contains(#"<option value="\#(id)" selected>Analytical Engines</option>"#))
            #expect(browser.lastPage.contains("<dd>Analytical Engines</dd>"))
            let shown = try await api.request(.get, "/v1/organization", token: token(browser))
            #expect(shown.string("name") == "Analytical Engines")

            try await browser.get("/settings/organization/audit-log")
            #expect(browser.lastPage.contains("<code>organization.updated</code>"))
            #expect(browser.lastPage.contains("<li><code>name</code>=Analytical Engines</li>"))
            #expect(browser.lastPage.contains("<td>ada@example.com</td>"))
        }
    }

    @Test func anEmptyOrganizationNameIsRefusedNextToTheFieldAndChangesNothing() async throws {
        try await withApp { api, _ in
            let browser = try await signedIn(api, at: "/settings/organization/general")
            let refused = try await browser.post("/settings/organization/general", [("name", "   ")])
            #expect(refused.status == .badRequest)
            #expect(browser.lastPage.contains(#"<p class="field-error" id="name-error">Enter a name.</p>"#))
            let shown = try await api.request(.get, "/v1/organization", token: token(browser))
            #expect(shown.string("name") == "Personal")
            try await browser.get("/settings/organization/audit-log?type=organization.updated")
            #expect(eventCount(browser.lastPage) == 0)
        }
    }

    @Test func projectsCreatedRenamedAndArchivedOnThePageAreSoInTheAPI() async throws {
        try await withApp { api, _ in
            let browser = try await signedIn(api, at: "/settings/organization/projects")
            #expect(browser.lastPage.contains("<h1>Projects</h1>"))
            #expect(browser.lastPage.contains(#"<label for="project-name">Project name</label>"#))

            let created = try await browser.post("/settings/organization/projects", [("name", "Research")])
            #expect(created.status == .seeOther)
            let research = try #require(try await projects(api, browser).first { $0["name"] as? String == "Research" })
            let id = try #require(research["id"] as? String)
            try await browser.get("/settings/organization/projects")
            #expect(browser.lastPage.contains(#"<tr id="project-\#(id)">"#))

            let renamed = try await browser.post("/settings/organization/projects/\(id)", [("name", "Field research")])
            #expect(renamed.status == .seeOther)
            let afterRename = try await api.request(.get, "/v1/organization/projects/\(id)", token: token(browser))
            #expect(afterRename.string("name") == "Field research")

            let archived = try await browser.post("/settings/organization/projects/\(id)/archive")
            #expect(archived.status == .seeOther)
            let afterArchive = try await api.request(.get, "/v1/organization/projects/\(id)", token: token(browser))
            #expect(afterArchive.string("status") == "archived")
            try await browser.get("/settings/organization/projects")
            #expect(browser.lastPage.contains("Archived on"))
            // An archived project has no forms left.
            #expect(!browser.lastPage.contains(#"action="/settings/organization/projects/\#(id)""#))

            let empty = try await browser.post("/settings/organization/projects", [("name", "")])
            #expect(empty.status == .badRequest)
            #expect(browser.lastPage.contains(#"<p class="field-error" id="project-name-error">Enter a name.</p>"#))
        }
    }

    @Test func archivingTheDefaultProjectIsRefusedInWords() async throws {
        try await withApp { api, _ in
            let browser = try await signedIn(api, at: "/settings/organization/projects")
            let id = try await defaultProjectID(api, browser)
            #expect(browser.lastPage.contains("The default project cannot be archived."))
            #expect(!browser.lastPage.contains(#"action="/settings/organization/projects/\#(id)/archive""#))

            let refused = try await browser.post("/settings/organization/projects/\(id)/archive")
            #expect(refused.status == .conflict)
            #expect(
                browser.lastPage.contains(
                    #"id="rename-\#(id)-error">The default project cannot be archived. Archive another project"#))
            let shown = try await api.request(.get, "/v1/organization/projects/\(id)", token: token(browser))
            #expect(shown.string("status") == "active")
        }
    }

    @Test func aProjectOverrideSetOnTheLimitsPageAppliesAndBadNumbersAreRefusedNextToTheField() async throws {
        try await withApp { api, _ in
            let browser = try await signedIn(api, at: "/settings/organization/limits")
            #expect(browser.lastPage.contains("<h1>Limits</h1>"))
            #expect(browser.lastPage.contains(#"<strong id="tier">Free</strong>"#))
            let id = try await defaultProjectID(api, browser)
            #expect(browser.lastPage.contains(#"<label for="requests-\#(id)">Requests per minute</label>"#))
            #expect(browser.lastPage.contains(#"<label for="tokens-\#(id)">Tokens per minute</label>"#))
            let path = "/v1/organization/projects/\(id)/rate_limits"
            let saved = try await browser.post(
                "/settings/organization/limits/\(id)", [("requests", "1234"), ("tokens", "")])
            #expect(saved.status == .seeOther)
            let limits = try await api.request(.get, path, token: token(browser))
            #expect(limits.value("max_requests_per_1_minute") as? Int == 1234)
            #expect(limits.value("project_override.max_requests_per_1_minute") as? Int == 1234)
            #expect(limits.value("project_override.max_tokens_per_1_minute") is NSNull)
            try await browser.get("/settings/organization/limits")
            #expect(browser.lastPage.contains("<td>1,234</td><td>This project</td>"))
            #expect(browser.lastPage.contains(#"value="1234""#))

            for bad in ["-1", "abc", "0", "1.5", "1000000000001"] {
                let refused = try await browser.post(
                    "/settings/organization/limits/\(id)", [("requests", bad), ("tokens", "")])
                #expect(refused.status == .badRequest, "requests=\(bad)")
                #expect(browser.lastPage.contains(#"id="requests-\#(id)-error">Enter a whole number"#), "\(bad)")
                #expect(!browser.lastPage.contains(#"id="tokens-\#(id)-error""#))
            }
            let refused = try await browser.post(
                "/settings/organization/limits/\(id)", [("requests", "10"), ("tokens", "abc")])
            #expect(refused.status == .badRequest)
            #expect(browser.lastPage.contains(#"id="tokens-\#(id)-error">Enter a whole number"#))
            let unchanged = try await api.request(.get, path, token: token(browser))
            #expect(unchanged.value("project_override.max_requests_per_1_minute") as? Int == 1234)

            let cleared = try await browser.post(
                "/settings/organization/limits/\(id)", [("requests", ""), ("tokens", "")])
            #expect(cleared.status == .seeOther)
            let tier = try await api.request(.get, path, token: token(browser))
            #expect(tier.value("project_override.max_requests_per_1_minute") is NSNull)
            #expect(tier.value("max_requests_per_1_minute") as? Int == 60)
        }
    }

    @Test func theLimitsPageShowsTheUsageTierAndWhatTheNextTierTakes() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, services in
            let browser = try await signedIn(api, at: "/settings/organization/limits")
            var html = browser.lastPage
            #expect(html.contains("<h2>Usage tier</h2>"))
            #expect(html.contains(#"<strong id="tier">Free</strong>"#))
            #expect(!html.contains("(set by the operator)"))
            #expect(html.contains(#"<dd id="monthly-usage-limit">$100.00 a month</dd>"#))
            #expect(html.contains(#"<dd id="spent-this-month">$0.00</dd>"#))
            #expect(
                html.contains(#"<p id="next-tier">Tier 1 needs $5.00 paid (you have paid $0.00: $5.00 more).</p>"#))
            #expect(html.contains("<td>Requests per minute</td><td>60</td><td>Free</td>"))

            // $10 paid now (2025-06-15): Tier 1, and Tier 2's 7 days count from the payment.
            let organization = try await organizationID(api, browser)
            try await pay(10_000_000, to: organization, at: time.now, services: services)
            try await browser.get("/settings/organization/limits")
            html = browser.lastPage
            #expect(html.contains(#"<strong id="tier">Tier 1</strong>"#))
            #expect(
                html.contains(
                    #"<p id="next-tier">Tier 2 needs $50.00 paid (you have paid $10.00: $40.00 more) and 7 days "#
                        + #"since your first payment (from 22 June 2025).</p>"#))
            #expect(!browserHasInlineScriptOrStyle(html))
        }
    }

    @Test func aTierThatNeedsDaysSaysSoBeforeAnyPaymentAndTheTopTierSaysItIsTheHighest() async throws {
        let time = ManualClock()
        let text = "free: paid=0 monthly=none rpm=60 tpm=100000; gold: paid=50 days=7 monthly=500 rpm=500 tpm=500000"
        let tiers = try UsageTiers.parse(text, currency: .usd)
        try await withApp(clock: time.clock, configure: { $0.gateway.usageTiers = tiers }) { api, services in
            let browser = try await signedIn(api, at: "/settings/organization/limits")
            var html = browser.lastPage
            #expect(html.contains(#"<dd id="monthly-usage-limit">no monthly limit</dd>"#))
            #expect(
                html.contains(
                    #"<p id="next-tier">gold needs $50.00 paid (you have paid $0.00: $50.00 more) and 7 days "#
                        + #"since your first payment (there has been no payment yet).</p>"#))

            // $50 paid just now: enough paid, the days still to come.
            let organization = try await organizationID(api, browser)
            try await pay(50_000_000, to: organization, at: time.now, services: services)
            try await browser.get("/settings/organization/limits")
            html = browser.lastPage
            #expect(html.contains(#"<strong id="tier">Free</strong>"#))
            #expect(
                html.contains(
                    #"<p id="next-tier">gold needs $50.00 paid (you have paid $50.00: enough) and 7 days "#
                        + #"since your first payment (from 22 June 2025).</p>"#))

            // A first payment eight days ago puts the organization in the top tier.
            let eightDaysAgo = time.now.addingTimeInterval(-8 * 86_400)
            try await pay(50_000_000, to: organization, at: eightDaysAgo, services: services)
            try await browser.get("/settings/organization/limits")
            html = browser.lastPage
            #expect(html.contains(#"<strong id="tier">gold</strong>"#))
            #expect(html.contains(#"<dd id="monthly-usage-limit">$500.00 a month</dd>"#))
            #expect(html.contains(#"<p id="next-tier">This is the highest tier.</p>"#))
        }
    }

    @Test func anOwnerSavesChangesAndRemovesTheOrganizationBudgetOnTheLimitsPage() async throws {
        try await withApp { api, services in
            let browser = try await signedIn(api, at: "/settings/organization/limits")
            let organization = try await organizationID(api, browser)
            #expect(browser.lastPage.contains("No monthly budget is set. Spent this month: $0.00."))
            #expect(browser.lastPage.contains(#"<label for="monthly-budget">Monthly budget</label>"#))
            #expect(browser.lastPage.contains(#"<label for="alert-thresholds">Alert thresholds (%)</label>"#))
            let checked = #"id="hard-limit" name="hard_limit" type="checkbox" value="on" checked>"#
            #expect(browser.lastPage.contains(checked))
            #expect(browser.lastPage.contains("Stop API calls when the budget is spent"))
            #expect(!browser.lastPage.contains("Remove budget"))

            let saved = try await browser.post(
                "/settings/organization/budget",
                [("monthly_budget", "$50"), ("hard_limit", "on"), ("alert_thresholds", "50, 80, 100")])
            #expect(saved.status == .seeOther)
            #expect(saved.headers[.location] == "/settings/organization/limits")
            #expect(
                try await budget(organization, services: services)
                    == SpendBudget(monthlyMicros: 50_000_000, hardLimit: true, alertPercents: [50, 80, 100]))
            try await browser.follow(saved)
            #expect(browser.lastPage.contains("Budget saved."))
            #expect(browser.lastPage.contains(#"<p id="organization-spend">Spent this month: $0.00 of $50.00.</p>"#))
            #expect(browser.lastPage.contains("Owners get an email at 50%, 80%, 100% of it."))
            #expect(browser.lastPage.contains(#"value="50.00""#))
            #expect(browser.lastPage.contains("Remove budget"))
            let shown = try await api.request(.get, "/v1/organization/spend_limits", token: token(browser))
            #expect(shown.value("monthly_budget.micros") as? Int == 50_000_000)

            // Alerts only, another amount and thresholds.
            let changed = try await browser.post(
                "/settings/organization/budget", [("monthly_budget", "1,000.50"), ("alert_thresholds", "25%")])
            #expect(changed.status == .seeOther)
            #expect(
                try await budget(organization, services: services)
                    == SpendBudget(monthlyMicros: 1_000_500_000, hardLimit: false, alertPercents: [25]))
            try await browser.get("/settings/organization/limits")
            #expect(browser.lastPage.contains("Spent this month: $0.00 of $1,000.50."))
            #expect(browser.lastPage.contains("The budget only sends alerts"))
            #expect(browser.lastPage.contains(#"id="hard-limit" name="hard_limit" type="checkbox" value="on">"#))

            let removed = try await browser.post("/settings/organization/budget/remove")
            #expect(removed.status == .seeOther)
            #expect(try await budget(organization, services: services) == nil)
            try await browser.follow(removed)
            #expect(browser.lastPage.contains("Budget removed."))
            #expect(browser.lastPage.contains("No monthly budget is set."))

            try await browser.get("/settings/organization/audit-log?type=spend_limit.updated")
            #expect(eventCount(browser.lastPage) == 3)
        }
    }

    @Test func aBadBudgetIsRefusedNextToItsFieldKeepsWhatWasTypedAndSavesNothing() async throws {
        try await withApp { api, services in
            let browser = try await signedIn(api, at: "/settings/organization/limits")
            let organization = try await organizationID(api, browser)
            for bad in ["abc", "0", "", "-5", "10.505", "10000000.01"] {
                let refused = try await browser.post(
                    "/settings/organization/budget",
                    [("monthly_budget", bad), ("hard_limit", "on"), ("alert_thresholds", "50, 80, 100")])
                #expect(refused.status == .badRequest, "\(bad)")
                #expect(
                    browser.lastPage.contains(
                        #"<p class="field-error" id="monthly-budget-error">\#(Self.budgetAmountSentence)</p>"#),
                    "\(bad)")
                #expect(browser.lastPage.contains(#"value="\#(bad)""#), "\(bad)")
                #expect(!browser.lastPage.contains(#"id="alert-thresholds-error""#))
            }
            for bad in ["0", "101", "fifty", "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11"] {
                let refused = try await browser.post(
                    "/settings/organization/budget", [("monthly_budget", "50"), ("alert_thresholds", bad)])
                #expect(refused.status == .badRequest, "\(bad)")
                #expect(
                    browser.lastPage.contains(#"<p class="field-error" id="alert-thresholds-error">Enter up to ten"#),
                    "\(bad)")
                #expect(!browser.lastPage.contains(#"id="monthly-budget-error""#))
                #expect(browser.lastPage.contains(#"value="50""#))
                // The checkbox shows what was sent: not checked.
                #expect(browser.lastPage.contains(#"id="hard-limit" name="hard_limit" type="checkbox" value="on">"#))
            }
            #expect(try await budget(organization, services: services) == nil)
            try await browser.get("/settings/organization/audit-log?type=spend_limit.updated")
            #expect(eventCount(browser.lastPage) == 0)
        }
    }

    @Test func aProjectBudgetSetOnTheLimitsPageAppliesToTheProjectAndShowsItsSpend() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, services in
            let browser = try await signedIn(api, at: "/settings/organization/limits")
            let organization = try await organizationID(api, browser)
            let id = try await defaultProjectID(api, browser)
            #expect(browser.lastPage.contains(#"<label for="budget-\#(id)">Monthly budget</label>"#))
            #expect(browser.lastPage.contains(#"<p id="project-spend-\#(id)">Spent this month: $0.00. No budget"#))

            let saved = try await browser.post(
                "/settings/organization/limits/\(id)/budget", [("monthly_budget", "20"), ("hard_limit", "on")])
            #expect(saved.status == .seeOther)
            #expect(
                try await budget(organization, project: id, services: services)
                    == SpendBudget(monthlyMicros: 20_000_000))
            let shown = try await api.request(
                .get, "/v1/organization/projects/\(id)/spend_limits", token: token(browser))
            #expect(shown.value("monthly_budget.micros") as? Int == 20_000_000)

            // $1.50 spent this month, and a thousandth of a micro-unit that is not shown.
            let minute = Date(timeIntervalSince1970: (time.now.timeIntervalSince1970 / 60).rounded(.down) * 60)
            try await services.gateway.usage.add([
                UsageRecord(
                    apiKeyID: "key_test", projectID: id, organizationID: organization, minute: minute, model: "gpt-4o",
                    requests: 1, promptTokens: 10, completionTokens: 5, inputCostNanos: 1_000_000_000,
                    outputCostNanos: 500_000_999)
            ])
            try await browser.get("/settings/organization/limits")
            #expect(
                browser.lastPage.contains(
                    #"<p id="project-spend-\#(id)">Spent this month: $1.50 of $20.00. API calls stop when"#))
            #expect(browser.lastPage.contains(#"value="20.00""#))

            let refused = try await browser.post(
                "/settings/organization/limits/\(id)/budget", [("monthly_budget", "abc"), ("hard_limit", "on")])
            #expect(refused.status == .badRequest)
            #expect(
                browser.lastPage.contains(
                    #"<p class="field-error" id="budget-\#(id)-error">\#(Self.budgetAmountSentence)</p>"#))
            #expect(browser.lastPage.contains(#"value="abc""#))
            #expect(try await budget(organization, project: id, services: services)?.monthlyMicros == 20_000_000)

            let removed = try await browser.post(
                "/settings/organization/limits/\(id)/budget", [("monthly_budget", ""), ("hard_limit", "on")])
            #expect(removed.status == .seeOther)
            #expect(try await budget(organization, project: id, services: services) == nil)
        }
    }

    @Test func nonOwnersSeeTheBudgetsWithoutFormsAndAreRefusedWhenTheyPostAnyway() async throws {
        try await withApp { api, services in
            let owner = try await signedIn(api, at: "/settings/organization/limits")
            let organization = try await organizationID(api, owner)
            let project = try await defaultProjectID(api, owner)
            let saved = try await owner.post(
                "/settings/organization/budget", [("monthly_budget", "50"), ("hard_limit", "on")])
            #expect(saved.status == .seeOther)
            let reader = try await signedIn(api, at: "/settings/organization/general", email: "grace@example.com")
            let me = try await api.request(.get, "/v1/me", token: token(reader))
            try await services.addReader(try #require(me.string("id")), to: organization)
            try await services.addProjectMember(try #require(me.string("id")), to: project, role: "viewer")
            try await reader.post("/switch", [("organization", organization)])

            try await reader.get("/settings/organization/limits")
            #expect(reader.lastPage.contains(#"<p id="organization-spend">Spent this month: $0.00 of $50.00.</p>"#))
            #expect(reader.lastPage.contains("Only owners of this organization can change its budget."))
            #expect(!reader.lastPage.contains(#"action="/settings/organization/budget"#))
            #expect(!reader.lastPage.contains(#"action="/settings/organization/limits/\#(project)/budget""#))
            #expect(!reader.lastPage.contains("Remove budget"))

            let organizationBudget = try await reader.post(
                "/settings/organization/budget", [("monthly_budget", "1"), ("hard_limit", "on")])
            #expect(organizationBudget.status == .forbidden)
            #expect(reader.lastPage.contains("Only owners of this organization can do that."))
            let removal = try await reader.post("/settings/organization/budget/remove")
            #expect(removal.status == .forbidden)
            let projectBudget = try await reader.post(
                "/settings/organization/limits/\(project)/budget", [("monthly_budget", "1")])
            #expect(projectBudget.status == .forbidden)
            #expect(reader.lastPage.contains("Your role in this project does not allow that."))

            #expect(try await budget(organization, services: services)?.monthlyMicros == 50_000_000)
            #expect(try await budget(organization, project: project, services: services) == nil)
        }
    }

    @Test func readersSeeTheSettingsWithoutFormsAndAreRefusedInWordsWhenTheyPostAnyway() async throws {
        try await withApp { api, services in
            let owner = try await signedIn(api, at: "/settings/organization/general")
            let organization = try await organizationID(api, owner)
            let project = try await defaultProjectID(api, owner)
            let reader = try await signedIn(api, at: "/settings/organization/general", email: "grace@example.com")
            let me = try await api.request(.get, "/v1/me", token: token(reader))
            try await services.addReader(try #require(me.string("id")), to: organization)
            try await services.addProjectMember(try #require(me.string("id")), to: project, role: "viewer")
            try await reader.post("/switch", [("organization", organization)])

            try await reader.get("/settings/organization/general")
            #expect(reader.lastPage.contains(#"<code id="organization-id">\#(organization)</code>"#))
            #expect(!reader.lastPage.contains("Organization name"))
            #expect(reader.lastPage.contains("Only owners of this organization can rename it."))
            let rename = try await reader.post("/settings/organization/general", [("name", "Mine now")])
            #expect(rename.status == .forbidden)
            #expect(reader.lastPage.contains("Only owners of this organization can do that."))
            #expect(try await api.request(.get, "/v1/organization", token: token(owner)).string("name") == "Personal")

            try await reader.get("/settings/organization/projects")
            #expect(!reader.lastPage.contains("Create project"))
            let create = try await reader.post("/settings/organization/projects", [("name", "Sneaky")])
            #expect(create.status == .forbidden)
            #expect(try await projects(api, owner).count == 1)

            try await reader.get("/settings/organization/limits")
            #expect(!reader.lastPage.contains(#"action="/settings/organization/limits/"#))
            let limits = try await reader.post(
                "/settings/organization/limits/\(project)", [("requests", "5"), ("tokens", "")])
            #expect(limits.status == .forbidden)
            #expect(reader.lastPage.contains("Your role in this project does not allow that."))

            let billing = try await reader.get("/settings/organization/billing")
            #expect(billing.status == .forbidden)
            #expect(!reader.lastPage.contains("Add payment method"))
            let card = try await reader.post("/settings/organization/billing/payment-methods", [])
            #expect(card.status == .forbidden)
            let credits = try await reader.post(
                "/settings/organization/billing/credits", [("amount", "10.00"), ("idempotency_key", "k1")])
            #expect(credits.status == .forbidden)

            try await reader.get("/settings/organization/audit-log")
            #expect(reader.lastPage.contains("<h1>Audit log</h1>"))
        }
    }

    @Test func theAuditLogFiltersByTypeAndByDayInUTCAndPagesFiftyAtATime() async throws {
        try await withApp { api, services in
            let browser = try await signedIn(api, at: "/settings/organization/audit-log")
            #expect(browser.lastPage.contains(#"<option value="organization.updated">organization.updated</option>"#))
            let organization = OrganizationID(unchecked: try await organizationID(api, browser))
            let march1 = Date(timeIntervalSince1970: 1_709_251_200)
            func append(_ type: AuditEventType, at date: Date, index: Int) async throws {
                try await services.audit.append(
                    AuditEvent(
                        organizationID: organization, type: type, effectiveAt: date, actor: .operator,
                        details: ["index": "\(index)"]))
            }
            // 60 on 1 March 2024, a minute apart; one a second before it and one on 2 March.
            for minute in 0..<60 {
                let time = march1.addingTimeInterval(TimeInterval(minute * 60))
                try await append(.projectCreated, at: time, index: minute)
            }
            try await append(.projectCreated, at: march1.addingTimeInterval(-1), index: 100)
            try await append(.apiKeyCreated, at: march1.addingTimeInterval(86_400 + 43_200), index: 200)

            try await browser.get("/settings/organization/audit-log?type=&from=2024-03-01&to=2024-03-01")
            #expect(eventCount(browser.lastPage) == 50)
            #expect(browser.lastPage.contains(#"<time datetime="2024-03-01T00:59:00Z">2024-03-01 00:59:00</time>"#))
            #expect(browser.lastPage.contains("<td>Operator</td>"))
            #expect(browser.lastPage.contains(#"<input id="from" name="from" type="date" value="2024-03-01">"#))
            let older = try #require(olderLink(browser.lastPage))
            #expect(older.hasPrefix("/settings/organization/audit-log?from=2024-03-01&to=2024-03-01&after=audit_"))
            try await browser.get(older)
            #expect(eventCount(browser.lastPage) == 10)
            #expect(browser.lastPage.contains("<li><code>index</code>=0</li>"))
            #expect(!browser.lastPage.contains("<li><code>index</code>=100</li>"))
            #expect(olderLink(browser.lastPage) == nil)
            #expect(browser.lastPage.contains("Newest events"))

            try await browser.get("/settings/organization/audit-log?type=api_key.created")
            #expect(eventCount(browser.lastPage) == 1)
            #expect(browser.lastPage.contains("<li><code>index</code>=200</li>"))
            #expect(browser.lastPage.contains(#"<option value="api_key.created" selected>"#))
            try await browser.get("/settings/organization/audit-log?from=2024-03-02&to=2024-03-02")
            #expect(eventCount(browser.lastPage) == 1)
            try await browser.get("/settings/organization/audit-log?type=project.created&to=2024-02-29")
            #expect(eventCount(browser.lastPage) == 1)
            #expect(browser.lastPage.contains("<li><code>index</code>=100</li>"))
            try await browser.get("/settings/organization/audit-log?from=2030-01-01")
            #expect(eventCount(browser.lastPage) == 0)
            #expect(browser.lastPage.contains("No events match these filters."))
        }
    }

    @Test func badFiltersOfTheAuditLogAreRefusedNextToTheirField() async throws {
        try await withApp { api, _ in
            let browser = try await signedIn(api, at: "/settings/organization/audit-log")
            for (query, field) in [
                ("from=2024-02-30", "from"), ("to=yesterday", "to"), ("from=1969-12-31", "from"),
                ("from=2024-03-02&to=2024-03-01", "to"), ("type=project.deleted", "type"),
            ] {
                let page = try await browser.get("/settings/organization/audit-log?\(query)")
                #expect(page.status == .badRequest, "\(query)")
                #expect(browser.lastPage.contains(#"<p class="field-error" id="\#(field)-error">"#), "\(query)")
                #expect(eventCount(browser.lastPage) == 0)
            }
            let unknown = try await browser.get("/settings/organization/audit-log?after=audit_nothing")
            #expect(unknown.status == .notFound)
            #expect(browser.lastPage.contains("Start again from the first page."))
        }
    }
}
