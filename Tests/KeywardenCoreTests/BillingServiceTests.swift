import Foundation
import KeywardenCore
import Testing

@Suite("Billing: cards, credit purchases, auto-recharge and the ledger")
struct BillingServiceTests {
    // MARK: Who may

    @Test func onlyOwnersSeeOrChangeBilling() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        let grace = try await bench.member("grace@example.com", of: ada, as: .reader)
        #expect(await refusal { try await bench.service.overview(for: grace.membership) } == "insufficient_permissions")
        #expect(await refusal { try await bench.buy(by: grace) } == "insufficient_permissions")
        #expect(await refusal { try await bench.service.startSetup(by: grace) } == "insufficient_permissions")
        let history = await refusal {
            try await bench.service.transactions(for: grace.membership, after: nil, limit: 10)
        }
        #expect(history == "insufficient_permissions")
        let settings = await refusal {
            try await bench.service.setAutoRecharge(
                enabled: false, thresholdMinorUnits: nil, amountMinorUnits: nil, monthlyCapMinorUnits: nil, by: grace)
        }
        #expect(settings == "insufficient_permissions")
        #expect(bench.provider.customers.isEmpty)
        #expect(bench.provider.setups.isEmpty)
        #expect(try await bench.service.overview(for: ada.membership).balanceMicros == 0)
    }

    // MARK: Cards

    @Test func startingASetupMakesTheCustomerOnceAndStoresAnOpenSetupAtTheProvidersPage() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        let first = try await bench.service.startSetup(by: ada)
        let second = try await bench.service.startSetup(by: ada)
        let customer = "cus_\(ada.organizationID.rawValue)"
        let made = FakePaymentProvider.CustomerRequest(
            organization: ada.organizationID, name: "Personal",
            idempotencyKey: "keywarden-customer-\(ada.organizationID.rawValue)")
        #expect(bench.provider.customers == [made])
        #expect(await bench.billing.account(of: ada.organizationID)?.customerReference == customer)
        #expect(bench.provider.setups.map(\.setup) == [first.id, second.id])
        #expect(bench.provider.setups.allSatisfy { $0.customer == customer })
        #expect(
            bench.provider.setups.first?.returnURL
                == "http://127.0.0.1:8080/settings/organization/billing/return?setup=\(first.id.rawValue)")

        #expect(first.status == .open)
        #expect(first.providerReference == "cs_\(first.id.rawValue)")
        #expect(first.url == "https://pay.example/setup/cs_\(first.id.rawValue)")
        #expect(first.userID == ada.user.id)
        #expect(first.expiresAt == BillingBench.opening.addingTimeInterval(3600))
        #expect(await bench.billing.setup(first.id, in: ada.organizationID) == first)
        // The person has not finished on the provider's page: returning saves nothing.
        #expect(try await bench.service.finishSetup(first.id.rawValue, by: ada).status == .open)
        #expect(await bench.billing.paymentMethods(of: ada.organizationID).isEmpty)
    }

    @Test func aSavedCardKeepsOnlyADigestOfItsFingerprintAndIsAudited() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        let setup = try await bench.addCard(ada, fingerprint: "fp_ada_visa")
        #expect(setup.status == .complete)
        let method = try #require(await bench.billing.paymentMethods(of: ada.organizationID).first)
        #expect(setup.paymentMethodID == method.id)
        #expect(method.providerReference == "card_\(setup.id.rawValue)")
        #expect(method.brand == "visa")
        #expect(method.last4 == "4242")
        #expect(method.fingerprintDigest != "fp_ada_visa")
        #expect(!method.fingerprintDigest.contains("fp_ada_visa"))
        let fingerprints = CardFingerprints(serverSecret: BillingBench.serverSecret)
        #expect(method.fingerprintDigest == fingerprints.digest(provider: "fake", fingerprint: "fp_ada_visa"))
        #expect(try await bench.service.overview(for: ada.membership).paymentMethods == [method])
        let added = await bench.auditEvents(.billingPaymentMethodAdded, of: ada)
        #expect(added.map { $0.details["payment_method_id"] } == [method.id.rawValue])
        #expect(added.first?.actor == .session(ada.user, ipAddress: BillingBench.clientAddress))

        // Returning to the page again answers the setup as it ended and saves nothing more.
        #expect(try await bench.service.finishSetup(setup.id.rawValue, by: ada) == setup)
        #expect(await bench.billing.paymentMethods(of: ada.organizationID) == [method])
        #expect(await bench.auditTypes(of: ada) == ["billing.payment_method_added"])
    }

    @Test func aCardTheProviderRefusedEndsTheSetupAsDeclined() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        let setup = try await bench.service.startSetup(by: ada)
        bench.provider.answerSetup(setup.providerReference, with: .failed("Your card was declined."))
        let ended = try await bench.service.finishSetup(setup.id.rawValue, by: ada)
        #expect(ended.status == .failed)
        #expect(ended.failureCode == "card_declined")
        #expect(ended.failureMessage == "Your card was declined.")
        #expect(await bench.billing.paymentMethods(of: ada.organizationID).isEmpty)
        #expect(await bench.auditTypes(of: ada) == ["billing.payment_method_refused"])
    }

    @Test func aCardAlreadyPayingForThreeOrganizationsIsRefusedToAFourthWhileItsOwnOrganizationsMayAddItAgain()
        async throws
    {
        let bench = BillingBench()
        var owners: [BillingBench.Requester] = []
        for email in ["ada@example.com", "grace@example.com", "alan@example.com"] {
            let owner = try await bench.owner(email)
            #expect(try await bench.addCard(owner, fingerprint: "fp_shared").status == .complete)
            owners.append(owner)
        }
        let edsger = try await bench.owner("edsger@example.com")
        let refused = try await bench.addCard(edsger, fingerprint: "fp_shared")
        #expect(refused.status == .failed)
        #expect(refused.failureCode == "payment_method_limit_reached")
        #expect(refused.failureMessage?.contains("(3)") == true)
        #expect(refused.paymentMethodID == nil)
        #expect(await bench.billing.paymentMethods(of: edsger.organizationID).isEmpty)
        #expect(await bench.auditTypes(of: edsger) == ["billing.payment_method_refused"])
        let audited = await bench.auditEvents(.billingPaymentMethodRefused, of: edsger)
        #expect(audited.first?.details["reason"] == "payment_method_limit_reached")
        #expect(bench.provider.detached == ["card_\(refused.id.rawValue)"])
        #expect(await refusal { try await bench.buy(by: edsger) } == "payment_method_required")

        // An organization that has the card adds it again: the card it has is answered, not a second.
        let ada = owners[0]
        let original = try #require(await bench.billing.paymentMethods(of: ada.organizationID).first)
        let again = try await bench.addCard(ada, fingerprint: "fp_shared")
        #expect(again.status == .complete)
        #expect(again.paymentMethodID == original.id)
        #expect(await bench.billing.paymentMethods(of: ada.organizationID) == [original])
        // Another card is fine for the fourth organization.
        #expect(try await bench.addCard(edsger, fingerprint: "fp_edsger").status == .complete)
    }

    @Test func aRemovedCardStillCountsTowardItsCardsLimit() async throws {
        let bench = BillingBench(settings: BillingSettings(maxOrganizationsPerCard: 1))
        let ada = try await bench.owner()
        let saved = try #require(try await bench.addCard(ada, fingerprint: "fp_shared").paymentMethodID)
        try await bench.service.removePaymentMethod(saved.rawValue, by: ada)
        #expect(await bench.billing.paymentMethods(of: ada.organizationID).isEmpty)
        #expect(await bench.auditTypes(of: ada) == ["billing.payment_method_added", "billing.payment_method_removed"])
        let grace = try await bench.owner("grace@example.com")
        #expect(try await bench.addCard(grace, fingerprint: "fp_shared").failureCode == "payment_method_limit_reached")
    }

    // MARK: Buying credits

    @Test func aPurchaseWithoutAnAmountBuysTheDefaultTenDollarsWithThePersonPresent() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        let method = try await bench.savedCard(ada)
        let purchase = try await bench.buy(by: ada)
        #expect(purchase.amountMicros == 10_000_000)
        #expect(purchase.status == .succeeded)
        #expect(purchase.trigger == .manual)
        #expect(purchase.userID == ada.user.id)
        #expect(purchase.paymentMethodID == method.id)
        let charge = try #require(bench.provider.charges.first)
        #expect(bench.provider.charges.count == 1)
        #expect(charge.amountMinorUnits == 1_000)
        #expect(charge.currency == .usd)
        #expect(charge.personPresent)
        #expect(charge.purchase == purchase.id)
        #expect(charge.idempotencyKey == "keywarden-purchase-\(purchase.id.rawValue)")
        #expect(charge.customer == "cus_\(ada.organizationID.rawValue)")
        #expect(charge.paymentMethod == method.providerReference)
    }

    @Test func anAmountBelowFiveDollarsOrAboveTheMaximumIsRefusedAndNothingIsCharged() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        try await bench.addCard(ada)
        for cents: Int64 in [0, 499, 1_000_001, -500, Int64.max] {
            let error = await refusalError { try await bench.buy(cents, by: ada) }
            #expect(refusalCode(of: error) == "invalid_value", "\(cents)")
            #expect(error?.param == "amount", "\(cents)")
        }
        #expect(bench.provider.charges.isEmpty)
        #expect(try await bench.buy(500, by: ada).amountMicros == 5_000_000)
        #expect(try await bench.buy(1_000_000, by: ada).amountMicros == 10_000_000_000)
    }

    @Test func buyingWithNoCardOrOnlyARemovedOneIsRefused() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        #expect(await refusal { try await bench.buy(by: ada) } == "payment_method_required")
        let saved = try await bench.savedCard(ada)
        try await bench.service.removePaymentMethod(saved.id.rawValue, by: ada)
        #expect(await refusal { try await bench.buy(by: ada) } == "payment_method_required")
        #expect(bench.provider.charges.isEmpty)
    }

    @Test func aSucceededPurchaseCreditsTheLedgerOnceAndMailsAReceiptToEveryOwner() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        _ = try await bench.member("grace@example.com", of: ada, as: .owner)
        _ = try await bench.member("alan@example.com", of: ada, as: .reader)
        try await bench.addCard(ada)
        let purchase = try await bench.buy(2_500, by: ada)
        #expect(purchase.status == .succeeded)
        #expect(
            purchase.providerReference
                == FakePaymentProvider.reference(forKey: "keywarden-purchase-\(purchase.id.rawValue)"))
        let ledger = await bench.billing.ledger(of: ada.organizationID)
        #expect(ledger.map(\.kind) == [.purchase])
        #expect(ledger.first?.amountMicros == 25_000_000)
        #expect(ledger.first?.reference == purchase.id.rawValue)
        #expect(ledger.first?.description == "Credit purchase")
        let overview = try await bench.service.overview(for: ada.membership)
        #expect(overview.balanceMicros == 25_000_000)
        #expect(overview.totalPaidMicros == 25_000_000)
        #expect(overview.firstPaymentAt == BillingBench.opening)

        let receipts = bench.receipts()
        #expect(receipts.map(\.to.value).sorted() == ["ada@example.com", "grace@example.com"])
        for receipt in receipts {
            #expect(receipt.text.contains(purchase.id.rawValue))
            #expect(receipt.text.contains("Credit purchase: $25.00"))
            #expect(receipt.text.contains("Visa ending in 4242"))
        }
        let purchased = await bench.auditEvents(.billingCreditsPurchased, of: ada)
        #expect(purchased.map { $0.details["purchase_id"] } == [purchase.id.rawValue])
        #expect(purchased.first?.details["amount_micros"] == "25000000")
        #expect(purchased.first?.details["trigger"] == "manual")
        #expect(purchased.first?.actor.userID == ada.user.id.rawValue)

        // Reading the purchase back asks the provider nothing and credits nothing more.
        #expect(try await bench.service.finishPurchase(purchase.id.rawValue, by: ada) == purchase)
        #expect(bench.provider.chargeStateReads.isEmpty)
        #expect(await bench.billing.balance(of: ada.organizationID) == 25_000_000)
        #expect(bench.receipts().count == 2)
    }

    @Test func theSameIdempotencyKeyAnswersTheSamePurchaseAndChargesOnce() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        try await bench.addCard(ada)
        let first = try await bench.buy(1_000, key: "order-42", by: ada)
        #expect(first.idempotencyKey == "order-42")
        let again = try await bench.buy(1_000, key: "order-42", by: ada)
        #expect(again.id == first.id)
        #expect(again.status == .succeeded)
        #expect(bench.provider.charges.count == 1)
        #expect(await bench.billing.balance(of: ada.organizationID) == 10_000_000)

        let reused = await refusalError { try await bench.buy(2_000, key: "order-42", by: ada) }
        #expect(refusalCode(of: reused) == "idempotency_key_reused")
        #expect(reused?.param == "Idempotency-Key")
        #expect(await refusal { try await bench.buy(key: "with space", by: ada) } == "invalid_value")
        #expect(bench.provider.charges.count == 1)

        // The key is the organization's own: another organization's purchase with it is another purchase.
        let grace = try await bench.owner("grace@example.com")
        try await bench.addCard(grace, fingerprint: "fp_grace")
        let theirs = try await bench.buy(1_000, key: "order-42", by: grace)
        #expect(theirs.id != first.id)
        #expect(bench.provider.charges.count == 2)
    }

    @Test func aDeclinedChargeIsRefusedWithTheProvidersSentenceAndCreditsNothing() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        try await bench.addCard(ada)
        let sentence = "Your card has insufficient funds. Try another card."
        bench.provider.answerCharges(with: .decline(sentence))
        let error = await refusalError { try await bench.buy(by: ada) }
        #expect(refusalCode(of: error) == "card_declined")
        #expect(error?.message == sentence)
        #expect(error?.kind == .paymentRequired)
        #expect(await bench.billing.ledger(of: ada.organizationID).isEmpty)
        let failed = try await bench.lastCharged(in: ada)
        #expect(failed.status == .failed)
        #expect(failed.failureMessage == sentence)
        let audited = await bench.auditEvents(.billingPurchaseFailed, of: ada)
        #expect(audited.map { $0.details["purchase_id"] } == [failed.id.rawValue])
        #expect(audited.first?.details["reason"] == "card_declined")
        #expect(await bench.auditEvents(.billingCreditsPurchased, of: ada).isEmpty)
        #expect(bench.receipts().isEmpty)
        #expect(try await bench.service.overview(for: ada.membership).firstPaymentAt == nil)
    }

    // MARK: Confirmation, webhooks and the sweeper

    @Test func aPurchaseAwaitingConfirmationIsCreditedOnceByTheWebhookWhateverArrivesAfter() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        try await bench.addCard(ada)
        bench.provider.answerCharges(with: .requireAction)
        let waiting = try await bench.buy(by: ada)
        let reference = try #require(waiting.providerReference)
        #expect(waiting.status == .requiresAction)
        #expect(waiting.actionURL == FakePaymentProvider.actionURL(of: reference))
        #expect(
            bench.provider.charges.first?.returnURL
                == "http://127.0.0.1:8080/settings/organization/billing/purchases/\(waiting.id.rawValue)/return")
        #expect(await bench.billing.balance(of: ada.organizationID) == 0)

        let success = ProviderEvent(id: "evt_1", subject: .charge(.succeeded(reference: reference)))
        try await bench.service.handle(success)
        let credited = try await bench.service.purchase(waiting.id.rawValue, for: ada.membership)
        #expect(credited.status == .succeeded)
        #expect(credited.actionURL == nil)
        #expect(await bench.billing.balance(of: ada.organizationID) == 10_000_000)

        // The same event again, another event of the same success, and a late failure change nothing.
        try await bench.service.handle(success)
        try await bench.service.handle(ProviderEvent(id: "evt_2", subject: .charge(.succeeded(reference: reference))))
        try await bench.service.handle(
            ProviderEvent(id: "evt_3", subject: .charge(.failed(reference: reference, message: "Declined."))))
        #expect(try await bench.service.purchase(waiting.id.rawValue, for: ada.membership) == credited)
        #expect(await bench.billing.ledger(of: ada.organizationID).count == 1)
        #expect(await bench.billing.balance(of: ada.organizationID) == 10_000_000)
        let purchased = await bench.auditEvents(.billingCreditsPurchased, of: ada)
        #expect(purchased.count == 1)
        #expect(purchased.first?.actor == .system)
        #expect(await bench.auditEvents(.billingPurchaseFailed, of: ada).isEmpty)
        #expect(bench.receipts().count == 1)
        #expect(await bench.billing.hasEvent(provider: "fake", id: "evt_3"))
    }

    @Test func finishingAPurchaseTheWebhookAlreadyCreditedCreditsNothingMore() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        try await bench.addCard(ada)
        bench.provider.answerCharges(with: .requireAction)
        let waiting = try await bench.buy(by: ada)
        let reference = try #require(waiting.providerReference)
        bench.provider.settleCharge(reference, as: .succeed)
        try await bench.service.handle(ProviderEvent(id: "evt_1", subject: .charge(.succeeded(reference: reference))))
        let finished = try await bench.service.finishPurchase(waiting.id.rawValue, by: ada)
        #expect(finished.status == .succeeded)
        #expect(bench.provider.chargeStateReads.isEmpty)
        #expect(await bench.billing.ledger(of: ada.organizationID).count == 1)
        #expect(await bench.billing.balance(of: ada.organizationID) == 10_000_000)
    }

    @Test func theReturnFromConfirmationCreditsThePurchaseAndTheLaterWebhookAddsNothing() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        try await bench.addCard(ada)
        bench.provider.answerCharges(with: .requireAction)
        let waiting = try await bench.buy(by: ada)
        let reference = try #require(waiting.providerReference)
        // Before the bank's answer, returning leaves the purchase waiting.
        #expect(try await bench.service.finishPurchase(waiting.id.rawValue, by: ada).status == .requiresAction)
        bench.provider.settleCharge(reference, as: .succeed)
        #expect(try await bench.service.finishPurchase(waiting.id.rawValue, by: ada).status == .succeeded)
        #expect(bench.provider.chargeStateReads == [reference, reference])
        try await bench.service.handle(ProviderEvent(id: "evt_1", subject: .charge(.succeeded(reference: reference))))
        #expect(await bench.billing.ledger(of: ada.organizationID).count == 1)
        #expect(await bench.billing.balance(of: ada.organizationID) == 10_000_000)
    }

    @Test func theSweeperAsksTheProviderAboutAPurchasePendingLongerThanSettleAfterAndCreditsIt() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        try await bench.addCard(ada)
        bench.provider.answerCharges(with: .process)
        let pending = try await bench.buy(by: ada)
        #expect(pending.status == .pending)
        let reference = try #require(pending.providerReference)
        bench.provider.settleCharge(reference, as: .succeed)
        #expect(try await bench.service.sweep() == 0)
        #expect(bench.provider.chargeStateReads.isEmpty)

        bench.time.advance(by: bench.service.settings.settleAfter + 1)
        #expect(try await bench.service.sweep() == 1)
        #expect(bench.provider.chargeStateReads == [reference])
        #expect(try await bench.service.purchase(pending.id.rawValue, for: ada.membership).status == .succeeded)
        #expect(await bench.billing.balance(of: ada.organizationID) == 10_000_000)
        // Settled: the next round asks nothing.
        #expect(try await bench.service.sweep() == 0)
        #expect(bench.provider.chargeStateReads == [reference])
    }

    @Test func theSweeperSendsAChargeThatNeverGotAnAnswerAgainWithTheSameIdempotencyKey() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        try await bench.addCard(ada)
        bench.provider.fail(.charge)
        // Whether the card was charged is not known: the purchase is being confirmed, not refused.
        let answered = try await bench.buy(by: ada)
        #expect(answered.status == .pending)
        let unanswered = try await bench.lastCharged(in: ada)
        #expect(unanswered.id == answered.id)
        #expect(unanswered.status == .pending)
        #expect(unanswered.providerReference == nil)
        #expect(await bench.billing.balance(of: ada.organizationID) == 0)

        bench.provider.recover(.charge)
        bench.time.advance(by: bench.service.settings.settleAfter + 1)
        #expect(try await bench.service.sweep() == 1)
        let charges = bench.provider.charges
        #expect(charges.count == 2)
        #expect(charges.map(\.purchase) == [unanswered.id, unanswered.id])
        let key = "keywarden-purchase-\(unanswered.id.rawValue)"
        #expect(charges.map(\.idempotencyKey) == [key, key])
        #expect(charges.map(\.amountMinorUnits) == [1_000, 1_000])
        // Sent again exactly as first sent, or the provider would refuse the reused key.
        #expect(charges.map(\.personPresent) == [true, true])
        #expect(try await bench.service.purchase(unanswered.id.rawValue, for: ada.membership).status == .succeeded)
        #expect(await bench.billing.balance(of: ada.organizationID) == 10_000_000)
    }

    @Test func aRefundTakesItsAmountBackOnceAndNeverMoreThanThePurchaseBought() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        try await bench.addCard(ada)
        let purchase = try await bench.buy(2_000, by: ada)
        let charge = try #require(purchase.providerReference)
        let partial = ProviderEvent(
            id: "evt_r1", subject: .refund(charge: charge, reference: "re_1", amountMinorUnits: 500))
        try await bench.service.handle(partial)
        try await bench.service.handle(ProviderEvent(id: "evt_r1b", subject: partial.subject))
        #expect(await bench.billing.balance(of: ada.organizationID) == 15_000_000)
        // A second refund larger than the purchase takes at most what it bought.
        try await bench.service.handle(
            ProviderEvent(id: "evt_r2", subject: .refund(charge: charge, reference: "re_2", amountMinorUnits: 99_999)))
        let ledger = await bench.billing.ledger(of: ada.organizationID)
        #expect(ledger.map(\.kind) == [.purchase, .refund, .refund])
        #expect(ledger.map(\.amountMicros) == [20_000_000, -5_000_000, -20_000_000])
        #expect(await bench.billing.balance(of: ada.organizationID) == -5_000_000)
        let refunded = await bench.auditEvents(.billingCreditsRefunded, of: ada)
        #expect(refunded.map { $0.details["amount_micros"] } == ["5000000", "20000000"])
        // A refund of a charge Keywarden does not know changes nothing.
        try await bench.service.handle(
            ProviderEvent(id: "evt_r3", subject: .refund(charge: "pi_unknown", reference: "re_3", amountMinorUnits: 1)))
        #expect(await bench.billing.ledger(of: ada.organizationID).count == 3)
    }

    @Test func aDeclinedPurchaseSentAgainWithItsKeyIsDeclinedAgainWithoutAnotherCharge() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        try await bench.addCard(ada)
        bench.provider.answerCharges(with: .decline("Your card has insufficient funds."))
        for _ in 0..<2 {
            #expect(
                await refusal {
                    _ = try await bench.service.buyCredits(
                        amountMinorUnits: nil, paymentMethod: nil, idempotencyKey: "same", by: ada)
                } == "card_declined")
        }
        #expect(bench.provider.charges.count == 1)
    }

    @Test func aDeclinedAutoRechargeIsNotRetriedUntilACardIsAdded() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        try await bench.addCard(ada)
        _ = try await bench.buy(by: ada)
        try await bench.spend(6_000_000, in: ada)
        bench.provider.answerCharges(with: .decline("Your card was declined."))
        try await bench.service.sweep()
        try await bench.service.sweep()
        #expect(bench.provider.charges.count == 2, "the declined card is charged once")
        let failures = bench.mail.sent.filter { $0.subject == "Your Keywarden auto-recharge failed" }
        #expect(failures.count == 1)

        bench.provider.answerCharges(with: .succeed)
        bench.time.advance(by: 60)
        try await bench.addCard(ada, fingerprint: "fp_5555")
        try await bench.service.sweep()
        #expect(bench.provider.charges.count == 3)
        #expect(await bench.billing.balance(of: ada.organizationID) == 14_000_000)
    }

    @Test func aChargeUnansweredForADayFailsWithoutBeingSentAgain() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        try await bench.addCard(ada)
        bench.provider.fail(.charge)
        let unanswered = try await bench.buy(by: ada)
        bench.time.advance(by: 86_401)
        bench.provider.recover(.charge)
        try await bench.service.sweep()
        #expect(bench.provider.charges.count == 1)
        let ended = try await bench.service.purchase(unanswered.id.rawValue, for: ada.membership)
        #expect(ended.status == .failed)
        #expect(await bench.billing.balance(of: ada.organizationID) == 0)
    }

    @Test func aRefundBeforeItsPaymentSettledSettlesThePaymentFirst() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        try await bench.addCard(ada)
        bench.provider.answerCharges(with: .requireAction)
        let waiting = try await bench.buy(by: ada)
        let reference = try #require(waiting.providerReference)
        bench.provider.settleCharge(reference, as: .succeed)
        try await bench.service.handle(
            ProviderEvent(id: "evt_r", subject: .refund(charge: reference, reference: "re_9", amountMinorUnits: 1_000)))
        let ledger = await bench.billing.ledger(of: ada.organizationID)
        #expect(ledger.map(\.kind) == [.purchase, .refund])
        #expect(await bench.billing.balance(of: ada.organizationID) == 0)
        // The same refund again, now that the payment is credited, takes nothing more.
        try await bench.service.handle(
            ProviderEvent(id: "evt_r2", subject: .refund(charge: reference, reference: "re_9", amountMinorUnits: 1_000))
        )
        #expect(await bench.billing.balance(of: ada.organizationID) == 0)
    }

    @Test func aConfirmationLeftADayIsCancelledAtTheProviderBeforeItFails() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        try await bench.addCard(ada)
        bench.provider.answerCharges(with: .requireAction)
        let waiting = try await bench.buy(by: ada)
        #expect(waiting.status == .requiresAction)
        bench.time.advance(by: 86_401)
        try await bench.service.sweep()
        let ended = try await bench.service.purchase(waiting.id.rawValue, for: ada.membership)
        #expect(ended.status == .failed)
        #expect(bench.provider.canceled == [try #require(waiting.providerReference)])
        #expect(await bench.billing.balance(of: ada.organizationID) == 0)
    }

    // MARK: Auto-recharge

    @Test func autoRechargeIsOffBeforeTheFirstPurchase() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        try await bench.addCard(ada)
        let overview = try await bench.service.overview(for: ada.membership)
        #expect(!overview.autoRecharge.enabled)
        #expect(!overview.autoRechargeIsCustom)
        #expect(try await bench.service.rechargeIfNeeded(ada.organizationID) == nil)
        bench.time.advance(by: 300)
        try await bench.service.sweep()
        #expect(bench.provider.charges.isEmpty)
    }

    @Test func afterTheFirstPurchaseABalanceBelowFiveDollarsMakesTheSweeperBuyTenWithoutThePerson() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        try await bench.addCard(ada)
        _ = try await bench.buy(by: ada)
        let defaults = AutoRecharge(
            enabled: true, thresholdMicros: 5_000_000, amountMicros: 10_000_000, monthlyCapMicros: 100_000_000)
        #expect(try await bench.service.overview(for: ada.membership).autoRecharge == defaults)
        // At the threshold is not below it.
        try await bench.spend(5_000_000, in: ada)
        try await bench.service.sweep()
        #expect(bench.provider.charges.count == 1)

        try await bench.spend(1, in: ada)
        try await bench.service.sweep()
        #expect(bench.provider.charges.count == 2)
        let charge = try #require(bench.provider.charges.last)
        #expect(!charge.personPresent)
        #expect(charge.amountMinorUnits == 1_000)
        let recharge = try await bench.lastCharged(in: ada)
        #expect(recharge.trigger == .autoRecharge)
        #expect(recharge.status == .succeeded)
        #expect(recharge.userID == nil)
        #expect(recharge.idempotencyKey == nil)
        #expect(await bench.billing.balance(of: ada.organizationID) == 14_999_999)
        #expect(await bench.billing.ledger(of: ada.organizationID).last?.description == "Auto-recharge")
        let purchased = await bench.auditEvents(.billingCreditsPurchased, of: ada)
        #expect(purchased.last?.details["trigger"] == "auto_recharge")
        #expect(purchased.last?.actor == .system)
        #expect(bench.receipts().last?.text.contains("Auto-recharge: $10.00") == true)

        // Above the threshold again: nothing more is bought.
        try await bench.service.sweep()
        #expect(bench.provider.charges.count == 2)
    }

    @Test func theMonthlyCapStopsRechargesUntilTheNextCalendarMonth() async throws {
        var settings = BillingSettings()
        settings.autoRechargeDefaults.monthlyCapMicros = 20_000_000
        let bench = BillingBench(settings: settings)
        let ada = try await bench.owner()
        try await bench.addCard(ada)
        _ = try await bench.buy(by: ada)
        try await bench.spend(6_000_000, in: ada)
        for round in 1...2 {
            try await bench.service.sweep()
            #expect(bench.provider.charges.count == 1 + round)
            try await bench.spend(10_000_000, in: ada)
        }
        #expect(await bench.billing.balance(of: ada.organizationID) == 4_000_000)
        // Two recharges of $10 reached this month's $20 cap: none on March 30 or 31.
        try await bench.service.sweep()
        bench.time.advance(by: 86_400)
        try await bench.service.sweep()
        #expect(bench.provider.charges.count == 3)
        #expect(await bench.billing.balance(of: ada.organizationID) == 4_000_000)

        // April 1: a new month, a new cap.
        bench.time.advance(by: 86_400)
        try await bench.service.sweep()
        #expect(bench.provider.charges.count == 4)
        #expect(await bench.billing.balance(of: ada.organizationID) == 14_000_000)
    }

    @Test func autoRechargeSettingsAreRefusedWhenTheCapIsBelowTheAmountOrTheAmountIsNotAPurchase() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        let cases: [(threshold: Int64?, amount: Int64?, cap: Int64?, param: String)] = [
            (500, 2_000, 1_000, "monthly_cap"),
            (nil, 400, nil, "amount"),
            (nil, 1_000_001, nil, "amount"),
            (-1, nil, nil, "threshold"),
        ]
        for (threshold, amount, cap, param) in cases {
            let error = await refusalError {
                try await bench.service.setAutoRecharge(
                    enabled: true, thresholdMinorUnits: threshold, amountMinorUnits: amount,
                    monthlyCapMinorUnits: cap, by: ada)
            }
            #expect(refusalCode(of: error) == "invalid_value", "\(param)")
            #expect(error?.param == param)
        }
        #expect(await bench.auditTypes(of: ada).isEmpty)
        #expect(try await bench.service.overview(for: ada.membership).autoRechargeIsCustom == false)

        let chosen = try await bench.service.setAutoRecharge(
            enabled: true, thresholdMinorUnits: 1_000, amountMinorUnits: 2_000, monthlyCapMinorUnits: nil, by: ada)
        let expected = AutoRecharge(
            enabled: true, thresholdMicros: 10_000_000, amountMicros: 20_000_000, monthlyCapMicros: 100_000_000)
        #expect(chosen == expected)
        let updated = await bench.auditEvents(.billingAutoRechargeUpdated, of: ada)
        #expect(updated.first?.details["amount_micros"] == "20000000")
        #expect(try await bench.service.overview(for: ada.membership).autoRecharge == chosen)
    }

    @Test func ownersTurningAutoRechargeOffStopsRecharges() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        try await bench.addCard(ada)
        _ = try await bench.buy(by: ada)
        let off = try await bench.service.setAutoRecharge(
            enabled: false, thresholdMinorUnits: nil, amountMinorUnits: nil, monthlyCapMinorUnits: nil, by: ada)
        let expected = AutoRecharge(
            enabled: false, thresholdMicros: 5_000_000, amountMicros: 10_000_000, monthlyCapMicros: 100_000_000)
        #expect(off == expected)
        try await bench.spend(9_000_000, in: ada)
        try await bench.service.sweep()
        #expect(try await bench.service.rechargeIfNeeded(ada.organizationID) == nil)
        #expect(bench.provider.charges.count == 1)
        let overview = try await bench.service.overview(for: ada.membership)
        #expect(overview.autoRechargeIsCustom)
        #expect(!overview.autoRecharge.enabled)
        #expect(overview.balanceMicros == 1_000_000)
    }

    // MARK: The ledger

    @Test func aGrantAddsAGrantEntryAndIsAuditedWithWhoGaveIt() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        let entry = try await bench.service.grant(
            micros: 25_000_000, to: ada.organizationID, reason: "Welcome credit", by: .operator)
        #expect(entry.kind == .grant)
        #expect(entry.amountMicros == 25_000_000)
        #expect(entry.description == "Credit grant: Welcome credit")
        #expect(await bench.billing.ledger(of: ada.organizationID) == [entry])
        let overview = try await bench.service.overview(for: ada.membership)
        #expect(overview.balanceMicros == 25_000_000)
        #expect(overview.totalPaidMicros == 0)
        let granted = await bench.auditEvents(.billingCreditsGranted, of: ada)
        #expect(granted.first?.actor == .operator)
        #expect(
            granted.first?.details
                == ["amount_micros": "25000000", "transaction_id": entry.id.rawValue, "reason": "Welcome credit"])
        for micros: Int64 in [0, -1] {
            let refused = await refusal {
                try await bench.service.grant(micros: micros, to: ada.organizationID, reason: nil, by: .operator)
            }
            #expect(refused == "invalid_value")
        }
        #expect(await bench.billing.ledger(of: ada.organizationID).count == 1)
    }

    @Test func theTotalPaidIsPurchasesLessRefundsWithoutGrants() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        try await bench.addCard(ada)
        let purchase = try await bench.buy(by: ada)
        _ = try await bench.service.grant(micros: 5_000_000, to: ada.organizationID, reason: nil, by: .operator)
        func refund() -> LedgerEntry {
            LedgerEntry(
                organizationID: ada.organizationID, kind: .refund, amountMicros: -3_000_000, description: "Refund",
                reference: purchase.id.rawValue, createdAt: bench.time.now)
        }
        #expect(try await bench.billing.append(refund()))
        // A second refund entry for the same purchase is not counted twice.
        #expect(!(try await bench.billing.append(refund())))
        let overview = try await bench.service.overview(for: ada.membership)
        #expect(overview.totalPaidMicros == 7_000_000)
        #expect(overview.balanceMicros == 12_000_000)
    }

    @Test func transactionsArePagedNewestFirstWithACursorAndAMalformedCursorIsRefused() async throws {
        let bench = BillingBench()
        let ada = try await bench.owner()
        var granted: [LedgerEntry] = []
        for round: Int64 in 1...3 {
            granted.append(
                try await bench.service.grant(
                    micros: round * 1_000_000, to: ada.organizationID, reason: "round \(round)", by: .operator))
            bench.time.advance(by: 1)
        }
        let first = try await bench.service.transactions(for: ada.membership, after: nil, limit: 2)
        #expect(first.items.map(\.id) == [granted[2].id, granted[1].id])
        #expect(first.hasMore)
        let second = try await bench.service.transactions(
            for: ada.membership, after: granted[1].id.rawValue, limit: 2)
        #expect(second.items.map(\.id) == [granted[0].id])
        #expect(!second.hasMore)

        let malformed = await refusalError {
            try await bench.service.transactions(for: ada.membership, after: "not-a-cursor", limit: 2)
        }
        #expect(refusalCode(of: malformed) == "invalid_value")
        #expect(malformed?.param == "after")
        let nowhere = LedgerEntryID.generate().rawValue
        let unknown = await refusal {
            try await bench.service.transactions(for: ada.membership, after: nowhere, limit: 2)
        }
        #expect(unknown == "unknown_cursor")
    }
}

