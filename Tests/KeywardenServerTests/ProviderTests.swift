import Crypto
import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenProviders
import KeywardenServer
import PhoneNumbers
import Testing

@Suite("SMS and lookup providers against a stub server")
struct ProviderTests {
    static let message = SMSMessage(
        to: "+12015550123", body: "Your Keywarden verification code is 123456.",
        verificationID: PhoneVerificationID(unchecked: "pv_test"))

    func twilioConfiguration(_ baseURL: String) -> TwilioConfiguration {
        var configuration = TwilioConfiguration(accountSID: "AC123", authToken: "token-456")
        configuration.from = "+15005550006"
        configuration.verifyServiceSID = "VA789"
        configuration.statusCallbackURL = "https://keywarden.example.com/v1/webhooks/twilio/status"
        configuration.apiBaseURL = baseURL
        configuration.verifyBaseURL = baseURL
        configuration.lookupBaseURL = baseURL
        configuration.timeout = .seconds(2)
        return configuration
    }

    func twilio(_ baseURL: String) -> Twilio {
        Twilio(configuration: twilioConfiguration(baseURL))
    }

    func fields(_ request: RecordedRequest) -> [String: String] {
        Dictionary(FormEncoding.decode(request.body), uniquingKeysWith: { $1 })
    }

    static let basicAuth = "Basic " + Data("AC123:token-456".utf8).base64EncodedString()

