import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenServer
import Testing

@Suite("Billing API: cards, credits, auto-recharge, ledger")
struct BillingAPITests {
    @Test func billingStartsEmptyInTestModeWithThePurchaseLimits() async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            let billing = try await api.request(.get, "/v1/organization/billing", token: token)
            #expect(billing.status == .ok)
            #expect(billing.string("object") == "organization.billing")
            #expect(billing.value("balance.micros") as? Int == 0)
            #expect(billing.string("balance.formatted") == "$0.00")
            #expect(billing.string("balance.currency") == "usd")
            #expect(billing.string("currency") == "usd")
            #expect(billing.value("test_mode") as? Bool == true)
            #expect((billing.value("payment_methods") as? [Any])?.isEmpty == true)
            #expect(billing.value("purchase_limits.minimum.micros") as? Int == 5_000_000)
            #expect(billing.string("purchase_limits.default.formatted") == "$10.00")
            #expect(billing.value("auto_recharge.custom") as? Bool == false)
            #expect(billing.value("auto_recharge.enabled") as? Bool == false, "on only after a first payment")
            #expect(billing.json["first_payment_at"] is NSNull)
            #expect(billing.value("tier") is String)
        }
    }

    @Test func signedOutCallersAreRefused() async throws {
        try await withApp { api, _ in
            let response = try await api.request(.get, "/v1/organization/billing")
            #expect(response.status == .unauthorized)
            #expect(response.errorFields == ["code", "message", "param", "type"])
        }
    }

    @Test func readersCanNeitherSeeNorChangeBilling() async throws {
        try await withApp { api, services in
            let owner = try await api.signUp("ada@example.com")
            let organization = try #require(owner.string("organization.id"))
            let reader = try await api.signUp("grace@example.com")
            try await services.addReader(try #require(reader.string("user.id")), to: organization)
            var headers = HTTPFields()
            headers[.init("Keywarden-Organization")!] = organization
            let token = reader.string("session_token")
            let routes: [(HTTPRequest.Method, String)] = [
                (.get, "/v1/organization/billing"), (.post, "/v1/organization/billing/payment_methods"),
                (.post, "/v1/organization/billing/credits"), (.get, "/v1/organization/billing/transactions"),
            ]
            for (method, path) in routes {
                let refused = try await api.request(method, path, token: token, headers: headers)
                #expect(refused.status == .forbidden, "\(method) \(path)")
                #expect(refused.string("error.code") == "insufficient_permissions")
            }
        }
    }

    @Test func aSavedCardIsListedByBrandAndLastFourOnly() async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            let setup = try await api.saveCard(token: token)
            #expect(setup.status == .ok)
            #expect(setup.string("object") == "billing.setup")
            #expect(setup.string("status") == "complete")
            let methodID = try #require(setup.string("payment_method_id"))
            let billing = try await api.request(.get, "/v1/organization/billing", token: token)
            let methods = try #require(billing.value("payment_methods") as? [[String: Any]])
            #expect(methods.count == 1)
            let method = try #require(methods.first)
            #expect(method["id"] as? String == methodID)
            #expect(method["brand"] as? String == "visa")
            #expect(method["last4"] as? String == "4242")
            #expect(method["exp_month"] as? Int == 12)
            #expect(method["exp_year"] as? Int == 2034)
            // Never the provider's id for the card, never its fingerprint.
            #expect(method.keys.sorted() == ["brand", "created_at", "exp_month", "exp_year", "id", "last4", "object"])
        }
    }

    @Test func buyingTheDefaultAmountCreditsTenDollarsOnce() async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            _ = try await api.saveCard(token: token)
            let bought = try await api.request(.post, "/v1/organization/billing/credits", token: token)
            #expect(bought.status == .created)
            #expect(bought.string("object") == "credit_purchase")
            #expect(bought.string("status") == "succeeded")
            #expect(bought.value("amount.micros") as? Int == 10_000_000)
            #expect(bought.string("amount.formatted") == "$10.00")
            #expect(bought.string("trigger") == "manual")
            #expect(bought.json["action_url"] is NSNull)
            let billing = try await api.request(.get, "/v1/organization/billing", token: token)
            #expect(billing.value("balance.micros") as? Int == 10_000_000)
            #expect(billing.value("total_paid.micros") as? Int == 10_000_000)
            #expect(billing.value("first_payment_at") is Int)
            // The default auto-recharge turns on with a first payment.
            #expect(billing.value("auto_recharge.enabled") as? Bool == true)
            let entries = try await api.transactions(token: token)
            #expect(entries.count == 1)
            #expect(entries.first?["object"] as? String == "billing.transaction")
            #expect(entries.first?["type"] as? String == "purchase")
            #expect((entries.first?["amount"] as? [String: Any])?["micros"] as? Int == 10_000_000)
        }
    }

    @Test func amountsOutsideTheLimitsOrOfTheWrongTypeAreRefusedNamingAmount() async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            for (body, code) in [
                (#"{"amount":100}"#, "invalid_value"), (#"{"amount":-1}"#, "invalid_value"),
                (#"{"amount":1000000000001}"#, "invalid_value"), (#"{"amount":1000.5}"#, "invalid_value"),
                (#"{"amount":"1000"}"#, "invalid_type"), (#"{"amount":null}"#, "invalid_type"),
            ] {
                let refused = try await api.request(.post, "/v1/organization/billing/credits", token: token, json: body)
                #expect(refused.status == .badRequest, "\(body)")
                #expect(refused.string("error.code") == code, "\(body)")
                #expect(refused.string("error.param") == "amount", "\(body)")
            }
            let unknown = try await api.request(
                .post, "/v1/organization/billing/credits", token: token, json: #"{"amount":1000,"card":"x"}"#)
            #expect(unknown.string("error.code") == "unknown_parameter")
            let noCard = try await api.request(.post, "/v1/organization/billing/credits", token: token)
            #expect(noCard.status == .badRequest)
            #expect(noCard.string("error.code") == "payment_method_required")
        }
    }

    @Test func aCardWhoseChargesFailIsDeclinedWith402AndNothingIsCredited() async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            let setup = try await api.saveCard("4000000000000341", token: token)
            #expect(setup.string("status") == "complete")
            let declined = try await api.request(.post, "/v1/organization/billing/credits", token: token)
            #expect(declined.status.code == 402)
            #expect(declined.string("error.code") == "card_declined")
            #expect(declined.string("error.type") == "card_error")
            #expect(declined.string("error.message")?.isEmpty == false)
            #expect(try await api.balance(token: token) == 0)
            #expect(try await api.transactions(token: token).isEmpty)
        }
    }

    @Test func theSameIdempotencyKeyBuysOnceAndAnotherAmountWithItIsRefused() async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            _ = try await api.saveCard(token: token)
            var headers = HTTPFields()
            headers[.init("Idempotency-Key")!] = "order-2026-001"
            let first = try await api.request(
                .post, "/v1/organization/billing/credits", token: token, json: #"{"amount":1500}"#, headers: headers)
            let again = try await api.request(
                .post, "/v1/organization/billing/credits", token: token, json: #"{"amount":1500}"#, headers: headers)
            #expect(first.status == .created)
            #expect(again.status == .created)
            #expect(again.string("id") == first.string("id"))
            #expect(try await api.transactions(token: token).count == 1)
            #expect(try await api.balance(token: token) == 15_000_000)

            let other = try await api.request(
                .post, "/v1/organization/billing/credits", token: token, json: #"{"amount":2000}"#, headers: headers)
            #expect(other.status == .conflict)
            #expect(other.string("error.code") == "idempotency_key_reused")
            #expect(try await api.balance(token: token) == 15_000_000)
        }
    }

    @Test func aRemovedCardIsNoLongerListedOrCharged() async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            let methodID = try #require(try await api.saveCard(token: token).string("payment_method_id"))
            let path = "/v1/organization/billing/payment_methods/\(methodID)"
            let deleted = try await api.request(.delete, path, token: token)
            #expect(deleted.status == .ok)
            #expect(deleted.string("object") == "payment_method.deleted")
            #expect(deleted.string("id") == methodID)
            #expect(deleted.value("deleted") as? Bool == true)
            let billing = try await api.request(.get, "/v1/organization/billing", token: token)
            #expect((billing.value("payment_methods") as? [Any])?.isEmpty == true)
            let again = try await api.request(.delete, path, token: token)
            #expect(again.status == .notFound)
            #expect(again.string("error.code") == "payment_method_not_found")
            let named = try await api.request(
                .post, "/v1/organization/billing/credits", token: token,
                json: #"{"payment_method_id":"\#(methodID)"}"#)
            #expect(named.status == .notFound)
            let unnamed = try await api.request(.post, "/v1/organization/billing/credits", token: token)
            #expect(unnamed.string("error.code") == "payment_method_required")
        }
    }

    @Test func aPaymentTheBankMustConfirmIsCreditedOnceAfterConfirmation() async throws {
        try await withApp { api, services in
            let token = try await api.token()
            #expect(try await api.saveCard("4000002760003184", token: token).string("status") == "complete")
            let bought = try await api.request(.post, "/v1/organization/billing/credits", token: token)
            #expect(bought.status == .created)
            #expect(bought.string("status") == "requires_action")
            let actionURL = try #require(bought.string("action_url"))
            let purchaseID = try #require(bought.string("id"))
            #expect(try await api.balance(token: token) == 0)

            let payments = try #require(services.testPayments)
            let reference = try #require(URL(string: actionURL)?.lastPathComponent)
            #expect(payments.confirmCharge(reference: reference, approve: true) != nil)
            for _ in 0..<2 {
                let settled = try await api.request(
                    .get, "/v1/organization/billing/credits/\(purchaseID)", token: token)
                #expect(settled.status == .ok)
                #expect(settled.string("status") == "succeeded")
                #expect(settled.json["action_url"] is NSNull)
            }
            #expect(try await api.balance(token: token) == 10_000_000)
            #expect(try await api.transactions(token: token).count == 1)
        }
    }

    @Test func aRefusedCardIsAnswered402EveryTimeItsSetupIsFetched() async throws {
        try await withApp { api, services in
            let token = try await api.token()
            let page = try await api.openCardPage(token: token)
            let payments = try #require(services.testPayments)
            _ = try payments.submitCard(
                reference: page.reference, number: "4100000000000019", expiry: "12/34", cvc: "123")
            for _ in 0..<2 {
                let refused = try await api.request(
                    .get, "/v1/organization/billing/setups/\(page.id)", token: token)
                #expect(refused.status.code == 402)
                #expect(refused.string("error.code") == "card_declined")
                #expect(refused.string("error.type") == "card_error")
            }
            let billing = try await api.request(.get, "/v1/organization/billing", token: token)
            #expect((billing.value("payment_methods") as? [Any])?.isEmpty == true)
        }
    }

    @Test func aFourthOrganizationCannotSaveACardThreeAlreadyUse() async throws {
        try await withApp { api, _ in
            for index in 1...3 {
                let token = try await api.token("owner\(index)@example.com")
                #expect(try await api.saveCard(token: token).string("status") == "complete")
            }
            let fourth = try await api.token("owner4@example.com")
            let refused = try await api.saveCard(token: fourth)
            #expect(refused.status == .conflict)
            #expect(refused.string("error.code") == "payment_method_limit_reached")
            #expect(refused.string("error.message")?.contains("(3)") == true)
            let billing = try await api.request(.get, "/v1/organization/billing", token: fourth)
            #expect((billing.value("payment_methods") as? [Any])?.isEmpty == true)
        }
    }

    @Test func unknownSetupsAndPurchasesAreNotFound() async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            let setup = try await api.request(.get, "/v1/organization/billing/setups/seti_nothing", token: token)
            #expect(setup.status == .notFound)
            #expect(setup.string("error.code") == "billing_setup_not_found")
            let purchase = try await api.request(.get, "/v1/organization/billing/credits/cpur_nothing", token: token)
            #expect(purchase.status == .notFound)
            #expect(purchase.string("error.code") == "purchase_not_found")
        }
    }

    @Test func autoRechargeCanBeSetAndItsAmountsAreChecked() async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            let path = "/v1/organization/billing/auto_recharge"
            let set = try await api.request(
                .post, path, token: token,
                json: #"{"enabled":false,"threshold":1000,"amount":2000,"monthly_cap":5000}"#)
            #expect(set.status == .ok)
            #expect(set.string("object") == "billing.auto_recharge")
            #expect(set.value("enabled") as? Bool == false)
            #expect(set.value("threshold.micros") as? Int == 10_000_000)
            #expect(set.value("amount.micros") as? Int == 20_000_000)
            #expect(set.value("monthly_cap.micros") as? Int == 50_000_000)
            #expect(set.value("custom") as? Bool == true)
            let billing = try await api.request(.get, "/v1/organization/billing", token: token)
            #expect(billing.value("auto_recharge.custom") as? Bool == true)
            #expect(billing.value("auto_recharge.amount.micros") as? Int == 20_000_000)

            for (body, code, param) in [
                (#"{"threshold":100}"#, "missing_required_parameter", "enabled"),
                (#"{"enabled":true,"amount":100}"#, "invalid_value", "amount"),
                (#"{"enabled":true,"monthly_cap":-1}"#, "invalid_value", "monthly_cap"),
                (#"{"enabled":true,"threshold":1000000000001}"#, "invalid_value", "threshold"),
                (#"{"enabled":"yes"}"#, "invalid_type", "enabled"),
            ] {
                let refused = try await api.request(.post, path, token: token, json: body)
                #expect(refused.status == .badRequest, "\(body)")
                #expect(refused.string("error.code") == code, "\(body)")
                #expect(refused.string("error.param") == param, "\(body)")
            }
        }
    }

    @Test func transactionsPageWithLimitAndAfter() async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            _ = try await api.saveCard(token: token)
            for amount in [500, 700] {
                let bought = try await api.request(
                    .post, "/v1/organization/billing/credits", token: token, json: #"{"amount":\#(amount)}"#)
                #expect(bought.status == .created)
            }
            let path = "/v1/organization/billing/transactions"
            let first = try await api.request(.get, "\(path)?limit=1", token: token)
            #expect(first.status == .ok)
            #expect(first.string("object") == "list")
            #expect((first.value("data") as? [Any])?.count == 1)
            #expect(first.value("has_more") as? Bool == true)
            let lastID = try #require(first.string("last_id"))
            let second = try await api.request(.get, "\(path)?limit=1&after=\(lastID)", token: token)
            #expect((second.value("data") as? [Any])?.count == 1)
            #expect(second.value("has_more") as? Bool == false)
            #expect(second.string("first_id") != lastID)
            let amounts = [first, second].compactMap {
                (($0.value("data") as? [[String: Any]])?.first?["amount"] as? [String: Any])?["micros"] as? Int
            }
            #expect(amounts.sorted() == [5_000_000, 7_000_000])
        }
    }

    @Test func aMalformedLimitOrCursorIsRefused() async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            for (query, param) in [
                ("limit=abc", "limit"), ("limit=0", "limit"), ("limit=101", "limit"), ("limit=", "limit"),
                ("after=key_abc", "after"),
            ] {
                let refused = try await api.request(
                    .get, "/v1/organization/billing/transactions?\(query)", token: token)
                #expect(refused.status == .badRequest, "\(query)")
                #expect(refused.string("error.code") == "invalid_value", "\(query)")
                #expect(refused.string("error.param") == param, "\(query)")
            }
        }
    }

    @Test func theStripeWebhookIsNotThereWithoutAWebhookSecret() async throws {
        try await withApp { api, _ in
            var headers = HTTPFields()
            headers[.init("Stripe-Signature")!] = "t=1700000000,v1=00"
            headers[.contentType] = "application/json"
            let response = try await api.request(
                .post, "/v1/webhooks/stripe", rawBody: Array(#"{"id":"evt_1","type":"ping"}"#.utf8), headers: headers)
            #expect(response.status == .notFound)
            #expect(response.string("error.code") == "unknown_url")
            #expect(response.errorFields == ["code", "message", "param", "type"])
            let unsigned = try await api.request(
                .post, "/v1/webhooks/stripe", rawBody: Array(#"{"id":"evt_1","type":"ping"}"#.utf8),
                headers: [.contentType: "application/json"])
            #expect(unsigned.status == .badRequest)
            #expect(unsigned.string("error.code") == "invalid_signature")
            #expect(unsigned.string("error.param") == "Stripe-Signature")
        }
    }
}

extension TestAPI {
    /// Saves a test card as a person would: opens the card page, types the card on it (and
    /// approves the bank's step when the card asks for one), then fetches the setup, as the
    /// return from the page does. Answers that fetch.
    fileprivate func saveCard(_ number: String = "4242424242424242", token: String) async throws -> TestResponse {
        let page = try await openCardPage(token: token)
        let payments = try #require(services?.testPayments)
        let checkout = try payments.submitCard(reference: page.reference, number: number, expiry: "12/34", cvc: "123")
        if case .confirming? = checkout?.stage {
            #expect(payments.confirmSetup(reference: page.reference, approve: true) != nil)
        }
        return try await request(.get, "/v1/organization/billing/setups/\(page.id)", token: token)
    }

    /// Opens a card page: the setup's id, and the test provider's reference for the page (the
    /// last part of its URL).
    fileprivate func openCardPage(token: String) async throws -> (id: String, reference: String) {
        let started = try await request(.post, "/v1/organization/billing/payment_methods", token: token)
        #expect(started.status == .created)
        #expect(started.string("object") == "billing.setup")
        #expect(started.string("status") == "open")
        #expect(started.json["payment_method_id"] is NSNull)
        let reference = try #require(started.string("url").flatMap { URL(string: $0)?.lastPathComponent })
        return (try #require(started.string("id")), reference)
    }

    /// The organization's balance in micro-units.
    fileprivate func balance(token: String) async throws -> Int? {
        try await request(.get, "/v1/organization/billing", token: token).value("balance.micros") as? Int
    }

    /// The first page of the organization's ledger.
    fileprivate func transactions(token: String) async throws -> [[String: Any]] {
        let page = try await request(.get, "/v1/organization/billing/transactions", token: token)
        #expect(page.status == .ok)
        return page.value("data") as? [[String: Any]] ?? []
    }
}