/// The billing service over in-memory storage, with a scripted payment provider, the email it
/// sends kept, and a clock the test moves.
struct BillingBench {
    typealias Requester = BillingService.Requester

    /// Where the clock starts: 2026-03-30T12:00:00Z, two days before a month ends.
    static let opening = Date(timeIntervalSince1970: 1_774_872_000)
    static let serverSecret = "keywarden-core-tests-secret"
    static let clientAddress = "203.0.113.9"

    let repositories = InMemoryRepositories()
    let billing = InMemoryBillingRepository()
    let provider = FakePaymentProvider()
    let mail = SentMail()
    let time = ManualClock(BillingBench.opening)
    let service: BillingService

    /// A bench whose service runs under `settings`.
    init(settings: BillingSettings = BillingSettings()) {
        service = BillingService(
            billing: billing, accounts: repositories.accounts, audit: repositories.audit, provider: provider,
            fingerprints: CardFingerprints(serverSecret: Self.serverSecret), email: mail.sender, settings: settings,
            clock: time.clock, logger: quietLogger)
    }

    /// Signs a person up and returns them as the owner of their personal organization.
    func owner(_ email: String = "ada@example.com") async throws -> Requester {
        let account = try await repositories.signUp(email, at: time.now)
        return try await requester(account.user, in: account.organization.id)
    }