    @Test func twilioMessagingPostsTheDocumentedForm() async throws {
        let stub = StubServer { _ in (.created, #"{"sid":"SM0001","status":"queued"}"#) }
        try await stub.run { base in
            let receipt = try await twilio(base).messaging.send(Self.message)
            #expect(receipt == SMSReceipt(providerMessageID: "SM0001", delivery: .queued))
        }
        let request = try #require(stub.requests.first)
        #expect(request.method == .post)
        #expect(request.path == "/2010-04-01/Accounts/AC123/Messages.json")
        #expect(request.headers[.authorization] == Self.basicAuth)
        #expect(request.headers[.contentType] == "application/x-www-form-urlencoded")
        #expect(
            fields(request) == [
                "To": "+12015550123", "From": "+15005550006", "Body": Self.message.body,
                "StatusCallback": "https://keywarden.example.com/v1/webhooks/twilio/status",
            ])
    }

    static let whatsappMessage = SMSMessage(
        to: "+12015550123", body: "Your Keywarden verification code is 123456.",
        verificationID: PhoneVerificationID(unchecked: "pv_test"), channel: .whatsapp)

    @Test func twilioMessagingSendsWhatsAppCodesWithTheApprovedTemplate() async throws {
        let stub = StubServer { _ in (.created, #"{"sid":"SM0003","status":"queued"}"#) }
        try await stub.run { base in
            var client = twilioConfiguration(base)
            client.whatsappContentSID = "HX0123456789abcdef0123456789abcdef"
            var message = Self.whatsappMessage
            message.code = "123456"
            _ = try await Twilio(configuration: client).messaging.send(message)
            _ = try await Twilio(configuration: client).messaging.send(Self.message)
        }
        let sent = stub.requests.map { fields($0) }
        #expect(sent.count == 2)
        #expect(sent[0]["ContentSid"] == "HX0123456789abcdef0123456789abcdef")
        #expect(sent[0]["ContentVariables"] == #"{"1":"123456"}"#)
        #expect(sent[0]["Body"] == nil)
        // Text messages keep their body.
        #expect(sent[1]["Body"] == Self.message.body)
        #expect(sent[1]["ContentSid"] == nil)
    }

    @Test func twilioMessagingSendsWhatsAppFromTheWhatsAppSender() async throws {
        let stub = StubServer { _ in (.created, #"{"sid":"SM0002","status":"queued"}"#) }
        try await stub.run { base in
            var client = twilioConfiguration(base)
            client.whatsappFrom = "+14155238886"
            _ = try await Twilio(configuration: client).messaging.send(Self.whatsappMessage)
            // Without a WhatsApp sender of its own, WhatsApp goes from the SMS number; SMS always does.
            _ = try await twilio(base).messaging.send(Self.whatsappMessage)
            _ = try await Twilio(configuration: client).messaging.send(Self.message)
        }
        let sent = stub.requests.map { fields($0) }
        #expect(sent.count == 3)
        #expect(sent[0]["To"] == "whatsapp:+12015550123")
        #expect(sent[0]["From"] == "whatsapp:+14155238886")
        #expect(sent[0]["Body"] == Self.whatsappMessage.body)
        #expect(sent[0]["StatusCallback"] == "https://keywarden.example.com/v1/webhooks/twilio/status")
        #expect(sent[1]["To"] == "whatsapp:+12015550123")
        #expect(sent[1]["From"] == "whatsapp:+15005550006")
        #expect(sent[2]["To"] == "+12015550123")
        #expect(sent[2]["From"] == "+15005550006")
    }

    @Test func aMessagingServiceSendsWhatsAppToAWhatsAppAddress() async throws {
        let stub = StubServer { _ in (.created, #"{"sid":"SM0003","status":"queued"}"#) }
        try await stub.run { base in
            var client = twilioConfiguration(base)
            client.from = nil
            client.messagingServiceSID = "MG123"
            _ = try await Twilio(configuration: client).messaging.send(Self.whatsappMessage)
        }
        let request = try #require(stub.requests.first)
        #expect(fields(request)["To"] == "whatsapp:+12015550123")
        #expect(fields(request)["MessagingServiceSid"] == "MG123")
        #expect(fields(request)["From"] == nil)
    }

    @Test func twilioVerifyStartsAWhatsAppVerificationWithItsChannel() async throws {
        let stub = StubServer.twilioVerify()
        try await stub.run { base in
            _ = try await twilio(base).verify.start("+12015550123", .whatsapp)
        }
        let request = try #require(stub.requests.first)
        #expect(request.path == "/v2/Services/VA789/Verifications")
        #expect(fields(request) == ["To": "+12015550123", "Channel": "whatsapp"])
    }

    @Test func theWebhookSaysWhichChannelToSendBy() async throws {
        let stub = StubServer { _ in (.ok, "{}") }
        try await stub.run { base in
            _ = try await WebhookSMSSender(url: base + "/sms", secret: "webhook-secret-0123").sender
                .send(Self.whatsappMessage)
        }
        let request = try #require(stub.requests.first)
        let json = try JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: String]
        #expect(json?["channel"] == "whatsapp")
        #expect(json?["to"] == "+12015550123")
    }

    @Test func theOutboxRecordsTheChannelAndReadsOlderEntriesAsTextMessages() async throws {
        let directory = try temporaryDirectory()
        let outbox = Outbox(directory: directory, logger: quietLogger)
        _ = try await outbox.sender.send(Self.whatsappMessage)
        _ = try await outbox.sender.send(Self.message)
        let file = URL(fileURLWithPath: directory).appendingPathComponent("outbox.jsonl")
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.first?.contains(#""channel":"whatsapp""#) == true)
        // A line from before entries named their channel.
        let older =
            #"{"body":"Your code is 654321.","sent_at":1700000000,"to":"+12015550123","verification_id":"pv_old"}"#
        try Data((lines.joined(separator: "\n") + "\n" + older + "\n").utf8).write(to: file)
        let entries = try Outbox.latest(in: directory, count: 10)
        #expect(entries.map(\.channel) == [.whatsapp, .sms, .sms])
        #expect(entries.last?.verificationID == "pv_old")
    }

    @Test func twilioRefusalsBecomeProviderErrorsThatDoNotQuoteTheNumber() async throws {
        let stub = StubServer { _ in
            (
                .badRequest,
                #"{"code":21211,"message":"The 'To' number +12015550123 is not a valid phone number.","status":400}"#
            )
        }
        try await stub.run { base in
            let error = await #expect(throws: ProviderError.self) {
                try await twilio(base).messaging.send(Self.message)
            }
            #expect(error?.description.contains("21211") == true)
            #expect(error?.description.contains("2015550123") == false)
        }
    }

    @Test func serverErrorsAndUnreachableProvidersFail() async throws {
        let stub = StubServer { _ in (.serviceUnavailable, "{}") }
        try await stub.run { base in
            await #expect(throws: ProviderError.self) { try await twilio(base).messaging.send(Self.message) }
        }
        await #expect(throws: ProviderError.self) {
            try await twilio("http://127.0.0.1:9").messaging.send(Self.message)
        }
    }

    @Test func twilioVerifyStartsAndChecksWithTheDocumentedForms() async throws {
        let stub = StubServer.twilioVerify()
        try await stub.run { base in
            let verify = twilio(base).verify
            let receipt = try await verify.start("+12015550123", .sms)
            #expect(receipt.providerMessageID == "VE0001")
            #expect(try await verify.check("+12015550123", "111111") == false)
            #expect(try await verify.check("+12015550123", "424242") == true)
        }
        let requests = stub.requests
        #expect(
            requests.map(\.path) == [
                "/v2/Services/VA789/Verifications", "/v2/Services/VA789/VerificationCheck",
                "/v2/Services/VA789/VerificationCheck",
            ])
        #expect(requests.allSatisfy { $0.method == .post && $0.headers[.authorization] == Self.basicAuth })
        #expect(fields(requests[0]) == ["To": "+12015550123", "Channel": "sms"])
        #expect(fields(requests[2]) == ["To": "+12015550123", "Code": "424242"])
    }

    @Test func twilioLookupMapsLineTypesAndIsCached() async throws {
        let stub = StubServer { _ in (.ok, #"{"line_type_intelligence":{"type":"nonFixedVoip"}}"#) }
        try await stub.run { base in
            let lookup = LineTypeCache().wrapping(twilio(base).lookup)
            let number = try PhoneNumbers.parse("+12015550123", defaultRegion: nil)
            #expect(try await lookup.lookup(number) == .voip)
            #expect(try await lookup.lookup(number) == .voip)
        }
        #expect(stub.requests.count == 1)
        let request = try #require(stub.requests.first)
        #expect(request.method == .get)
        #expect(request.path == "/v2/PhoneNumbers/%2B12015550123" || request.path == "/v2/PhoneNumbers/+12015550123")
        #expect(request.query == "Fields=line_type_intelligence")
        #expect(Twilio.lineType("landline") == .fixedLine)
        #expect(Twilio.lineType("mobile") == .mobile)
        #expect(Twilio.lineType("tollFree") == .tollFree)
        #expect(Twilio.lineType("fixedVoip") == .voip)
    }

    @Test func webhookPostsSignedJSON() async throws {
        let stub = StubServer { _ in (.ok, "{}") }
        try await stub.run { base in
            let sender = WebhookSMSSender(url: base + "/sms", secret: "webhook-secret-0123").sender
            _ = try await sender.send(Self.message)
        }
        let request = try #require(stub.requests.first)
        #expect(request.path == "/sms")
        let json = try JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: String]
        #expect(
            json == ["to": "+12015550123", "body": Self.message.body, "verification_id": "pv_test", "channel": "sms"])
        let signature = try #require(request.headers[.init("Keywarden-Signature")!])
        let timestamp = try #require(signature.split(separator: ",").first?.dropFirst(2)).description
        let expected = WebhookSMSSender.signature(
            body: request.body, timestamp: Int(timestamp)!, secret: "webhook-secret-0123")
        #expect(signature == expected)
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("\(timestamp).\(request.body)".utf8), using: SymmetricKey(data: Data("webhook-secret-0123".utf8)))
        #expect(signature.hasSuffix(mac.map { String(format: "%02x", $0) }.joined()))
    }

    @Test func twilioSignatureFollowsTwilioSpecification() {
        // The example from Twilio's security documentation.
        let parameters = [
            ("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"), ("Digits", "1234"), ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        let signature = TwilioSignature.signature(
            url: "https://mycompany.com/myapp.php?foo=1&bar=2", parameters: parameters,
            authToken: "12345")
        #expect(signature == "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
        #expect(
            TwilioSignature.isValid(
                presented: signature, url: "https://mycompany.com/myapp.php?foo=1&bar=2", parameters: parameters,
                authToken: "12345"))
        #expect(
            !TwilioSignature.isValid(
                presented: signature, url: "https://mycompany.com/myapp.php?foo=1&bar=2", parameters: parameters,
                authToken: "54321"))
    }
}
