import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenServer
import Testing

@Suite("Dashboard: support requests")
struct DashboardSupportTests {
    static let page = "/support"

    /// The organization's id, read through the JSON API with the browser's session.
    func organizationID(_ api: TestAPI, _ browser: TestBrowser) async throws -> String {
        let token = try #require(browser.cookieSessionToken)
        return try #require(try await api.request(.get, "/v1/organization", token: token).string("id"))
    }

    @Test func theSupportPageIsInTheNavAndOffersTheFormWhileUnverified() async throws {
        try await withApp { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            let page = try await browser.get(Self.page)
            #expect(page.status == .ok)
            let html = browser.lastPage
            #expect(html.contains("<h1>Support</h1>"))
            #expect(html.contains(#"<a href="/support" aria-current="page">Support</a>"#))
            // A member who is not an operator is not offered the console.
            #expect(!html.contains(#"href="/admin""#))
            #expect(html.contains("<h2>Can't verify your phone?</h2>"))
            #expect(html.contains(#"<label for="reason">Reason</label>"#))
            for reason in SupportReason.verificationReasons {
                #expect(html.contains(#"<option value="\#(reason.rawValue)""#))
                #expect(html.contains(">\(reason.label)</option>"))
            }
            #expect(!html.contains(#"value="suspension_appeal""#))
            #expect(html.contains(#"<label for="details">Details</label>"#))
            #expect(html.contains(#"<button type="submit">Send request</button>"#))
            #expect(html.contains("This organization has filed no requests."))
            #expect(!browserHasInlineScriptOrStyle(html))
        }
    }

    @Test func aFiledRequestIsShownOpenAndNoSecondOneIsOffered() async throws {
        try await withApp { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            try await browser.get(Self.page)
            let filed = try await browser.post(
                Self.page, [("reason", "voip_or_landline_only"), ("details", "My only line is a VoIP number.")])
            #expect(filed.status == .seeOther)
            #expect(filed.headers[.location] == Self.page)
            try await browser.follow(filed)
            let html = browser.lastPage
            #expect(html.contains("Your request was sent. An operator will answer by email."))
            #expect(html.contains(#"<span class="status status-open">Open</span>"#))
            #expect(html.contains("<td>I only have VoIP or landline numbers</td>"))
            #expect(html.contains("My only line is a VoIP number."))
            #expect(!html.contains("Send request"))
            #expect(html.contains("This organization's request is open."))

            // One request may be open at a time: a second one is refused above the page.
            let second = try await browser.post(Self.page, [("reason", "no_mobile_phone"), ("details", "")])
            #expect(second.status == .conflict)
            #expect(browser.lastPage.contains("already has an open support request"))
        }
    }

    @Test func aRefusedRequestKeepsWhatWasTypedSaysWhyNextToTheFieldAndSavesNothing() async throws {
        try await withApp { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            try await browser.get(Self.page)

            let noDetails = try await browser.post(Self.page, [("reason", "other"), ("details", "  ")])
            #expect(noDetails.status == .badRequest)
            #expect(
                browser.lastPage.contains(
                    #"<p class="field-error" id="details-error">Say what stops you from verifying a phone number.</p>"#
                ))
            #expect(browser.lastPage.contains(#"<option value="other" selected>"#))

            let unknown = try await browser.post(Self.page, [("reason", "bored"), ("details", "Keep this text")])
            #expect(unknown.status == .badRequest)
            #expect(browser.lastPage.contains(#"id="reason-error">Choose a reason from the list.</p>"#))
            #expect(browser.lastPage.contains(">Keep this text</textarea>"))

            let long = String(repeating: "a", count: SupportRequest.maxDetailsLength + 1)
            let tooLong = try await browser.post(Self.page, [("reason", "no_mobile_phone"), ("details", long)])
            #expect(tooLong.status == .badRequest)
            #expect(browser.lastPage.contains(#"id="details-error">Write at most 2000 characters; this has 2001."#))

            try await browser.get(Self.page)
            #expect(browser.lastPage.contains("This organization has filed no requests."))
        }
    }

    @Test func aReaderSeesTheRequestsButOnlyAnOwnerMayFileOne() async throws {
        try await withApp { api, services in
            let owner = TestBrowser(api)
            try await owner.signUp("ada@example.com")
            let organization = try await organizationID(api, owner)
            let reader = TestBrowser(api)
            try await reader.signUp("grace@example.com")
            let me = try await api.request(.get, "/v1/me", token: reader.cookieSessionToken)
            try await services.addReader(try #require(me.string("id")), to: organization)
            try await reader.get(Self.page)
            try await reader.post("/switch", [("organization", organization)])

            try await reader.get(Self.page)
            #expect(reader.lastPage.contains("Only an owner of this organization can file a request."))
            #expect(!reader.lastPage.contains("Send request"))
            let refused = try await reader.post(Self.page, [("reason", "no_mobile_phone"), ("details", "")])
            #expect(refused.status == .forbidden)

            try await owner.get(Self.page)
            try await owner.post(Self.page, [("reason", "code_never_arrives"), ("details", "Nothing for an hour.")])
            try await reader.get(Self.page)
            #expect(reader.lastPage.contains(#"<span class="status status-open">Open</span>"#))
            #expect(reader.lastPage.contains("Nothing for an hour."))
        }
    }

    @Test func thePhonePageAndTheKeyStepLinkToSupportWhileUnverified() async throws {
        try await withApp { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            try await browser.get("/settings/account/phone")
            #expect(browser.lastPage.contains(#"<a href="/support">Can't verify your phone?</a>"#))
            try await browser.get("/api-keys")
            #expect(browser.lastPage.contains(#"<a class="support-link" href="/support">Can't verify your phone?</a>"#))
        }
    }

    @Test func filingWithoutTheFormTokenOrFromAnotherSiteIsRefusedAndFilesNothing() async throws {
        try await withApp { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            try await browser.get(Self.page)
            let fields = [("reason", "no_mobile_phone"), ("details", "No phone at all.")]
            let noToken = try await browser.post(Self.page, fields, token: .some(nil))
            #expect(noToken.status == .forbidden)
            let foreign = try await browser.post(Self.page, fields, origin: "http://evil.example")
            #expect(foreign.status == .forbidden)
            try await browser.get(Self.page)
            #expect(browser.lastPage.contains("This organization has filed no requests."))
        }
    }
}