    /// Signs a person up and adds them to the owner's organization with `role`.
    func member(_ email: String, of owner: Requester, as role: OrganizationRole) async throws -> Requester {
        let account = try await repositories.signUp(email, at: time.now)
        try await repositories.database.addMember(account.user.id, to: owner.organizationID, role: role, at: time.now)
        return try await requester(account.user, in: owner.organizationID)
    }

    /// The person as a member of the organization, with their membership as it stands now.
    func requester(_ user: User, in organization: OrganizationID) async throws -> Requester {
        Requester(
            membership: try await repositories.membership(of: user.id, in: organization), user: user,
            clientAddress: Self.clientAddress)
    }

    /// Saves a card through the provider's page, as an owner coming back from it does, and
    /// answers the setup as it ended. The card's provider id is named after the setup.
    @discardableResult
    func addCard(_ owner: Requester, fingerprint: String = "fp_4242") async throws -> BillingSetup {
        let setup = try await service.startSetup(by: owner)
        let card = ProviderCard(
            reference: "card_\(setup.id.rawValue)", brand: "visa", last4: "4242", expMonth: 12, expYear: 2034,
            fingerprint: fingerprint)
        provider.answerSetup(setup.providerReference, with: .saved(card))
        return try await service.finishSetup(setup.id.rawValue, by: owner)
    }

