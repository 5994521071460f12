import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenProviders
import KeywardenServer
import Testing

@Suite("Verification through each provider")
struct ProviderFlowTests {
    func twilioAccount(base: String) -> TwilioAccount {
        var account = TwilioAccount(accountSID: "AC123", authToken: "token-456")
        account.apiBaseURL = base
        account.verifyBaseURL = base
        account.lookupBaseURL = base
        return account
    }

    @Test func logProviderWritesTheCodeToTheOutboxFile() async throws {
        let directory = try temporaryDirectory()
        try await withApp(configure: { $0.storage.dataDirectory = directory }) { api, _ in
            let token = try await api.token()
            let started = try await api.startVerification(token)
            let id = try #require(started.string("id"))
            let entries = try Outbox.latest(in: directory, count: 10)
            #expect(entries.count == 1)
            #expect(entries.first?.to == Numbers.usE164)
            #expect(entries.first?.verificationID == id)
            let body = try #require(entries.first?.body)
            let code = try #require(body.firstMatch(of: /[0-9]{6}/)).output
            let approved = try await api.check(token, id, code: String(code))
            #expect(approved.string("status") == "approved")
            let organization = try await api.request(.get, "/v1/organization", token: token)
            #expect(organization.string("verification.status") == "verified")
        }
    }

