import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenServer
import Testing

@Suite("Usage-anomaly alerts")
struct KeyAlertTests {
    /// A key from an earlier system (made in 2023, so legacy), whose value never appears in an alert.
    static let keyValue = "sk-legacy-0123456789abcdefghij"
    static let password = "correct horse battery"

    /// An owner with a key in the default project, a browser signed in as them, and the key's
    /// usual week of use (10 calls an hour) with an hour of 5,000 calls that ends now.
    struct Setup {
        let token: String
        let project: String
        let key: APIKey
        let browser: TestBrowser
    }

    /// The manual clock stands at 2025-06-15T15:06:40Z; the week before the hour looked at ends at 14:00.
    static let baselineEnd = Date(timeIntervalSince1970: 1_749_996_000)

    func setUp(_ api: TestAPI, services: KeywardenServices, time: ManualClock) async throws -> Setup {
        let signUp = try await api.signUp()
        let token = try #require(signUp.string("session_token"))
        let project = try #require(signUp.string("default_project.id"))
        let imported = try await services.keys.importKeys(
            [
                .init(
                    name: "batch", value: Self.keyValue, sha256: nil,
                    createdAt: Date(timeIntervalSince1970: 1_690_000_000))
            ],
            project: project)
        let key = try #require(imported.first)
        func row(_ minute: Date, calls: Int) -> UsageRecord {
            UsageRecord(
                apiKeyID: key.id.rawValue, projectID: project, organizationID: key.organizationID.rawValue,
                minute: minute, requests: calls)
        }
        var rows = (1...168).map { row(Self.baselineEnd.addingTimeInterval(TimeInterval(-3600 * $0)), calls: 10) }
        rows.append(row(time.now.addingTimeInterval(-40), calls: 5_000))
        try await services.gateway.usage.add(rows)
        let browser = TestBrowser(api)
        try await browser.get("/login")
        let loggedIn = try await browser.post("/login", [("email", "ada@example.com"), ("password", Self.password)])
        #expect(loggedIn.status == .seeOther)
        return Setup(token: token, project: project, key: key, browser: browser)
    }

    /// The alerts `GET /v1/organization/key_alerts` lists.
    func listed(_ api: TestAPI, token: String, query: String = "") async throws -> [[String: Any]] {
        let response = try await api.request(.get, "/v1/organization/key_alerts\(query)", token: token)
        #expect(response.status == .ok)
        #expect(response.string("object") == "list")
        return try #require(response.value("data") as? [[String: Any]])
    }

    @Test func aSpikeIsMailedOnceShownOnThePageAndInTheAPIAndGoneOnceDismissed() async throws {
        let mailbox = TestMailbox()
        let time = ManualClock()
        try await withApp(clock: time.clock, mailbox: mailbox) { api, services in
            let setup = try await setUp(api, services: services, time: time)
            #expect(try await services.keyAlerts.detect() == 1)
            // More passes, two at once as two instances would run them, and one later in the window.
            async let one = services.keyAlerts.detect()
            async let other = services.keyAlerts.detect()
            #expect(try await one + other == 0)
            time.advance(by: 600)
            #expect(try await services.keyAlerts.detect() == 0)

            let alerts = mailbox.sent(to: "ada@example.com").filter { $0.subject.hasPrefix("Unusual number of calls") }
            #expect(alerts.count == 1)
            let message = try #require(alerts.first)
            #expect(message.subject == "Unusual number of calls with the API key \(setup.key.redactedValue)")
            #expect(
                message.text.contains("The API key batch (\(setup.key.redactedValue)) of the project Default project"))
            #expect(
                message.text.contains("made 5000 calls in the hour to 2025-06-15 15:06 UTC, against a usual 10 an hour")
            )
            #expect(message.text.contains("http://127.0.0.1:8080/api-keys"))
            #expect(!message.text.contains(Self.keyValue))
            #expect(!(message.html ?? "").contains(Self.keyValue))

            let data = try await listed(api, token: setup.token)
            #expect(data.count == 1)
            let alert = try #require(data.first)
            let alertID = try #require(alert["id"] as? String)
            #expect(alertID.hasPrefix("keyalert_"))
            #expect(alert["object"] as? String == "organization.key_alert")
            #expect(alert["kind"] as? String == "call_spike")
            #expect(alert["api_key_id"] as? String == setup.key.id.rawValue)
            #expect(alert["api_key_name"] as? String == "batch")
            #expect(alert["redacted_value"] as? String == setup.key.redactedValue)
            #expect(alert["project_id"] as? String == setup.project)
            #expect(alert["observed"] as? Int == 5_000)
            #expect(alert["baseline"] as? Int == 10)
            #expect(alert["created_at"] as? Int == 1_750_000_000)
            #expect(alert["window_start"] as? Int == 1_749_945_600)
            #expect(alert["idle_since"] is NSNull)
            #expect(alert["dismissed_at"] is NSNull)

            try await setup.browser.get("/api-keys")
            var page = setup.browser.lastPage
            #expect(page.contains("Unusual use of keys in this project"))
            #expect(page.contains("made 5000 calls in the hour to 2025-06-15 15:06 UTC, against a usual 10 an hour"))
            #expect(page.contains(#"action="/api-keys/alerts/\#(alertID)/dismiss""#))
            #expect(!browserHasInlineScriptOrStyle(page))

            let dismissed = try await setup.browser.post("/api-keys/alerts/\(alertID)/dismiss")
            #expect(dismissed.status == .seeOther)
            #expect(dismissed.headers[.location] == "/api-keys")
            try await setup.browser.follow(dismissed)
            page = setup.browser.lastPage
            #expect(page.contains("Alert dismissed."))
            #expect(!page.contains("Unusual use of keys in this project"))
            #expect(try await listed(api, token: setup.token).isEmpty)
            let all = try await listed(api, token: setup.token, query: "?include_dismissed=true")
            #expect(all.count == 1)
            #expect(all.first?["dismissed_at"] as? Int == 1_750_000_600)

