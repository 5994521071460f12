import Crypto
import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenProviders
import Testing

@Suite("Stripe payment provider against a stub Stripe")
struct StripeProviderTests {
    static let organization = OrganizationID(unchecked: "org_StripeTestOrganization01")
    static let setup = BillingSetupID(unchecked: "seti_StripeTestSetup000000001")
    static let purchase = CreditPurchaseID(unchecked: "cpur_StripeTestPurchase00001")
    static let returnURL = "https://keywarden.example.com/settings/organization/billing/purchases/cpur_1/return"

    func provider(_ base: String) -> StripePaymentProvider {
        StripePaymentProvider(secretKey: StripeStub.secretKey, apiBase: base, client: .shared, timeout: .seconds(5))
    }

    static func charge(personPresent: Bool, paymentMethod: String = "pm_1Card") -> ProviderCharge {
        ProviderCharge(
            customer: "cus_Test123", paymentMethod: paymentMethod, amountMinorUnits: 2500, currency: .usd,
            purchase: purchase, idempotencyKey: "keywarden-purchase-\(purchase.rawValue)",
            personPresent: personPresent, returnURL: returnURL, description: "Keywarden credits")
    }

    /// What every request to Stripe carries: the key, the API version, and an idempotency key
    /// exactly when the request creates something.
    func expectStripeHeaders(_ request: RecordedRequest, idempotencyKey: String?) {
        #expect(request.headers[.authorization] == "Bearer \(StripeStub.secretKey)")
        #expect(request.header("Stripe-Version") == "2024-06-20")
        #expect(request.header("Idempotency-Key") == idempotencyKey)
    }

    @Test func nameAndTestModeFollowTheKeyWhichIsNeverShown() {
        let provider = StripePaymentProvider(secretKey: "sk_test_abc123", client: .shared)
        #expect(provider.name == "stripe")
        #expect(provider.isTestMode)
        #expect(StripePaymentProvider(secretKey: "rk_test_abc123", client: .shared).isTestMode)
        #expect(!StripePaymentProvider(secretKey: "sk_live_abc123", client: .shared).isTestMode)
        var dumped = ""
        dump(provider, to: &dumped)
        #expect(!"\(provider)".contains("abc123"))
        #expect(!String(reflecting: provider).contains("abc123"))
        #expect(!dumped.contains("abc123"))
    }