    @Test func twilioMessagingDeliversAndSignedStatusCallbacksUpdateDelivery() async throws {
        let stub = StubServer { _ in (.created, #"{"sid":"SM0042","status":"queued"}"#) }
        try await stub.run { base in
            try await withApp(configure: {
                $0.providers.sms = .twilio(twilioAccount(base: base), sender: .number("+15005550006"))
                $0.providers.publicURL = "https://keywarden.example.com"
            }) { api, _ in
                let token = try await api.token()
                let started = try await api.startVerification(token)
                #expect(started.status == .created)
                #expect(started.string("delivery") == "queued")
                let id = try #require(started.string("id"))
                let sent = try #require(stub.requests.first)
                #expect(sent.path == "/2010-04-01/Accounts/AC123/Messages.json")
                let body = Dictionary(FormEncoding.decode(sent.body), uniquingKeysWith: { $1 })["Body"] ?? ""
                #expect(body.contains("verification code"))

                let callback = [("MessageSid", "SM0042"), ("MessageStatus", "delivered"), ("AccountSid", "AC123")]
                let url = "https://keywarden.example.com/v1/webhooks/twilio/status"
                var headers = HTTPFields()
                headers[.contentType] = "application/x-www-form-urlencoded"
                headers[.init("X-Twilio-Signature")!] = TwilioSignature.signature(
                    url: url, parameters: callback, authToken: "token-456")
                let accepted = try await api.request(
                    .post, "/v1/webhooks/twilio/status", rawBody: Array(FormEncoding.encode(callback).utf8),
                    headers: headers)
                #expect(accepted.status == .ok)
                let status = try await api.request(.get, "/v1/organization/phone_verifications/\(id)", token: token)
                #expect(status.string("delivery") == "delivered")

                headers[.init("X-Twilio-Signature")!] = "forged"
                let forged = try await api.request(
                    .post, "/v1/webhooks/twilio/status",
                    rawBody: Array(FormEncoding.encode([("MessageSid", "SM0042"), ("MessageStatus", "failed")]).utf8),
                    headers: headers)
                #expect(forged.status == .forbidden)
                #expect(forged.string("error.code") == "invalid_signature")
                headers[.init("X-Twilio-Signature")!] = nil
                let unsigned = try await api.request(
                    .post, "/v1/webhooks/twilio/status", rawBody: Array("MessageSid=SM0042&MessageStatus=failed".utf8),
                    headers: headers)
                #expect(unsigned.status == .forbidden)
                let unchanged = try await api.request(.get, "/v1/organization/phone_verifications/\(id)", token: token)
                #expect(unchanged.string("delivery") == "delivered")
            }
        }
    }

    @Test func twilioVerifyOwnsTheCodeWhileKeywardenKeepsTheAttemptBudget() async throws {
        let stub = StubServer.twilioVerify()
        try await stub.run { base in
            try await withApp(configure: {
                $0.providers.sms = .twilioVerify(twilioAccount(base: base), serviceSID: "VA789")
                $0.providers.publicURL = "https://keywarden.example.com"
            }) { api, _ in
                let token = try await api.token()
                let started = try await api.startVerification(token)
                let id = try #require(started.string("id"))
                let wrong = try await api.check(token, id, code: "111111")
                #expect(wrong.string("error.code") == "incorrect_code")
                let right = try await api.check(token, id, code: "424242")
                #expect(right.string("status") == "approved")
                // Refusals still come first: a landline never reaches Twilio.
                let refused = try await api.startVerification(token, number: Numbers.britishLandline, country: nil)
                #expect(refused.string("error.code") == "phone_line_type_not_allowed")
            }
        }
        #expect(stub.requests.map(\.path).filter { $0.hasSuffix("/Verifications") }.count == 1)
    }

    /// The form fields of every request the stub received at a path ending in `suffix`.
    func forms(_ stub: StubServer, at suffix: String) -> [[String: String]] {
        stub.requests.filter { $0.path.hasSuffix(suffix) }
            .map { Dictionary(FormEncoding.decode($0.body), uniquingKeysWith: { $1 }) }
    }

    @Test func twilioMessagingSendsAWhatsAppCodeAndItsResendToWhatsAppAddresses() async throws {
        let stub = StubServer { _ in (.created, #"{"sid":"SM0043","status":"queued"}"#) }
        let time = ManualClock()
        try await stub.run { base in
            try await withApp(
                clock: time.clock,
                configure: {
                    $0.providers.sms = .twilio(twilioAccount(base: base), sender: .number("+15005550006"))
                    $0.providers.twilioWhatsAppFrom = "+14155238886"
                    $0.verification.whatsappCountries = ["GB"]
                }
            ) { api, _ in
                let token = try await api.token()
                let started = try await api.startVerification(
                    token, number: Numbers.britishMobile, country: nil, channel: "whatsapp")
                #expect(started.status == .created)
                #expect(started.string("channel") == "whatsapp")
                let id = try #require(started.string("id"))
                time.advance(by: 31)
                let resent = try await api.resendVerification(token, id)
                #expect(resent.status == .ok)
                #expect(resent.string("channel") == "whatsapp")
            }
        }
        let sent = forms(stub, at: "/Messages.json")
        #expect(sent.count == 2)
        for form in sent {
            #expect(form["To"] == "whatsapp:+447400123456")
            #expect(form["From"] == "whatsapp:+14155238886")
        }
        #expect(sent.first?["Body"] == sent.last?["Body"])
    }

    @Test func twilioVerifyStartsAndResendsAWhatsAppCodeByWhatsApp() async throws {
        let stub = StubServer.twilioVerify()
        let time = ManualClock()
        try await stub.run { base in
            try await withApp(
                clock: time.clock,
                configure: {
                    $0.providers.sms = .twilioVerify(twilioAccount(base: base), serviceSID: "VA789")
                    $0.verification.whatsappCountries = ["GB"]
                }
            ) { api, _ in
                let token = try await api.token()
                let started = try await api.startVerification(
                    token, number: Numbers.britishMobile, country: nil, channel: "whatsapp")
                let id = try #require(started.string("id"))
                time.advance(by: 31)
                #expect(try await api.resendVerification(token, id).status == .ok)
                let right = try await api.check(token, id, code: "424242")
                #expect(right.string("status") == "approved")
                #expect(right.string("channel") == "whatsapp")
            }
        }
        let starts = forms(stub, at: "/Verifications")
        #expect(starts.count == 2)
        #expect(starts.allSatisfy { $0 == ["To": "+447400123456", "Channel": "whatsapp"] })
    }

    @Test func whatsappIsRefusedForNumbersFromCountriesNotOfferedAndEverywhereByDefault() async throws {
        let stub = StubServer { _ in (.created, #"{"sid":"SM0044","status":"queued"}"#) }
        try await stub.run { base in
            for offered in [Set<String>(), Set(["GB"])] {
                try await withApp(configure: {
                    $0.providers.sms = .twilio(twilioAccount(base: base), sender: .number("+15005550006"))
                    $0.verification.whatsappCountries = offered
                }) { api, _ in
                    let token = try await api.token()
                    var numbers = [Numbers.usE164]
                    if offered.isEmpty { numbers.append(Numbers.britishMobile) }
                    for number in numbers {
                        let refused = try await api.startVerification(
                            token, number: number, country: nil, channel: "whatsapp")
                        #expect(refused.status == .badRequest)
                        #expect(refused.string("error.code") == "invalid_value")
                        #expect(refused.string("error.param") == "channel")
                    }
                    let unknown = try await api.startVerification(token, channel: "carrier-pigeon")
                    #expect(unknown.string("error.param") == "channel")
                }
            }
        }
        #expect(stub.requests.isEmpty)
    }

    @Test func theLogProviderRecordsTheChannelInTheOutbox() async throws {
        let directory = try temporaryDirectory()
        try await withApp(configure: {
            $0.storage.dataDirectory = directory
            $0.verification.whatsappCountries = ["GB"]
        }) { api, _ in
            let token = try await api.token()
            let started = try await api.startVerification(
                token, number: Numbers.britishMobile, country: nil, channel: "whatsapp")
            #expect(started.status == .created)
            let entries = try Outbox.latest(in: directory, count: 10)
            #expect(entries.count == 1)
            #expect(entries.first?.channel == .whatsapp)
            #expect(entries.first?.to == "+447400123456")
            #expect(entries.first?.verificationID == started.string("id"))
        }
    }

    @Test func twilioLookupRefinesTheLineType() async throws {
        let stub = StubServer { _ in (.ok, #"{"line_type_intelligence":{"type":"nonFixedVoip"}}"#) }
        let outbox = TestOutbox()
        try await stub.run { base in
            try await withApp(
                outbox: outbox,
                configure: {
                    $0.providers.lineTypes = .twilioLookup(twilioAccount(base: base))
                }
            ) { api, _ in
                let token = try await api.token()
                let refused = try await api.startVerification(token)
                #expect(refused.string("error.code") == "phone_line_type_not_allowed")
                #expect(refused.string("error.message")?.contains("VoIP") == true)
                #expect(outbox.sent.isEmpty)
            }
        }
    }

    @Test func incompleteProviderSettingsAreRefusedAtStart() async throws {
        let cases: [([String: String], String)] = [
            (["KEYWARDEN_SMS_PROVIDER": "twilio"], "twilio_account_sid"),
            (["KEYWARDEN_SMS_PROVIDER": "twilio", "KEYWARDEN_TWILIO_ACCOUNT_SID": "AC1"], "twilio_auth_token"),
            (
                [
                    "KEYWARDEN_SMS_PROVIDER": "twilio", "KEYWARDEN_TWILIO_ACCOUNT_SID": "AC1",
                    "KEYWARDEN_TWILIO_AUTH_TOKEN": "t",
                ],
                "twilio_from"
            ),
            (["KEYWARDEN_SMS_PROVIDER": "webhook"], "sms_webhook_url"),
            (["KEYWARDEN_SMS_PROVIDER": "carrier-pigeon"], "sms_provider"),
            (["KEYWARDEN_BLOCKED_LINE_TYPES": "voip,satellite"], "blocked_line_types"),
            (["KEYWARDEN_ALLOWED_COUNTRIES": "US,QQ"], "allowed_countries"),
        ]
        for (environment, key) in cases {
            let error = await #expect(throws: ConfigurationError.self) {
                try await KeywardenConfiguration.load(from: ConfigurationSources(flags: [:], environment: environment))
            }
            #expect(error?.key == key)
        }
        let configured = try await KeywardenConfiguration.load(
            from: ConfigurationSources(
                flags: [:],
                environment: [
                    "KEYWARDEN_ALLOWED_COUNTRIES": "us, gb", "KEYWARDEN_BLOCKED_LINE_TYPES": "voip",
                    "KEYWARDEN_MAX_ORGANIZATIONS_PER_PHONE": "1",
                ]
            ))
        #expect(configured.verification.allowedCountries == ["US", "GB"])
        #expect(configured.verification.blockedLineTypes == [.voip])
        #expect(configured.verification.maxOrganizationsPerPhone == 1)
    }
}