            // Passes later in the window raise it no more, dismissed or not.
            time.advance(by: 600)
            #expect(try await services.keyAlerts.detect() == 0)
            let audit = try await api.request(
                .get,
                "/v1/organization/audit_logs?event_types[]=api_key.alert_sent&event_types[]=api_key.alert_dismissed",
                token: setup.token)
            #expect((audit.value("data") as? [Any])?.count == 2)
        }
    }

    @Test func theDismissButtonNeedsTheFormTokenAndThisSitesOrigin() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, services in
            let setup = try await setUp(api, services: services, time: time)
            #expect(try await services.keyAlerts.detect() == 1)
            let alertID = try #require(try await listed(api, token: setup.token).first?["id"] as? String)
            try await setup.browser.get("/api-keys")
            #expect(setup.browser.lastPage.contains(#"action="/api-keys/alerts/\#(alertID)/dismiss""#))

            let tokenless = try await setup.browser.post("/api-keys/alerts/\(alertID)/dismiss", token: .some(nil))
            #expect(tokenless.status == .forbidden)
            let wrongToken = try await setup.browser.post("/api-keys/alerts/\(alertID)/dismiss", token: "00ff")
            #expect(wrongToken.status == .forbidden)
            try await setup.browser.get("/api-keys")
            let foreign = try await setup.browser.post(
                "/api-keys/alerts/\(alertID)/dismiss", origin: "https://evil.example")
            #expect(foreign.status == .forbidden)
            // Nothing was dismissed.
            #expect(try await listed(api, token: setup.token).count == 1)
            try await setup.browser.get("/api-keys")
            #expect(setup.browser.lastPage.contains("Unusual use of keys in this project"))

            let unknown = try await setup.browser.post("/api-keys/alerts/keyalert_nothing/dismiss")
            #expect(unknown.status == .seeOther)
            try await setup.browser.follow(unknown)
            #expect(setup.browser.lastPage.contains("There is no such alert; nothing was dismissed."))
            #expect(try await listed(api, token: setup.token).count == 1)

            let dismissed = try await setup.browser.post("/api-keys/alerts/\(alertID)/dismiss")
            #expect(dismissed.status == .seeOther)
            #expect(try await listed(api, token: setup.token).isEmpty)
        }
    }

    @Test func aMemberWhoCannotReadTheProjectSeesNoAlert() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, services in
            let setup = try await setUp(api, services: services, time: time)
            #expect(try await services.keyAlerts.detect() == 1)
            let organization = setup.key.organizationID.rawValue
            let reader = try await api.signUp("grace@example.com")
            let readerToken = try #require(reader.string("session_token"))
            let readerID = try #require(reader.string("user.id"))
            try await services.addReader(readerID, to: organization)
            var headers = HTTPFields()
            headers[HTTPField.Name("Keywarden-Organization")!] = organization
            let response = try await api.request(
                .get, "/v1/organization/key_alerts", token: readerToken, headers: headers)
            #expect(response.status == .ok)
            #expect((response.value("data") as? [Any])?.isEmpty == true)
        }
    }

    @Test func theDefaultsAreQuietAndTheSettingsAreRangeChecked() async throws {
        func load(_ environment: [String: String]) async throws -> KeywardenConfiguration {
            try await KeywardenConfiguration.load(from: ConfigurationSources(flags: [:], environment: environment))
        }
        let defaults = try await load([:])
        #expect(defaults.keyAlerts.enabled)
        #expect(defaults.keyAlerts.policy == KeyAlertPolicy())
        #expect(defaults.keyAlerts.policy.window == 86_400)

        let chosen = try await load([
            "KEYWARDEN_ANOMALY_ALERTS": "false", "KEYWARDEN_ANOMALY_CALL_FACTOR": "5",
            "KEYWARDEN_ANOMALY_MIN_CALLS": "50", "KEYWARDEN_ANOMALY_ERROR_FACTOR": "3",
            "KEYWARDEN_ANOMALY_MIN_ERRORS": "7", "KEYWARDEN_ANOMALY_IDLE_DAYS": "90",
            "KEYWARDEN_ANOMALY_ALERT_WINDOW": "3600",
        ])
        #expect(!chosen.keyAlerts.enabled)
        #expect(
            chosen.keyAlerts.policy
                == KeyAlertPolicy(
                    rule: UsageAnomalyRule(
                        callFactor: 5, minimumCalls: 50, errorFactor: 3, minimumErrors: 7, idleDays: 90),
                    window: 3600))

        let refused = [
            ("KEYWARDEN_ANOMALY_ALERTS", "sometimes"), ("KEYWARDEN_ANOMALY_CALL_FACTOR", "1"),
            ("KEYWARDEN_ANOMALY_MIN_CALLS", "0"), ("KEYWARDEN_ANOMALY_ERROR_FACTOR", "10001"),
            ("KEYWARDEN_ANOMALY_MIN_ERRORS", "-1"), ("KEYWARDEN_ANOMALY_IDLE_DAYS", "0"),
            ("KEYWARDEN_ANOMALY_ALERT_WINDOW", "60"), ("KEYWARDEN_ANOMALY_ALERT_WINDOW", "2592001"),
        ]
        for (variable, value) in refused {
            await #expect(throws: ConfigurationError.self, "\(variable)=\(value)") { try await load([variable: value]) }
        }
        #expect(Setting.anomalyMinCalls.helpLine.hasSuffix("(default 1000)"))
        #expect(Setting.anomalyAlerts.helpLine.hasSuffix("(default true)"))
    }
}
