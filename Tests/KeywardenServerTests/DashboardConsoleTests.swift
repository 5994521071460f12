import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenServer
import Testing

@Suite("Dashboard: the operator console")
struct DashboardConsoleTests {
    static let queue = "/admin/support"
    static let prefixGuard = "/admin/prefix-guard"
    static let consolePages = [
        ("/admin/support", "Support queue"), ("/admin/organizations", "Organizations"),
        ("/admin/insights", "Verification insights"), ("/admin/prefix-guard", "Prefix guard"),
        ("/admin/audit-log", "Audit log"),
    ]
    static let formRefusal = "This form has expired or did not come from this page"

    /// A signed-in browser granted the operator role, with two-factor authentication turned on at
    /// the time `time` says unless `twoFactor` is false.
    func operatorBrowser(
        _ api: TestAPI, _ services: KeywardenServices, time: ManualClock, email: String = "op@example.com",
        twoFactor: Bool = true
    ) async throws -> TestBrowser {
        let browser = TestBrowser(api)
        try await browser.signUp(email)
        let granted = try await services.console.grantOperator(email: email)
        #expect(granted)
        if twoFactor { _ = try await browser.turnOnTwoFactor(at: time) }
        return browser
    }

    /// A member who is not an operator, signed in, and the id of their organization.
    func signedInMember(_ api: TestAPI, email: String = "ada@example.com") async throws -> (TestBrowser, String) {
        let browser = TestBrowser(api)
        try await browser.signUp(email)
        let token = try #require(browser.cookieSessionToken)
        let organization = try #require(try await api.request(.get, "/v1/organization", token: token).string("id"))
        return (browser, organization)
    }

    /// Files a support request from the Support page.
    func file(
        _ browser: TestBrowser, reason: String = "no_mobile_phone", details: String = "I have no phone."
    ) async throws {
        try await browser.get("/support")
        let filed = try await browser.post("/support", [("reason", reason), ("details", details)])
        #expect(filed.status == .seeOther)
    }

    /// The id of the first open request in the queue the browser shows.
    func openRequestID(_ browser: TestBrowser) async throws -> String {
        try await browser.get(Self.queue)
        let match = browser.lastPage.firstMatch(of: /action="\/admin\/support\/(supreq_[A-Za-z0-9]+)\/approve"/)
        return try #require(match.map { String($0.output.1) })
    }

    /// The organization's verification status as the JSON API reads it.
    func verificationStatus(_ api: TestAPI, _ browser: TestBrowser) async throws -> String? {
        let token = try #require(browser.cookieSessionToken)
        return try await api.request(.get, "/v1/organization", token: token).string("verification.status")
    }

    @Test func aMemberWhoIsNotAnOperatorIsRefusedEveryConsolePageAndAction() async throws {
        try await withApp { api, services in
            let (browser, _) = try await signedInMember(api)
            try await browser.get("/api-keys")
            #expect(!browser.lastPage.contains("Operator console"))
            for path in ["/admin"] + Self.consolePages.map({ $0.0 }) {
                let page = try await browser.get(path)
                #expect(page.status == .forbidden, "\(path)")
                #expect(browser.lastPage.contains("Only operators can use the operator console."), "\(path)")
            }
            try await browser.get("/support")
            let refused = try await browser.post(
                Self.prefixGuard + "/rules", [("prefix", "+44"), ("kind", "blocked"), ("reason", "Fraud")])
            #expect(refused.status == .forbidden)
            #expect(try await services.console.prefixGuard().rules.isEmpty)
        }
    }

