import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenServer
import Testing

@Suite("Dashboard: usage")
struct DashboardUsageTests {
    static let chat = #"{"model":"echo-1","messages":[{"role":"user","content":"hello gateway world"}]}"#
    /// The manual clock starts at 2025-06-15T15:06:40Z.
    static let today = "2025-06-15"
    static let todayStart = 1_749_945_600
    static let password = "correct horse battery"

    /// A verified organization with a key in its default project that made `calls` calls
    /// through the echo upstream, counted into storage, and a browser signed in as its owner.
    struct Setup {
        let token: String
        let project: String
        let key: String
        let keyID: String
        let browser: TestBrowser
    }

    func setUp(_ api: TestAPI, services: KeywardenServices, outbox: TestOutbox, calls: Int) async throws -> Setup {
        let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
        let project = try await api.defaultProject(token)
        let created = try await api.createKey(token, project: project, json: #"{"name":"usage"}"#)
        let key = try #require(created.string("value"))
        try await call(api, key: key, times: calls)
        try await services.gateway.meter.flush(to: services.gateway.usage)
        let browser = TestBrowser(api)
        try await browser.get("/login")
        let loggedIn = try await browser.post("/login", [("email", "ada@example.com"), ("password", Self.password)])
        #expect(loggedIn.status == .seeOther)
        return Setup(
            token: token, project: project, key: key, keyID: try #require(created.string("id")), browser: browser)
    }

    func call(_ api: TestAPI, key: String, times: Int) async throws {
        for _ in 0..<times {
            let answer = try await api.request(.post, "/v1/chat/completions", token: key, json: Self.chat)
            #expect(answer.status == .ok)
        }
    }

    /// Requests, prompt and completion tokens the JSON usage endpoint reports for today.
    func reported(_ api: TestAPI, token: String) async throws -> (requests: Int, prompt: Int, completion: Int) {
        let usage = try await api.request(
            .get,
            "/v1/organization/usage/completions?start_time=\(Self.todayStart)&end_time=\(Self.todayStart + 86_400)"
                + "&bucket_width=1d",
            token: token)
        let buckets = try #require(usage.value("data") as? [[String: Any]])
        let result = try #require((buckets.first?["results"] as? [[String: Any]])?.first)
        return (
            try #require(result["num_model_requests"] as? Int), try #require(result["input_tokens"] as? Int),
            try #require(result["output_tokens"] as? Int)
        )
    }

    /// A row of the page's table.
    func row(_ date: String, _ requests: Int, _ prompt: Int, _ completion: Int, cost: String = "$0.00") -> String {
        "<tr><th scope=\"row\">\(date)</th><td>\(requests)</td><td>\(prompt)</td><td>\(completion)</td>"
            + "<td>\(prompt + completion)</td><td>\(cost)</td></tr>"
    }

    func dayRows(_ html: String) -> Int {
        html.matches(of: #/<th scope="row">\d{4}-\d{2}-\d{2}</th>/#).count
    }

    func occurrences(_ needle: String, in html: String) -> Int {
        html.components(separatedBy: needle).count - 1
    }

    @Test func theTableShowsTheRequestsAndTokensTheJSONUsageEndpointReportsForTheDay() async throws {
        let outbox = TestOutbox()
        let time = ManualClock()
        try await withApp(clock: time.clock, outbox: outbox, configure: { $0.gateway.upstream = .echo }) {
            api, services in
            let setup = try await setUp(api, services: services, outbox: outbox, calls: 3)
            let page = try await setup.browser.get("/usage")
            #expect(page.status == .ok)
            let html = setup.browser.lastPage
            let (requests, prompt, completion) = try await reported(api, token: setup.token)
            #expect(requests == 3)
            #expect(prompt > 0 && completion > 0)
            #expect(html.contains(row(Self.today, requests, prompt, completion)))
            // The last 7 days, today included, every one of them listed.
            #expect(dayRows(html) == 7)
            #expect(html.contains(row("2025-06-09", 0, 0, 0)))
            #expect(html.contains("<h1>Usage</h1>"))
            #expect(html.contains("Times are in UTC."))
            #expect(html.contains(#"<label for="from">From</label>"#))
            #expect(html.contains(#"<label for="to">To</label>"#))
            #expect(html.contains(#"<label for="project">Project</label>"#))
            #expect(html.contains(#"<label for="api_key">API key</label>"#))
            #expect(html.contains(#"value="2025-06-09""#) && html.contains(#"value="2025-06-15""#))
            #expect(html.contains(#"<a class="button secondary" href="/usage.csv?from=2025-06-09&amp;to=2025-06-15">"#))
            #expect(!html.contains("There is no usage in this range."))
            #expect(!browserHasInlineScriptOrStyle(html))
        }
    }

    @Test func theChartsDrawOneBarPerDayAndStackPromptAndCompletionTokens() async throws {
        let outbox = TestOutbox()
        let time = ManualClock()
        try await withApp(clock: time.clock, outbox: outbox, configure: { $0.gateway.upstream = .echo }) {
            api, services in
            let setup = try await setUp(api, services: services, outbox: outbox, calls: 2)
            try await setup.browser.get("/usage?from=2025-06-11&to=2025-06-15")
            let html = setup.browser.lastPage
            #expect(occurrences("<svg class=\"chart\"", in: html) == 3)
            #expect(occurrences("role=\"img\"", in: html) == 3)
            // Five days: five request bars, five prompt bars, five completion bars on top, five cost bars.
            #expect(occurrences("class=\"bar\"", in: html) == 15)
            #expect(occurrences("class=\"bar second\"", in: html) == 5)
            #expect(html.contains("Requests per day"))
            #expect(html.contains("Tokens per day"))
            #expect(html.contains("<title>2025-06-15: 2 requests</title>"))
            #expect(!html.contains("height=\"-"))
        }
    }

    @Test func theCSVHasOneRowPerDayWithTheSameNumbers() async throws {
        let outbox = TestOutbox()
        let time = ManualClock()
        try await withApp(clock: time.clock, outbox: outbox, configure: { $0.gateway.upstream = .echo }) {
            api, services in
            let setup = try await setUp(api, services: services, outbox: outbox, calls: 2)
            let csv = try await setup.browser.get("/usage.csv?from=2025-06-14&to=2025-06-15")
            #expect(csv.status == .ok)
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(
                csv.headers[.contentDisposition] == #"attachment; filename="usage-2025-06-14-2025-06-15.csv""#)
            let (requests, prompt, completion) = try await reported(api, token: setup.token)
            let expected =
                "date,requests,prompt_tokens,completion_tokens,total_tokens,cost\r\n2025-06-14,0,0,0,0,0.00\r\n"
                + "2025-06-15,\(requests),\(prompt),\(completion),\(prompt + completion),0.00\r\n"
            #expect(String(decoding: csv.body, as: UTF8.self) == expected)

            let bad = try await setup.browser.get("/usage.csv?from=2025-06-15&to=2025-06-01")
            #expect(bad.status == .badRequest)
            let refusal = String(decoding: bad.body, as: UTF8.self)
            #expect(refusal.contains("The To date must be on or after the From date."))
        }
    }

    @Test func filtersByProjectAndKeyLeaveOutOtherProjectsCalls() async throws {
        let outbox = TestOutbox()
        let time = ManualClock()
        try await withApp(clock: time.clock, outbox: outbox, configure: { $0.gateway.upstream = .echo }) {
            api, services in
            let setup = try await setUp(api, services: services, outbox: outbox, calls: 3)
            let other = try #require(
                try await api.request(
                    .post, "/v1/organization/projects", token: setup.token, json: #"{"name":"Other"}"#
                ).string("id"))
            let otherKey = try await api.createKey(setup.token, project: other, json: #"{"name":"other"}"#)
            try await call(api, key: try #require(otherKey.string("value")), times: 1)
            let otherKeyID = try #require(otherKey.string("id"))
            try await services.gateway.meter.flush(to: services.gateway.usage)
            let browser = setup.browser
            let day = "from=\(Self.today)&to=\(Self.today)"

            try await browser.get("/usage?\(day)")
            #expect(browser.lastPage.firstMatch(of: #/<th scope="row">2025-06-15</th><td>4</td>/#) != nil)
            try await browser.get("/usage?\(day)&project=\(setup.project)")
            #expect(browser.lastPage.firstMatch(of: #/<th scope="row">2025-06-15</th><td>3</td>/#) != nil)
            #expect(browser.lastPage.contains(#"value="\#(setup.keyID)""#))
            #expect(!browser.lastPage.contains(#"value="\#(otherKeyID)""#))
            try await browser.get("/usage?\(day)&project=\(other)")
            #expect(browser.lastPage.firstMatch(of: #/<th scope="row">2025-06-15</th><td>1</td>/#) != nil)
            try await browser.get("/usage?\(day)&project=\(setup.project)&api_key=\(setup.keyID)")
            #expect(browser.lastPage.firstMatch(of: #/<th scope="row">2025-06-15</th><td>3</td>/#) != nil)
            let csv = try await browser.get("/usage.csv?\(day)&project=\(other)")
            #expect(String(decoding: csv.body, as: UTF8.self).contains("\n2025-06-15,1,"))

            // A key of another project than the chosen one is left out, with a sentence.
            let wrongKey = try await browser.get("/usage?\(day)&project=\(setup.project)&api_key=\(otherKeyID)")
            #expect(wrongKey.status == .badRequest)
            #expect(browser.lastPage.contains(#"id="api_key-error""#))
            #expect(browser.lastPage.firstMatch(of: #/<th scope="row">2025-06-15</th><td>3</td>/#) != nil)
            // A project of no one's, or of another organization, is left out too.
            let stranger = try await api.token("eve@example.com")
            let strangers = try await api.defaultProject(stranger)
            for project in [strangers, "proj_nothing", "<b>"] {
                let page = try await browser.get("/usage?\(day)&project=\(FormEncodingForTests.escape(project))")
                #expect(page.status == .badRequest)
                #expect(browser.lastPage.contains(#"id="project-error""#))
                #expect(browser.lastPage.firstMatch(of: #/<th scope="row">2025-06-15</th><td>4</td>/#) != nil)
                #expect(!browser.lastPage.contains("<b>"))
            }
        }
    }

    @Test(arguments: [
        ("from=2025-13-01", "from", "Choose a day that exists"),
        ("from=2025-02-29", "from", "Choose a day that exists"),
        ("from=yesterday", "from", "Enter the date as year, month and day"),
        ("from=10000-01-01", "from", "Enter the date as year, month and day"),
        ("from=%3Cscript%3E", "from", "Enter the date as year, month and day"),
        ("to=1969-12-31", "to", "Choose a day that exists"),
        ("from=0000-01-01&to=2025-06-15", "from", "Choose a day that exists"),
        ("from=2025-06-15&to=2025-06-01", "to", "The To date must be on or after the From date."),
        ("from=2024-06-14&to=2025-06-15", "to", "Choose a range of at most 366 days."),
    ])
    func badDatesGiveASentenceNextToTheFieldAndTheLastSevenDays(
        _ bad: (query: String, field: String, sentence: String)
    ) async throws {
        let (query, field, sentence) = bad
        try await withApp(clock: ManualClock().clock) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            let page = try await browser.get("/usage?\(query)")
            #expect(page.status == .badRequest)
            let html = browser.lastPage
            #expect(html.contains(#"<p class="field-error" id="\#(field)-error">\#(sentence)"#))
            #expect(html.contains(#"aria-describedby="\#(field)-error""#))
            #expect(dayRows(html) == 7)
            #expect(html.contains(#"max="9999-12-31" value="2025-06-09""#))
            #expect(!html.contains("<script>"))
        }
    }

    @Test func theWidestRangesAndTheCalendarsEndsAreShown() async throws {
        try await withApp(clock: ManualClock().clock) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            // 366 days, today included: the most a page shows.
            let year = try await browser.get("/usage?from=2024-06-15&to=2025-06-15")
            #expect(year.status == .ok)
            #expect(dayRows(browser.lastPage) == 366)
            #expect(occurrences("class=\"bar\"", in: browser.lastPage) == 3 * 366)
            let last = try await browser.get("/usage?from=9999-12-31&to=9999-12-31")
            #expect(last.status == .ok)
            #expect(browser.lastPage.contains(row("9999-12-31", 0, 0, 0)))
            let first = try await browser.get("/usage.csv?from=1970-01-01&to=1970-01-02")
            #expect(first.status == .ok)
            let rows = String(decoding: first.body, as: UTF8.self)
            #expect(rows.hasSuffix("1970-01-01,0,0,0,0,0.00\r\n1970-01-02,0,0,0,0,0.00\r\n"))
            // Only To: the 7 days up to it.
            try await browser.get("/usage?to=2025-01-03")
            #expect(browser.lastPage.contains(row("2024-12-28", 0, 0, 0)))
            #expect(dayRows(browser.lastPage) == 7)
        }
    }

    @Test func aRangeWithoutUsageSaysSoAndStillListsEveryDayAtZero() async throws {
        try await withApp(clock: ManualClock().clock) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            let page = try await browser.get("/usage?from=2024-01-01&to=2024-01-03&project=&api_key=")
            #expect(page.status == .ok)
            let html = browser.lastPage
            #expect(html.contains("There is no usage in this range."))
            #expect(dayRows(html) == 3)
            for date in ["2024-01-01", "2024-01-02", "2024-01-03"] {
                #expect(html.contains(row(date, 0, 0, 0)))
            }
            #expect(occurrences("class=\"bar\"", in: html) == 9)
            #expect(!html.contains("height=\"-"))
        }
    }

    @Test func theTableShowsWhatEachDayCostAndTheRangeItsTotalCountingModelCallsOnly() async throws {
        try await withApp(clock: ManualClock().clock) { api, services in
            let browser = TestBrowser(api)
            try await browser.signUp()
            let token = try #require(browser.cookies["keywarden_session"])
            let organization = try #require(try await api.request(.get, "/v1/organization", token: token).string("id"))
            let project = try await api.defaultProject(token)
            let today = Date(timeIntervalSince1970: TimeInterval(Self.todayStart + 3600))
            let yesterday = Date(timeIntervalSince1970: TimeInterval(Self.todayStart - 3600))
            func record(
                at minute: Date, category: UsageCategory = .completions, requests: Int, input: Int64, output: Int64
            ) -> UsageRecord {
                UsageRecord(
                    apiKeyID: "key_test", projectID: project, organizationID: organization, minute: minute,
                    category: category, model: "gpt-4o", requests: requests, promptTokens: 10 * requests,
                    completionTokens: 5 * requests, inputCostNanos: input, outputCostNanos: output)
            }
            try await services.gateway.usage.add([
                // $1.50 and 999 nano-units, which round down out of sight.
                record(at: today, requests: 2, input: 1_000_000_000, output: 500_000_999),
                record(at: yesterday, requests: 1, input: 250_000_000, output: 0),
                // Not a model call: left out of the page, as of the completions usage endpoint.
                record(at: today, category: .other, requests: 5, input: 0, output: 0),
            ])
            let page = try await browser.get("/usage?from=2025-06-14&to=\(Self.today)")
            #expect(page.status == .ok)
            let html = browser.lastPage
            #expect(html.contains(#"<th scope="col">Total tokens</th><th scope="col">Cost</th>"#))
            #expect(html.contains(row(Self.today, 2, 20, 10, cost: "$1.50")))
            #expect(html.contains(row("2025-06-14", 1, 10, 5, cost: "$0.25")))
            #expect(html.contains(#"<p id="total-cost">Cost of this range: <strong>$1.75</strong></p>"#))
            #expect(html.contains("<td>30</td><td>15</td><td>45</td><td>$1.75</td></tr>"))
            #expect(!html.contains("There is no usage in this range."))
            // The cost chart writes money on its axis and in each day's bar.
            #expect(html.contains(#"<h2 id="cost-heading">Cost per day</h2>"#))
            #expect(html.contains("<title>\(Self.today): $1.50 cost</title>"))
            let csv = try await browser.get("/usage.csv?from=2025-06-14&to=\(Self.today)")
            #expect(String(decoding: csv.body, as: UTF8.self).contains("\n2025-06-14,1,10,5,15,0.25\r\n"))
            #expect(String(decoding: csv.body, as: UTF8.self).contains(",1.50\r\n"))
        }
    }

    @Test func signedOutUsageGoesToLogIn() async throws {
        try await withApp { api, _ in
            let browser = TestBrowser(api)
            let page = try await browser.get("/usage")
            #expect(page.status == .seeOther)
            #expect(page.headers[.location] == "/login?next=%2Fusage")
            let csv = try await browser.get("/usage.csv")
            #expect(csv.status == .seeOther)
        }
    }
}