    /// Saves a card and answers it as stored.
    func savedCard(_ owner: Requester, fingerprint: String = "fp_4242") async throws -> PaymentMethod {
        let id = try #require(try await addCard(owner, fingerprint: fingerprint).paymentMethodID)
        return try #require(await billing.paymentMethod(id, in: owner.organizationID))
    }

    /// Buys credits for `cents` (the default amount when `nil`) with the newest card.
    func buy(_ cents: Int64? = nil, key: String? = nil, by owner: Requester) async throws -> CreditPurchase {
        try await service.buyCredits(amountMinorUnits: cents, paymentMethod: nil, idempotencyKey: key, by: owner)
    }

    /// Spends `micros` of the organization's credit on calls, as the usage meter's debit does.
    func spend(_ micros: Int64, in owner: Requester) async throws {
        let debit = LedgerEntry(
            organizationID: owner.organizationID, kind: .usage, amountMicros: -micros, description: "API usage",
            reference: "usage_\(UUID().uuidString)", createdAt: time.now)
        #expect(try await billing.append(debit))
    }

    /// The purchase the provider was last asked to charge, as storage holds it now.
    func lastCharged(in owner: Requester) async throws -> CreditPurchase {
        let charge = try #require(provider.charges.last)
        return try #require(await billing.purchase(charge.purchase, in: owner.organizationID))
    }

    /// The receipts mailed, oldest first.
    func receipts() -> [EmailMessage] {
        mail.sent.filter { $0.subject == "Your Keywarden receipt" }
    }

    /// The types of the audit events written for the owner's organization, oldest first.
    func auditTypes(of owner: Requester) async -> [String] {
        await repositories.database.auditEvents(in: owner.organizationID).map(\.type.rawValue)
    }

    /// The audit events of one type written for the owner's organization, oldest first.
    func auditEvents(_ type: AuditEventType, of owner: Requester) async -> [AuditEvent] {
        await repositories.database.auditEvents(in: owner.organizationID).filter { $0.type == type }
    }
}

extension BillingService.Requester {
    /// The organization the person acts in.
    var organizationID: OrganizationID { membership.organization.id }
}