    @Test func customerIsCreatedWithTheOrganizationInItsMetadata() async throws {
        let stub = StripeStub(["POST /v1/customers": (.ok, #"{"id":"cus_Test123","object":"customer"}"#)])
        try await stub.run { base async throws in
            let customer = try await provider(base).createCustomer(
                organization: Self.organization, name: "Acme Rockets", idempotencyKey: "keywarden-customer-1")
            #expect(customer == "cus_Test123")
        }
        let request = try #require(stub.requests.first)
        #expect(request.method == .post)
        #expect(request.path == "/v1/customers")
        #expect(request.headers[.contentType] == "application/x-www-form-urlencoded")
        expectStripeHeaders(request, idempotencyKey: "keywarden-customer-1")
        #expect(request.form == ["name": "Acme Rockets", "metadata[organization_id]": Self.organization.rawValue])
    }

    @Test func setupOpensACheckoutSessionInSetupModeForCards() async throws {
        let url = "https://checkout.stripe.com/c/pay/cs_test_a1B2c3"
        let stub = StripeStub([
            "POST /v1/checkout/sessions": (
                .ok, #"{"id":"cs_test_a1B2c3","object":"checkout.session","mode":"setup","url":"\#(url)"}"#
            )
        ])
        try await stub.run { base async throws in
            let page = try await provider(base).startSetup(
                customer: "cus_Test123", setup: Self.setup, currency: .usd,
                returnURL: "https://keywarden.example.com/billing/return",
                cancelURL: "https://keywarden.example.com/billing")
            #expect(page == ProviderSetupPage(reference: "cs_test_a1B2c3", url: url))
        }
        let request = try #require(stub.requests.first)
        #expect(request.method == .post)
        #expect(request.path == "/v1/checkout/sessions")
        expectStripeHeaders(request, idempotencyKey: "keywarden-setup-\(Self.setup.rawValue)")
        var form = request.form
        // The page closes an hour from now, when Keywarden stops waiting for it.
        let expiresAt = try #require(form.removeValue(forKey: "expires_at").flatMap { Int($0) })
        #expect(abs(expiresAt - Int(Date().timeIntervalSince1970) - 3600) < 60)
        #expect(
            form == [
                "mode": "setup", "customer": "cus_Test123", "currency": "usd", "payment_method_types[0]": "card",
                "success_url": "https://keywarden.example.com/billing/return",
                "cancel_url": "https://keywarden.example.com/billing",
                "client_reference_id": Self.setup.rawValue, "metadata[setup_id]": Self.setup.rawValue,
            ])
    }

    @Test func openAndExpiredSessionsAreReadWithTheCardExpanded() async throws {
        let stub = StripeStub([
            "GET /v1/checkout/sessions/cs_open": (.ok, #"{"id":"cs_open","status":"open","setup_intent":null}"#),
            "GET /v1/checkout/sessions/cs_expired": (.ok, #"{"id":"cs_expired","status":"expired"}"#),
        ])
        try await stub.run { base async throws in
            #expect(try await provider(base).setupState(reference: "cs_open") == .open)
            #expect(try await provider(base).setupState(reference: "cs_expired") == .expired)
        }
        #expect(stub.requests.map(\.path) == ["/v1/checkout/sessions/cs_open", "/v1/checkout/sessions/cs_expired"])
        for request in stub.requests {
            #expect(request.method == .get)
            #expect(request.queryFields == ["expand[]": "setup_intent.payment_method"])
            #expect(request.body.isEmpty)
            expectStripeHeaders(request, idempotencyKey: nil)
        }
    }

    @Test func completedSessionSavesTheCardOfItsExpandedSetupIntent() async throws {
        let session = #"""
            {"id":"cs_done","object":"checkout.session","mode":"setup","status":"complete",
             "setup_intent":{"id":"seti_1Abc","object":"setup_intent","status":"succeeded",
              "payment_method":{"id":"pm_1Card","object":"payment_method","type":"card",
               "card":{"brand":"visa","last4":"4242","exp_month":12,"exp_year":2034,
                "fingerprint":"Xt5EWLLDS7FJjR1c","funding":"credit"}}}}
            """#
        let stub = StripeStub(["GET /v1/checkout/sessions/cs_done": (.ok, session)])
        try await stub.run { base async throws in
            let state = try await provider(base).setupState(reference: "cs_done")
            #expect(
                state
                    == .saved(
                        ProviderCard(
                            reference: "pm_1Card", brand: "visa", last4: "4242", expMonth: 12, expYear: 2034,
                            fingerprint: "Xt5EWLLDS7FJjR1c")))
        }
        #expect(stub.requests.count == 1)
    }

    @Test func paymentMethodGivenAsAnIdIsFetched() async throws {
        let stub = StripeStub([
            "GET /v1/checkout/sessions/cs_ids": (
                .ok,
                #"{"id":"cs_ids","status":"complete","setup_intent":{"id":"seti_2","status":"succeeded","payment_method":"pm_2Card"}}"#
            ),
            "GET /v1/payment_methods/pm_2Card": (
                .ok,
                #"{"id":"pm_2Card","type":"card","card":{"brand":"mastercard","last4":"4444","exp_month":3,"exp_year":2031,"fingerprint":"Mc4444Fp"}}"#
            ),
        ])
        try await stub.run { base async throws in
            let state = try await provider(base).setupState(reference: "cs_ids")
            #expect(
                state
                    == .saved(
                        ProviderCard(
                            reference: "pm_2Card", brand: "mastercard", last4: "4444", expMonth: 3, expYear: 2031,
                            fingerprint: "Mc4444Fp")))
        }
        #expect(stub.requests.map(\.path) == ["/v1/checkout/sessions/cs_ids", "/v1/payment_methods/pm_2Card"])
        #expect(stub.requests.allSatisfy { $0.method == .get })
        if let fetch = stub.requests.last { expectStripeHeaders(fetch, idempotencyKey: nil) }
    }

    @Test func completedSessionWhoseSetupFailedSaysWhyInWords() async throws {
        let stub = StripeStub([
            "GET /v1/checkout/sessions/cs_declined": (
                .ok,
                #"{"id":"cs_declined","status":"complete","setup_intent":{"id":"seti_3","status":"requires_payment_method","last_setup_error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Stripe's words."}}}"#
            ),
            "GET /v1/checkout/sessions/cs_silent": (
                .ok, #"{"id":"cs_silent","status":"complete","setup_intent":{"id":"seti_4","status":"canceled"}}"#
            ),
        ])
        try await stub.run { base async throws in
            #expect(
                try await provider(base).setupState(reference: "cs_declined")
                    == .failed("Your card has insufficient funds."))
            #expect(
                try await provider(base).setupState(reference: "cs_silent")
                    == .failed("Your card could not be saved. Try another card or contact your bank."))
        }
    }

    @Test func chargeWithThePersonPresentSendsTheReturnURL() async throws {
        let stub = StripeStub([
            "POST /v1/payment_intents": (.ok, #"{"id":"pi_Paid","object":"payment_intent","status":"succeeded"}"#)
        ])
        try await stub.run { base async throws in
            #expect(
                try await provider(base).charge(Self.charge(personPresent: true)) == .succeeded(reference: "pi_Paid"))
        }
        let request = try #require(stub.requests.first)
        #expect(request.method == .post)
        #expect(request.path == "/v1/payment_intents")
        expectStripeHeaders(request, idempotencyKey: "keywarden-purchase-\(Self.purchase.rawValue)")
        #expect(
            request.form == [
                "amount": "2500", "currency": "usd", "customer": "cus_Test123", "payment_method": "pm_1Card",
                "confirm": "true", "description": "Keywarden credits",
                "metadata[purchase_id]": Self.purchase.rawValue, "payment_method_types[0]": "card",
                "return_url": Self.returnURL,
            ])
    }

    @Test func chargeWithoutThePersonIsMarkedOffSession() async throws {
        let stub = StripeStub(["POST /v1/payment_intents": (.ok, #"{"id":"pi_Auto","status":"processing"}"#)])
        try await stub.run { base async throws in
            #expect(
                try await provider(base).charge(Self.charge(personPresent: false)) == .processing(reference: "pi_Auto"))
        }
        let request = try #require(stub.requests.first)
        expectStripeHeaders(request, idempotencyKey: "keywarden-purchase-\(Self.purchase.rawValue)")
        #expect(request.form["off_session"] == "true")
        #expect(request.form["return_url"] == nil)
        #expect(request.form["confirm"] == "true")
        #expect(request.form["amount"] == "2500")
    }

    @Test func chargeTheBankWantsConfirmedAnswersTheRedirect() async throws {
        let url = "https://hooks.stripe.com/3d_secure_2/hosted?merchant=acct_1&payment_intent=pi_3DS"
        let stub = StripeStub([
            "POST /v1/payment_intents": (
                .ok,
                #"{"id":"pi_3DS","status":"requires_action","next_action":{"type":"redirect_to_url","redirect_to_url":{"url":"\#(url)","return_url":"\#(Self.returnURL)"}}}"#
            )
        ])
        try await stub.run { base async throws in
            let state = try await provider(base).charge(Self.charge(personPresent: true))
            #expect(state == .requiresAction(reference: "pi_3DS", url: url))
        }
    }

    @Test func declinedCardsFailInWordsWithTheIntentsReference() async throws {
        let errors = [
            "pm_funds": #"""
            {"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds",
             "message":"Your card has insufficient funds.","payment_intent":{"id":"pi_Declined1","status":"requires_payment_method"}}}
            """#,
            "pm_auth": #"""
            {"error":{"type":"card_error","code":"authentication_required","decline_code":"authentication_required",
             "payment_intent":{"id":"pi_Auth1"}}}
            """#,
            "pm_expired": #"{"error":{"type":"card_error","code":"expired_card","payment_intent":{"id":"pi_Old1"}}}"#,
            "pm_novel":
                #"{"error":{"type":"card_error","code":"card_declined_novel","message":"Stripe's own words."}}"#,
        ]
        let stub = StripeStub(answer: { request in
            guard request.path == "/v1/payment_intents", let json = errors[request.form["payment_method"] ?? ""]
            else { return nil }
            return (.paymentRequired, json)
        })
        let expected: [(String, ProviderChargeState)] = [
            ("pm_funds", .failed(reference: "pi_Declined1", message: "Your card has insufficient funds.")),
            (
                "pm_auth",
                .failed(
                    reference: "pi_Auth1",
                    message: "Your bank asks you to confirm this payment; buy credits from the dashboard to confirm it."
                )
            ),
            (
                "pm_expired",
                .failed(reference: "pi_Old1", message: "Your card has expired. Use a card with a later expiry date.")
            ),
            (
                "pm_novel",
                .failed(reference: nil, message: "Your card was declined. Try another card or contact your bank.")
            ),
        ]
        try await stub.run { base async throws in
            for (method, state) in expected {
                let answered = try await provider(base).charge(Self.charge(personPresent: false, paymentMethod: method))
                #expect(answered == state, "\(method)")
            }
        }
        #expect(stub.requests.count == expected.count)
    }

    @Test func serverErrorsThrowWithoutTheKeyOrStripesMessage() async throws {
        let stub = StripeStub(answer: { _ in
            (
                .internalServerError,
                #"{"error":{"type":"api_error","code":"unexpected_glitch","message":"Request failed for key \#(StripeStub.secretKey): secret detail"}}"#
            )
        })
        try await stub.run { base async throws in
            let error = await #expect(throws: PaymentProviderError.self) {
                try await provider(base).charge(Self.charge(personPresent: true))
            }
            let description = error?.description ?? ""
            #expect(description.contains("500"))
            #expect(description.contains("api_error"))
            #expect(description.contains("unexpected_glitch"))
            #expect(!description.contains(StripeStub.secretKey))
            #expect(!description.contains("secret detail"))
        }
        let unreachable = await #expect(throws: PaymentProviderError.self) {
            try await provider("http://127.0.0.1:9").chargeState(reference: "pi_1")
        }
        #expect(unreachable?.description.contains(StripeStub.secretKey) == false)
    }

    @Test func chargeStateReadsThePaymentIntent() async throws {
        let stub = StripeStub([
            "GET /v1/payment_intents/pi_Done": (.ok, #"{"id":"pi_Done","status":"succeeded"}"#),
            "GET /v1/payment_intents/pi_Wait": (.ok, #"{"id":"pi_Wait","status":"processing"}"#),
            "GET /v1/payment_intents/pi_Cvc": (
                .ok,
                #"{"id":"pi_Cvc","status":"requires_payment_method","last_payment_error":{"type":"card_error","code":"incorrect_cvc"}}"#
            ),
            "GET /v1/payment_intents/pi_Worded": (
                .ok,
                #"{"id":"pi_Worded","status":"requires_payment_method","last_payment_error":{"type":"card_error","code":"new_code","message":"Your card does not support this type of purchase."}}"#
            ),
            "GET /v1/payment_intents/pi_Gone": (.ok, #"{"id":"pi_Gone","status":"canceled"}"#),
        ])
        let expected: [(String, ProviderChargeState)] = [
            ("pi_Done", .succeeded(reference: "pi_Done")),
            ("pi_Wait", .processing(reference: "pi_Wait")),
            (
                "pi_Cvc",
                .failed(reference: "pi_Cvc", message: "The card's security code is incorrect. Add the card again.")
            ),
            (
                "pi_Worded",
                .failed(reference: "pi_Worded", message: "Your card does not support this type of purchase.")
            ),
            ("pi_Gone", .failed(reference: "pi_Gone", message: "The payment was canceled, so nothing was charged.")),
        ]
        try await stub.run { base async throws in
            for (reference, state) in expected {
                #expect(try await provider(base).chargeState(reference: reference) == state, "\(reference)")
            }
        }
        #expect(stub.requests.map(\.path) == expected.map { "/v1/payment_intents/\($0.0)" })
        for request in stub.requests {
            #expect(request.method == .get)
            #expect(request.body.isEmpty)
            expectStripeHeaders(request, idempotencyKey: nil)
        }
    }

    @Test func detachPostsToThePaymentMethodsDetachPath() async throws {
        let stub = StripeStub([
            "POST /v1/payment_methods/pm_1Card/detach": (.ok, #"{"id":"pm_1Card","customer":null}"#)
        ])
        try await stub.run { base async throws in
            try await provider(base).detach(paymentMethod: "pm_1Card")
        }
        let request = try #require(stub.requests.first)
        #expect(request.method == .post)
        #expect(request.path == "/v1/payment_methods/pm_1Card/detach")
        #expect(request.body.isEmpty)
        expectStripeHeaders(request, idempotencyKey: nil)
    }

    @Test func referencesThatAreNotStripeIdsAreNeverSent() async throws {
        let stub = StripeStub([:])
        try await stub.run { base async throws in
            await #expect(throws: PaymentProviderError.self) {
                try await provider(base).setupState(reference: "../customers")
            }
            await #expect(throws: PaymentProviderError.self) {
                try await provider(base).chargeState(reference: "pi_1?expand[]=customer")
            }
            await #expect(throws: PaymentProviderError.self) {
                try await provider(base).detach(paymentMethod: "")
            }
        }
        #expect(stub.requests.isEmpty)
    }
}

@Suite("Stripe webhook signatures and events")
struct StripeWebhookTests {
    static let secret = "whsec_KeywardenTestSigningSecret0123456789"
    static let sentAt = 1_767_225_600
    static let now = Date(timeIntervalSince1970: TimeInterval(sentAt))
    static let paid = StripeWebhookTests.event(
        "payment_intent.succeeded", #"{"id":"pi_Paid","object":"payment_intent"}"#)

    let verifier = StripeWebhookVerifier(secret: StripeWebhookTests.secret)

    /// A `v1` signature exactly as Stripe documents it: the hex of HMAC-SHA256, keyed by the
    /// endpoint's secret, of the timestamp, a dot and the payload.
    static func v1(
        _ payload: String, at time: Int = StripeWebhookTests.sentAt, secret key: String = StripeWebhookTests.secret
    ) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("\(time).\(payload)".utf8), using: SymmetricKey(data: Data(key.utf8)))
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    static func event(_ type: String, _ object: String) -> String {
        #"{"id":"evt_1Keywarden","object":"event","type":"\#(type)","data":{"object":\#(object)}}"#
    }

    func verify(_ payload: String, header: String?, now: Date = StripeWebhookTests.now) throws -> ProviderEvent {
        try verifier.event(payload: Array(payload.utf8), signatureHeader: header, now: now)
    }

    /// The refusal of a delivery, checked to be an invalid signature about the header.
    func refusal(_ payload: String, header: String?, now: Date = StripeWebhookTests.now) -> DomainError? {
        let error = #expect(throws: DomainError.self) { try verify(payload, header: header, now: now) }
        #expect(error?.code == .invalidSignature)
        #expect(error?.kind == .invalidRequest)
        #expect(error?.param == "Stripe-Signature")
        return error
    }

    @Test func signatureMadeAsStripeDocumentsItIsAccepted() throws {
        let event = try verify(Self.paid, header: "t=\(Self.sentAt),v1=\(Self.v1(Self.paid))")
        #expect(event == ProviderEvent(id: "evt_1Keywarden", subject: .charge(.succeeded(reference: "pi_Paid"))))
        // A v0 entry, spaces after the commas and a timestamp right at the tolerance change nothing.
        let old = Self.sentAt - 300
        _ = try verify(Self.paid, header: "t=\(old), v1=\(Self.v1(Self.paid, at: old)), v0=6ffbb59b2300aae63f27")
    }

    @Test func anyOneMatchingV1SignatureIsEnough() throws {
        let wrong = Self.v1(Self.paid, secret: "whsec_TheOldSecret")
        let right = Self.v1(Self.paid)
        _ = try verify(Self.paid, header: "t=\(Self.sentAt),v1=\(wrong),v1=\(right)")
        _ = try verify(Self.paid, header: "t=\(Self.sentAt),v1=\(right),v1=\(wrong)")
    }

    @Test func forgedStaleAndMalformedSignaturesAreRefused() {
        let t = Self.sentAt
        let noMatch = refusal(Self.paid, header: "t=\(t),v1=\(Self.v1(Self.paid, secret: "whsec_Wrong"))")
        let changed = Self.paid.replacingOccurrences(of: "pi_Paid", with: "pi_Else")
        _ = refusal(changed, header: "t=\(t),v1=\(Self.v1(Self.paid))")
        let stale = refusal(Self.paid, header: "t=\(t - 301),v1=\(Self.v1(Self.paid, at: t - 301))")
        _ = refusal(Self.paid, header: "t=\(t + 301),v1=\(Self.v1(Self.paid, at: t + 301))")
        let missing = refusal(Self.paid, header: nil)
        _ = refusal(Self.paid, header: "")
        _ = refusal(Self.paid, header: "t=\(t),v0=\(Self.v1(Self.paid))")
        _ = refusal(Self.paid, header: "v1=\(Self.v1(Self.paid))")
        _ = refusal(Self.paid, header: "t=soon,v1=\(Self.v1(Self.paid))")
        let messages = [noMatch?.message, stale?.message, missing?.message]
        #expect(Set(messages.compactMap { $0 }).count == 3)
        #expect(stale?.message.contains("300 seconds") == true)
    }

    @Test func eachEventTypeMapsToWhatKeywardenDoes() throws {
        let redirect = "https://hooks.stripe.com/3d_secure_2/hosted?payment_intent=pi_1"
        let cases: [(String, String, ProviderEvent.Subject)] = [
            ("checkout.session.completed", #"{"id":"cs_1","mode":"setup"}"#, .setupFinished(reference: "cs_1")),
            ("checkout.session.expired", #"{"id":"cs_2","mode":"setup"}"#, .setupFinished(reference: "cs_2")),
            (
                "checkout.session.async_payment_succeeded", #"{"id":"cs_3","mode":"setup"}"#,
                .setupFinished(reference: "cs_3")
            ),
            ("checkout.session.completed", #"{"id":"cs_4","mode":"payment"}"#, .ignored),
            ("setup_intent.succeeded", #"{"id":"seti_1","status":"succeeded"}"#, .ignored),
            ("setup_intent.setup_failed", #"{"id":"seti_2","status":"requires_payment_method"}"#, .ignored),
            ("payment_intent.succeeded", #"{"id":"pi_1"}"#, .charge(.succeeded(reference: "pi_1"))),
            ("payment_intent.processing", #"{"id":"pi_1"}"#, .charge(.processing(reference: "pi_1"))),
            (
                "payment_intent.payment_failed",
                #"{"id":"pi_1","last_payment_error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Stripe's words."}}"#,
                .charge(.failed(reference: "pi_1", message: "Your card has insufficient funds."))
            ),
            (
                "payment_intent.payment_failed", #"{"id":"pi_1"}"#,
                .charge(
                    .failed(
                        reference: "pi_1", message: "Your card was declined. Try another card or contact your bank."))
            ),
            (
                "payment_intent.requires_action",
                #"{"id":"pi_1","next_action":{"type":"redirect_to_url","redirect_to_url":{"url":"\#(redirect)"}}}"#,
                .charge(.requiresAction(reference: "pi_1", url: redirect))
            ),
            ("payment_intent.requires_action", #"{"id":"pi_1","next_action":null}"#, .ignored),
            (
                "payment_intent.canceled", #"{"id":"pi_1"}"#,
                .charge(.failed(reference: "pi_1", message: "The payment was canceled, so nothing was charged."))
            ),
            (
                "refund.created", #"{"id":"re_1","status":"succeeded","payment_intent":"pi_1","amount":500}"#,
                .refund(charge: "pi_1", reference: "re_1", amountMinorUnits: 500)
            ),
            ("refund.created", #"{"id":"re_1","status":"pending","payment_intent":"pi_1","amount":500}"#, .ignored),
            (
                "refund.updated", #"{"id":"re_1","status":"succeeded","payment_intent":"pi_1","amount":500}"#,
                .refund(charge: "pi_1", reference: "re_1", amountMinorUnits: 500)
            ),
            ("refund.updated", #"{"id":"re_1","status":"succeeded","payment_intent":"pi_1","amount":0}"#, .ignored),
            (
                "charge.dispute.funds_withdrawn", #"{"id":"dp_1","payment_intent":"pi_1","amount":1000}"#,
                .refund(charge: "pi_1", reference: "dp_1", amountMinorUnits: 1000)
            ),
            ("customer.created", #"{"id":"cus_1"}"#, .ignored),
        ]
        for (type, object, subject) in cases {
            let payload = Self.event(type, object)
            let event = try verify(payload, header: "t=\(Self.sentAt),v1=\(Self.v1(payload))")
            #expect(event == ProviderEvent(id: "evt_1Keywarden", subject: subject), "\(type) \(object)")
        }
    }

    @Test func signedBodiesThatAreNotEventsAreRefused() {
        for payload in ["[]", "not json", #"{"type":"payment_intent.succeeded"}"#, #"{"id":42}"#] {
            let error = #expect(throws: DomainError.self) {
                try verify(payload, header: "t=\(Self.sentAt),v1=\(Self.v1(payload))")
            }
            #expect(error?.code == .invalidJson, "\(payload)")
        }
    }
}
