import Foundation
import HTTPTypes
import KeywardenCore
import Testing

@Suite("Dashboard: the phone page")
struct DashboardPhoneTests {
    static let page = "/settings/account/phone"
    static let banner = "Verify a phone number to create API keys"

    @Test func theNumberStepListsTheUnitedStatesFirstThenCountriesByNameWithCallingCodes() async throws {
        try await withApp(outbox: TestOutbox()) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            let page = try await browser.get(Self.page)
            #expect(page.status == .ok)
            let html = browser.lastPage
            #expect(html.contains("<h1>Phone</h1>"))
            #expect(html.contains(Self.banner))
            #expect(html.contains(#"<label for="country">Country</label>"#))
            #expect(html.contains(#"<label for="phone_number">Phone number</label>"#))
            #expect(html.contains(#"<button type="submit">Send code</button>"#))
            #expect(html.contains("a work number is best"))
            #expect(html.contains("<a href=\"/support\">Can't verify your phone?</a>"))
            let options = countryOptions(html)
            #expect(options.count > 240)
            #expect(options.first?.code == "US")
            #expect(options.first?.text == "United States (+1)")
            #expect(options.first?.selected == true)
            #expect(options.dropFirst().first?.text == "Afghanistan (+93)")
            #expect(options.filter { $0.code == "US" }.count == 1)
            #expect(options.contains { $0.code == "GB" && $0.text == "United Kingdom (+44)" })
            #expect(!browserHasInlineScriptOrStyle(html))
        }
    }

    @Test func sendingACodeShowsTheCodeStepWithAttemptsAndAResendCountdown() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            let id = try await browser.sendCode()
            #expect(outbox.sent.count == 1)
            #expect(outbox.sent.first?.to == Numbers.usE164)
            let html = browser.lastPage
            #expect(html.contains("We sent a code to +• •••-•••-••23."))
            #expect(html.contains(#"<label for="code">Verification code</label>"#))
            #expect(html.contains(#"<button type="submit">Verify</button>"#))
            #expect(html.contains("5 attempts left."))
            #expect(html.contains(#"name="verification" value="\#(id)""#))
            let button = /data-available-at="([0-9]+)" data-label="Resend code">Resend code<\/button>/
            let availableAt = try #require(html.firstMatch(of: button)?.output.1)
            let now = Int(Date().timeIntervalSince1970)
            #expect((now + 25...now + 32).contains(Int(availableAt) ?? 0))
            #expect(html.contains(#"<a href="/settings/account/phone">Use another number</a>"#))
            // The code never reaches the page.
            let code = try #require(outbox.code(for: id))
            #expect(!html.contains(code))
        }
    }

    @Test func aWrongCodeIsShownNextToTheFieldWithTheAttemptsLeft() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            let id = try await browser.sendCode()
            let code = try #require(outbox.code(for: id))
            let wrong = try await browser.post(
                "\(Self.page)/verify", [("verification", id), ("code", code == "000000" ? "111111" : "000000")])
            #expect(wrong.status == .badRequest)
            #expect(
                browser.lastPage.contains(
                    #"<p class="field-error" id="code-error">That code is not right. 4 attempts left.</p>"#))
            #expect(browser.lastPage.contains("4 attempts left."))
            #expect(browser.lastPage.contains(Self.banner))
        }
    }

    @Test func theRightCodeVerifiesTheOrganizationRemovesTheBannerAndShowsTheMaskedNumber() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            let token = try #require(browser.cookies["keywarden_session"])
            let id = try await browser.sendCode()
            let code = try #require(outbox.code(for: id))
            let verified = try await browser.post("\(Self.page)/verify", [("verification", id), ("code", code)])
            #expect(verified.status == .seeOther)
            #expect(verified.headers[.location] == Self.page)
            try await browser.follow(verified)
            let html = browser.lastPage
            #expect(html.contains("Your phone number is verified. You can now create API keys."))
            #expect(!html.contains(Self.banner))
            #expect(html.contains("<dd>+• •••-•••-••23</dd>"))
            #expect(html.firstMatch(of: /<dd>\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC<\/dd>/) != nil)
            #expect(html.contains(#"<a class="button" href="/api-keys/new">Create your first API key</a>"#))
            #expect(!html.contains(#"name="phone_number""#))
            let organization = try await api.request(.get, "/v1/organization", token: token)
            #expect(organization.string("verification.status") == "verified")
            // Later visits show the facts, without the flash.
            try await browser.get(Self.page)
            #expect(!browser.lastPage.contains("You can now create API keys."))
            #expect(browser.lastPage.contains("<dd>+• •••-•••-••23</dd>"))
            #expect(!browser.lastPage.contains(Self.banner))
        }
    }

    struct NumberRefusal: Sendable, CustomTestStringConvertible {
        let name: String
        let number: String
        let country: String
        let words: [String]
        var testDescription: String { name }
    }

    static let numberRefusals: [NumberRefusal] = [
        .init(
            name: "VoIP", number: "+44 56 1234 5678", country: "GB",
            words: ["VoIP numbers cannot be used for verification. Use a mobile number."]),
        .init(
            name: "British landline", number: Numbers.britishLandline, country: "GB",
            words: ["Landline numbers cannot be used for verification. Use a mobile number."]),
        .init(
            name: "toll-free", number: Numbers.usTollFree, country: "US",
            words: ["Toll-free numbers cannot be used for verification. Use a mobile number."]),
        .init(
            name: "not a number", number: "12345", country: "US", words: ["Check the digits and the country"]),
    ]

    @Test(arguments: numberRefusals)
    func anUnusableNumberIsRefusedInWordsNextToTheFieldBeforeAnySMS(_ refusal: NumberRefusal) async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            try await browser.get(Self.page)
            let refused = try await browser.post(
                Self.page, [("country", refusal.country), ("phone_number", refusal.number)])
            #expect(refused.status == .badRequest)
            let html = browser.lastPage
            let error = try #require(
                html.firstMatch(of: /<p class="field-error" id="phone_number-error">([^<]+)<\/p>/)?.output.1)
            for words in refusal.words {
                #expect(error.contains(words), "\(error)")
            }
            #expect(html.contains(#"value="\#(refusal.number)""#))
            #expect(countryOptions(html).first { $0.selected }?.code == refusal.country)
            #expect(outbox.sent.isEmpty)
        }
    }

    @Test func aCountryOutsideTheAllowedListIsNeitherOfferedNorAccepted() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: { $0.verification.allowedCountries = ["US", "CA"] }) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            try await browser.get(Self.page)
            #expect(countryOptions(browser.lastPage).map(\.code) == ["US", "CA"])
            let refused = try await browser.post(
                Self.page, [("country", "US"), ("phone_number", Numbers.britishMobile)])
            #expect(refused.status == .badRequest)
            #expect(browser.lastPage.contains(#"id="phone_number-error""#))
            #expect(browser.lastPage.contains("cannot be verified on this Keywarden"))
            let unknown = try await browser.post(Self.page, [("country", "XX"), ("phone_number", "2015550123")])
            #expect(unknown.status == .badRequest)
            #expect(browser.lastPage.contains(#"id="country-error""#))
            #expect(outbox.sent.isEmpty)
        }
    }

    @Test func theChannelChoiceAppearsOnlyWhereWhatsAppIsOffered() async throws {
        try await withApp(outbox: TestOutbox()) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            try await browser.get(Self.page)
            #expect(!browser.lastPage.contains("Send the code by"))
            #expect(!browser.lastPage.contains(#"name="channel""#))
            #expect(browser.lastPage.contains("We send a code by text message to the number you give here."))
        }
        try await withApp(outbox: TestOutbox(), configure: { $0.verification.whatsappCountries = ["GB", "BR"] }) {
            api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            try await browser.get(Self.page)
            let html = browser.lastPage
            #expect(html.contains("<legend>Send the code by</legend>"))
            // Text message is chosen until the person chooses otherwise.
            #expect(html.contains(#"<label for="channel-sms"><input type="radio" id="channel-sms" name="channel""#))
            #expect(html.contains(#"value="sms" checked aria-describedby="channel-hint"> Text message (SMS)</label>"#))
            #expect(html.contains(#"<label for="channel-whatsapp"><input type="radio" id="channel-whatsapp""#))
            #expect(html.contains(#"value="whatsapp" aria-describedby="channel-hint"> WhatsApp</label>"#))
            #expect(html.contains("WhatsApp is offered for numbers from Brazil and United Kingdom."))
            // Inside the number form, before "Send code".
            let start = try #require(html.range(of: #"<form method="post" action="/settings/account/phone">"#))
            let end = try #require(html.range(of: "</form>", range: start.upperBound..<html.endIndex))
            let form = html[start.upperBound..<end.lowerBound]
            let choice = try #require(form.range(of: "<legend>Send the code by</legend>"))
            let button = try #require(form.range(of: #"<button type="submit">Send code</button>"#))
            #expect(choice.lowerBound < button.lowerBound)
            #expect(!browserHasInlineScriptOrStyle(html))
        }
    }

    @Test func whatsappSendsTheCodeByWhatsAppForAnOfferedCountry() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: { $0.verification.whatsappCountries = ["GB"] }) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            try await browser.get(Self.page)
            let sent = try await browser.post(
                Self.page, [("country", "GB"), ("phone_number", Numbers.britishMobile), ("channel", "whatsapp")])
            #expect(sent.status == .seeOther)
            try await browser.follow(sent)
            #expect(outbox.sent.count == 1)
            #expect(outbox.sent.first?.channel == .whatsapp)
            #expect(outbox.sent.first?.to == "+447400123456")
            #expect(browser.lastPage.contains("We sent a code by WhatsApp to"))
            #expect(browser.lastPage.contains(#"<label for="code">Verification code</label>"#))
        }
    }

    @Test func whatsappForACountryItIsNotOfferedForIsRefusedNextToTheChoice() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: { $0.verification.whatsappCountries = ["GB"] }) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            try await browser.get(Self.page)
            let refused = try await browser.post(
                Self.page, [("country", "US"), ("phone_number", Numbers.us), ("channel", "whatsapp")])
            #expect(refused.status == .badRequest)
            let html = browser.lastPage
            let error = try #require(
                html.firstMatch(of: /<p class="field-error" id="channel-error">([^<]+)<\/p>/)?.output.1)
            #expect(error.contains("WhatsApp is offered only for numbers from United Kingdom."), "\(error)")
            #expect(error.contains("Choose Text message (SMS)"))
            // What was chosen and typed is kept, and the choice points at the sentence.
            #expect(html.contains(#"value="whatsapp" checked aria-describedby="channel-hint channel-error">"#))
            #expect(html.contains(#"value="\#(Numbers.us)""#))
            #expect(outbox.sent.isEmpty)
            // By text message the same number is fine.
            let sms = try await browser.post(
                Self.page, [("country", "US"), ("phone_number", Numbers.us), ("channel", "sms")])
            #expect(sms.status == .seeOther)
            #expect(outbox.sent.first?.channel == .sms)
        }
    }

    @Test func whatsappAskedForWhereItIsOfferedNowhereIsRefusedAboveTheForm() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            try await browser.get(Self.page)
            let refused = try await browser.post(
                Self.page, [("country", "GB"), ("phone_number", Numbers.britishMobile), ("channel", "whatsapp")])
            #expect(refused.status == .badRequest)
            #expect(browser.lastPage.contains(#"<p class="error" role="alert">Codes are sent by text message only."#))
            #expect(!browser.lastPage.contains(#"name="channel""#))
            #expect(outbox.sent.isEmpty)
        }
    }

    @Test func aNumberThatVerifiesTooManyOrganizationsIsRefusedInWords() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            _ = try await api.verifiedOrganization("a@example.com", number: Numbers.usE164, outbox: outbox)
            _ = try await api.verifiedOrganization("b@example.com", number: Numbers.usE164, outbox: outbox)
            let sentBefore = outbox.sent.count
            let browser = TestBrowser(api)
            try await browser.signUp()
            try await browser.get(Self.page)
            let refused = try await browser.post(Self.page, [("country", "US"), ("phone_number", Numbers.us)])
            #expect(refused.status == .conflict)
            #expect(browser.lastPage.contains("already verifies as many organizations as one number may"))
            #expect(outbox.sent.count == sentBefore)
        }
    }

    @Test func anEarlyResendIsRefusedWithTheSecondsLeftAndSendsNothing() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            let id = try await browser.sendCode()
            let early = try await browser.post("\(Self.page)/resend", [("verification", id)])
            #expect(early.status == .tooManyRequests)
            let error = try #require(
                browser.lastPage.firstMatch(of: /<p class="field-error" id="resend-error">([^<]+)<\/p>/)?.output.1)
            #expect(error.firstMatch(of: /You can ask for another in [0-9]+ seconds\./) != nil, "\(error)")
            // Still the code step, with its attempts untouched.
            #expect(browser.lastPage.contains(#"<label for="code">Verification code</label>"#))
            #expect(browser.lastPage.contains("5 attempts left."))
            #expect(outbox.sent.count == 1)
        }
    }

    @Test func theLastWrongCodeEndsTheVerificationAndAsksForANewCode() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            let id = try await browser.sendCode()
            let code = try #require(outbox.code(for: id))
            let wrong = code == "000000" ? "111111" : "000000"
            for _ in 1...4 {
                try await browser.post("\(Self.page)/verify", [("verification", id), ("code", wrong)])
            }
            #expect(browser.lastPage.contains("That code is not right. 1 attempt left."))
            let last = try await browser.post("\(Self.page)/verify", [("verification", id), ("code", wrong)])
            #expect(last.status == .tooManyRequests)
            #expect(browser.lastPage.contains("Too many wrong codes were entered. Send a new code to start again."))
            #expect(browser.lastPage.contains(#"name="phone_number""#))
            // The page at the old code's address offers a new one too.
            try await browser.get("\(Self.page)?verification=\(id)")
            #expect(browser.lastPage.contains(#"name="phone_number""#))
            #expect(browser.lastPage.contains("Send a new code to start again."))
        }
    }

    @Test func aReaderIsToldAnOwnerMustVerifyAndCannotSend() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, services in
            let owner = try await api.signUp("ada@example.com")
            let organization = try #require(owner.string("organization.id"))
            let reader = try await api.signUp("grace@example.com")
            try await services.addReader(try #require(reader.string("user.id")), to: organization)
            let browser = TestBrowser(api)
            try await browser.get("/login")
            try await browser.post("/login", [("email", "grace@example.com"), ("password", "correct horse battery")])
            try await browser.get(Self.page)
            try await browser.post("/switch", [("organization", organization)])
            try await browser.get(Self.page)
            #expect(browser.lastPage.contains("Only an owner of this organization can verify its phone number."))
            #expect(!browser.lastPage.contains(#"name="phone_number""#))
            let refused = try await browser.post(Self.page, [("country", "US"), ("phone_number", Numbers.us)])
            #expect(refused.status == .forbidden)
            #expect(browser.lastPage.contains("Only an owner of this organization can verify its phone number."))
            #expect(outbox.sent.isEmpty)
        }
    }

    @Test func aSendWithoutTheFormTokenOrFromAnotherSiteIsRefusedAndSendsNoSMS() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            let browser = TestBrowser(api)
            try await browser.signUp()
            try await browser.get(Self.page)
            let fields = [("country", "US"), ("phone_number", Numbers.us)]
            let noToken = try await browser.post(Self.page, fields, token: .some(nil))
            #expect(noToken.status == .forbidden)
            let foreign = try await browser.post(Self.page, fields, origin: "http://evil.example")
            #expect(foreign.status == .forbidden)
            #expect(outbox.sent.isEmpty)
        }
    }
}

