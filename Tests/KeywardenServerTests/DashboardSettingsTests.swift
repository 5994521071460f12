import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenServer
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
            #expect(browser.lastPage.contains(#"<strong id="tier">free</strong>"#))
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