    @Test func anOperatorWithoutTwoFactorAuthenticationIsAskedToTurnItOn() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, services in
            let browser = try await operatorBrowser(api, services, time: time, twoFactor: false)
            try await browser.get("/api-keys")
            #expect(browser.lastPage.contains(#"<a href="/admin">Operator console</a>"#))
            let page = try await browser.get(Self.queue)
            #expect(page.status == .forbidden)
            #expect(
                browser.lastPage.contains(
                    "<h1>Turn on two-factor authentication to open the operator console</h1>"))
            #expect(browser.lastPage.contains(#"href="/settings/security""#))
            #expect(!browser.lastPage.contains("Support queue"))
        }
    }

    @Test func theConsoleOpensAtTheQueueAndEveryPageHasTheConsoleNav() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, services in
            let browser = try await operatorBrowser(api, services, time: time)
            let opened = try await browser.get("/admin")
            #expect(opened.status == .seeOther)
            #expect(opened.headers[.location] == Self.queue)
            for (path, heading) in Self.consolePages {
                let page = try await browser.get(path)
                #expect(page.status == .ok, "\(path)")
                let html = browser.lastPage
                #expect(html.contains("<h1>\(heading)</h1>"), "\(path)")
                #expect(html.contains(#"<p class="nav-heading">Operator console</p>"#), "\(path)")
                #expect(html.contains(#"<a href="\#(path)" aria-current="page">\#(heading)</a>"#), "\(path)")
                #expect(!browserHasInlineScriptOrStyle(html), "\(path)")
            }
        }
    }

    @Test func approvingInTheQueueExemptsTheOrganizationAndTheAuditLogNamesTheOperator() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, services in
            let (member, organization) = try await signedInMember(api)
            try await file(member, reason: "voip_or_landline_only", details: "Only a VoIP line here.")
            let console = try await operatorBrowser(api, services, time: time)
            let id = try await openRequestID(console)
            let html = console.lastPage
            #expect(html.contains(#"<a href="/admin/organizations/\#(organization)">Personal</a>"#))
            #expect(html.contains("<td>ada@example.com</td>"))
            #expect(html.contains("<td>I only have VoIP or landline numbers</td>"))
            #expect(html.contains("Only a VoIP line here."))
            #expect(html.contains(#"<label for="decline-\#(id)">Reason for declining</label>"#))

            let approved = try await console.post(Self.queue + "/\(id)/approve")
            #expect(approved.status == .seeOther)
            try await console.follow(approved)
            #expect(console.lastPage.contains("Approved: Personal is exempt now."))
            #expect(console.lastPage.contains("No open requests."))
            #expect(try await verificationStatus(api, member) == "exempt")

            try await member.get("/support")
            #expect(member.lastPage.contains(#"<span class="status status-approved">Approved</span>"#))
            #expect(!member.lastPage.contains("Verify a phone number to create API keys"))

            try await console.get("/admin/audit-log?type=support_request.approved")
            #expect(console.lastPage.contains("<code>support_request.approved</code>"))
            #expect(console.lastPage.contains(#"op@example.com <span class="muted">(operator)</span>"#))
            #expect(console.lastPage.contains(#"<a href="/admin/organizations/\#(organization)">"#))
        }
    }

    @Test func decliningNeedsAReasonNextToTheFieldAndTheMemberSeesIt() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, services in
            let (member, _) = try await signedInMember(api)
            try await file(member)
            let console = try await operatorBrowser(api, services, time: time)
            let id = try await openRequestID(console)

            let empty = try await console.post(Self.queue + "/\(id)/decline", [("reason", " ")])
            #expect(empty.status == .badRequest)
            #expect(console.lastPage.contains(#"id="decline-\#(id)-error">Enter the reason for declining"#))

            let declined = try await console.post(
                Self.queue + "/\(id)/decline", [("reason", "Please try a mobile number first.")])
            #expect(declined.status == .seeOther)
            try await console.follow(declined)
            #expect(console.lastPage.contains("Declined."))
            #expect(try await verificationStatus(api, member) == "unverified")

            try await member.get("/support")
            #expect(member.lastPage.contains(#"<span class="status status-declined">Declined</span>"#))
            #expect(member.lastPage.contains("Reason: Please try a mobile number first."))
            // Nothing is open any more, so a new request may be filed.
            #expect(member.lastPage.contains("Send request"))
        }
    }

    @Test func suspendingShowsTheBannerToAMemberWhoMayOnlyAppealAndApprovingTheAppealLiftsIt() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, services in
            let (member, organization) = try await signedInMember(api)
            let console = try await operatorBrowser(api, services, time: time)
            let detail = "/admin/organizations/\(organization)"
            try await console.get(detail)
            #expect(console.lastPage.contains("<h1>Personal</h1>"))
            #expect(console.lastPage.contains(#"<label for="suspend-reason">Reason for suspending</label>"#))

            let empty = try await console.post(detail + "/suspend", [("reason", "")])
            #expect(empty.status == .badRequest)
            #expect(console.lastPage.contains(#"id="suspend-reason-error">Enter the reason for suspending"#))

            let suspended = try await console.post(detail + "/suspend", [("reason", "Sending spam.")])
            #expect(suspended.status == .seeOther)
            #expect(suspended.headers[.location] == detail)
            try await console.follow(suspended)
            #expect(console.lastPage.contains(#"<button type="submit">Unsuspend</button>"#))

            try await member.get("/api-keys")
            #expect(member.lastPage.contains(#"id="suspended-banner""#))
            #expect(
                member.lastPage.contains(
                    "This organization is suspended: Sending spam. Its API keys are refused. "
                        + "To appeal, file a request on the Support page."))
            try await member.get("/support")
            #expect(member.lastPage.contains("<h2>Appeal the suspension</h2>"))
            #expect(
                member.lastPage.contains(#"<option value="suspension_appeal" selected>Appeal the suspension</option>"#))
            #expect(!member.lastPage.contains(#"value="no_mobile_phone""#))

            try await file(member, reason: "suspension_appeal", details: "The script that sent it is gone.")
            let id = try await openRequestID(console)
            let approved = try await console.post(Self.queue + "/\(id)/approve")
            try await console.follow(approved)
            #expect(console.lastPage.contains("Approved: Personal is no longer suspended."))
            try await member.get("/api-keys")
            #expect(!member.lastPage.contains(#"id="suspended-banner""#))
        }
    }

    @Test func aBadPrefixIsRefusedNextToTheFieldAndAGoodRuleIsListedAndRemoved() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, services in
            let console = try await operatorBrowser(api, services, time: time)
            try await console.get(Self.prefixGuard)
            #expect(console.lastPage.contains("<h2>Paused prefixes</h2>"))
            #expect(console.lastPage.contains(#"<label for="rule-prefix">Prefix</label>"#))

            let bad = try await console.post(
                Self.prefixGuard + "/rules", [("prefix", "44abc"), ("kind", "blocked"), ("reason", "Fraud")])
            #expect(bad.status == .badRequest)
            #expect(
                console.lastPage.contains(
                    #"id="rule-prefix-error">A prefix is + and 1 to 15 digits, such as +44 or +4479.</p>"#))
            #expect(console.lastPage.contains(#"value="44abc""#))
            #expect(console.lastPage.contains(#"<option value="blocked" selected>"#))
            #expect(try await services.console.prefixGuard().rules.isEmpty)

            let added = try await console.post(
                Self.prefixGuard + "/rules", [("prefix", "+44 79"), ("kind", "safe"), ("reason", "A big carrier")])
            #expect(added.status == .seeOther)
            try await console.follow(added)
            #expect(console.lastPage.contains("Rule saved for +4479."))
            #expect(console.lastPage.contains("<td><code>+4479</code></td>"))
            #expect(console.lastPage.contains("<td>Safe: never paused</td>"))
            #expect(console.lastPage.contains("<td>A big carrier</td>"))

            let removed = try await console.post(Self.prefixGuard + "/rules/remove", [("prefix", "+4479")])
            try await console.follow(removed)
            #expect(console.lastPage.contains("Rule removed."))
            #expect(try await services.console.prefixGuard().rules.isEmpty)
        }
    }

    @Test func anOrganizationsPageTellsDisabledKeysFromActiveOnes() async throws {
        let time = ManualClock()
        let outbox = TestOutbox()
        try await withApp(clock: time.clock, outbox: outbox) { api, services in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let organization = try #require(try await api.request(.get, "/v1/organization", token: token).string("id"))
            let project = try await api.defaultProject(token)
            _ = try #require(try await api.createKey(token, project: project, json: #"{"name":"kept"}"#).string("id"))
            let stopped = try #require(
                try await api.createKey(token, project: project, json: #"{"name":"stopped"}"#).string("id"))
            _ = try await services.keys.disableByOperator(stopped)
            let console = try await operatorBrowser(api, services, time: time)
            try await console.get("/admin/organizations/\(organization)")
            let rows = console.lastPage.split(separator: "<tr>")
            let keptRow = try #require(rows.first { $0.contains(">kept<") || $0.contains("<td>kept") })
            let stoppedRow = try #require(rows.first { $0.contains(">stopped<") || $0.contains("<td>stopped") })
            #expect(keptRow.contains("<td>Active</td>"))
            #expect(stoppedRow.contains("<td>Disabled</td>"))
            #expect(!stoppedRow.contains("<td>Active</td>"))
        }
    }

    @Test func theSearchFindsAnOrganizationByAMembersEmailAndCreditsAreGrantedFromItsPage() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, services in
            let (_, organization) = try await signedInMember(api)
            let console = try await operatorBrowser(api, services, time: time)
            try await console.get("/admin/organizations?q=ada@example.com")
            #expect(console.lastPage.contains(#"<label for="q">Search organizations</label>"#))
            #expect(console.lastPage.contains(#"<a href="/admin/organizations/\#(organization)">Personal</a>"#))
            #expect(console.lastPage.contains("<td>Active</td>"))
            // A GET form sends spaces as `+` and a plus as `%2B`.
            try await console.get("/admin/organizations?q=+Personal+")
            #expect(console.lastPage.contains(#"<a href="/admin/organizations/\#(organization)">Personal</a>"#))
            try await console.get("/admin/organizations?q=ada%2Bnobody%40example.com")
            #expect(console.lastPage.contains("No organization matches this search."))
            #expect(console.lastPage.contains(#"value="ada+nobody@example.com""#))

            let detail = "/admin/organizations/\(organization)"
            try await console.get(detail)
            let empty = try await console.post(detail + "/credits", [("amount", ""), ("reason", "")])
            #expect(empty.status == .badRequest)
            #expect(console.lastPage.contains(#"id="credits-amount-error">Enter the amount of credit to grant"#))
            let granted = try await console.post(detail + "/credits", [("amount", "25"), ("reason", "Goodwill")])
            #expect(granted.status == .seeOther)
            try await console.follow(granted)
            #expect(console.lastPage.contains("Granted $25.00."))
            #expect(console.lastPage.contains(#"<p class="balance" id="balance">$25.00</p>"#))
        }
    }

    @Test func anUnknownInsightsWindowAndABadAuditCursorAreSaidInWords() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, services in
            let console = try await operatorBrowser(api, services, time: time)
            try await console.get("/admin/insights")
            #expect(console.lastPage.contains(#"<a href="/admin/insights?window=24h" aria-current="page">"#))
            #expect(console.lastPage.contains("Prices per message come from the sms_prices setting"))
            let unknown = try await console.get("/admin/insights?window=1y")
            #expect(unknown.status == .badRequest)
            #expect(console.lastPage.contains("Choose 24 hours, 7 days or 30 days."))

            let cursor = try await console.get("/admin/audit-log?after=nonsense")
            #expect(cursor.status == .notFound)
            #expect(console.lastPage.contains("That page of the list is no longer there."))
            let organization = try await console.get("/admin/audit-log?organization_id=bogus")
            #expect(organization.status == .badRequest)
            #expect(console.lastPage.contains(#"id="organization_id-error">Enter an organization ID"#))
        }
    }

    @Test func everyConsolePostWithoutTheFormTokenIsRefusedAndChangesNothing() async throws {
        let time = ManualClock()
        try await withApp(clock: time.clock) { api, services in
            let (member, organization) = try await signedInMember(api)
            try await file(member)
            let console = try await operatorBrowser(api, services, time: time)
            let id = try await openRequestID(console)
            let detail = "/admin/organizations/\(organization)"
            let posts: [(String, [(String, String)])] = [
                (Self.queue + "/\(id)/approve", []),
                (Self.queue + "/\(id)/decline", [("reason", "No")]),
                (detail + "/suspend", [("reason", "Spam")]),
                (detail + "/unsuspend", []),
                (detail + "/reset-verification", [("reason", "Check")]),
                (detail + "/tier", [("tier", "default")]),
                (detail + "/credits", [("amount", "5"), ("reason", "Gift")]),
                (Self.prefixGuard + "/unpause", [("prefix", "+44")]),
                (Self.prefixGuard + "/rules", [("prefix", "+44"), ("kind", "blocked"), ("reason", "Fraud")]),
                (Self.prefixGuard + "/rules/remove", [("prefix", "+44")]),
            ]
            for (path, fields) in posts {
                let noToken = try await console.post(path, fields, token: .some(nil))
                #expect(noToken.status == .forbidden, "\(path)")
                #expect(console.lastPage.contains(Self.formRefusal), "\(path)")
            }
            try await console.get(Self.queue)
            let foreign = try await console.post(Self.queue + "/\(id)/approve", origin: "http://evil.example")
            #expect(foreign.status == .forbidden)

            #expect(try await openRequestID(console) == id)
            #expect(try await verificationStatus(api, member) == "unverified")
            #expect(try await services.console.prefixGuard().rules.isEmpty)
            try await console.get(detail)
            #expect(console.lastPage.contains(#"<dd id="organization-status">Active</dd>"#))
            #expect(console.lastPage.contains(#"<p class="balance" id="balance">$0.00</p>"#))
        }
    }
}