/// An option of the "Country" select.
struct CountryOption: Equatable {
    let code: String
    let text: String
    let selected: Bool
}

/// The options of the page's "Country" select, in order.
func countryOptions(_ html: String) -> [CountryOption] {
    guard let start = html.range(of: #"<select id="country""#),
        let end = html.range(of: "</select>", range: start.upperBound..<html.endIndex)
    else { return [] }
    let option = /<option value="([A-Z]{2})"( selected)?>([^<]+)<\/option>/
    return html[start.upperBound..<end.lowerBound].matches(of: option)
        .map { CountryOption(code: String($0.output.1), text: String($0.output.3), selected: $0.output.2 != nil) }
}

extension TestBrowser {
    /// Sends a code from the phone page and follows to the code step; returns the verification id.
    func sendCode(_ number: String = Numbers.us, country: String = "US") async throws -> String {
        try await get(DashboardPhoneTests.page)
        let sent = try await post(DashboardPhoneTests.page, [("country", country), ("phone_number", number)])
        #expect(sent.status == .seeOther)
        let location = try #require(sent.headers[.location])
        let id = try #require(location.firstMatch(of: /^\/settings\/account\/phone\?verification=(pv_[A-Za-z0-9]+)$/))
        try await follow(sent)
        return String(id.output.1)
    }
}
