import Foundation
import KeywardenCore
import KeywardenStorage
import Testing

@Suite("BillingRepository contract")
struct BillingRepositoryTests {
    /// An account stored in the database, with its organization and user.
    func stored(_ email: String, on database: DatabaseClient) async throws -> NewAccount {
        let account = try makeAccount(email: email)
        try await SQLAccountRepository(database: database).createAccount(account)
        return account
    }

    func setup(_ account: NewAccount, reference: String = UUID().uuidString) -> BillingSetup {
        BillingSetup(
            id: .generate(), organizationID: account.organization.id, userID: account.user.id,
            providerReference: reference, url: "https://pay.example/\(reference)", status: .open, createdAt: epoch,
            expiresAt: epoch.addingTimeInterval(3600))
    }

    func card(_ account: NewAccount, digest: String = "fp-1") -> PaymentMethod {
        PaymentMethod(
            organizationID: account.organization.id, providerReference: "card-\(UUID().uuidString)", brand: "visa",
            last4: "4242", expMonth: 12, expYear: 2034, fingerprintDigest: digest, createdAt: epoch)
    }

    /// A card saved to the account through a completed setup.
    func savedCard(
        _ account: NewAccount, digest: String = "fp-1", repository: SQLBillingRepository
    ) async throws
        -> PaymentMethod
    {
        let opened = setup(account)
        try await repository.createSetup(opened)
        guard
            case .saved(let method) = try await repository.completeSetup(
                opened.id, with: card(account, digest: digest), at: epoch, maxOrganizationsPerCard: 3)
        else { throw StorageError.corruptRow("the card was not saved") }
        return method
    }

    func purchase(
        _ account: NewAccount, method: PaymentMethod, key: String?, micros: Int64 = 10_000_000
    )
        -> CreditPurchase
    {
        CreditPurchase(
            organizationID: account.organization.id, amountMicros: micros, paymentMethodID: method.id,
            trigger: .manual, status: .pending, idempotencyKey: key, userID: account.user.id, createdAt: epoch,
            updatedAt: epoch)
    }

    @Test(arguments: Backend.available)
    func aCardIsSavedOnceAndCountsTowardItsLimitEvenWhenRemoved(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLBillingRepository(database: database)
            let first = try await stored("a@example.com", on: database)
            let saved = try await savedCard(first, repository: repository)
            #expect(try await repository.paymentMethods(of: first.organization.id).map(\.id) == [saved.id])

            // The same card again in the same organization answers the card already there.
            let again = setup(first)
            try await repository.createSetup(again)
            #expect(
                try await repository.completeSetup(
                    again.id, with: card(first), at: epoch, maxOrganizationsPerCard: 1) == .saved(saved))
            #expect(try await repository.paymentMethods(of: first.organization.id).count == 1)

            // A completed setup does not complete twice.
            guard
                case .alreadyEnded(let ended) = try await repository.completeSetup(
                    again.id, with: card(first), at: epoch, maxOrganizationsPerCard: 3)
            else { Issue.record("a completed setup completed again"); return }
            #expect(ended.status == .complete)
            #expect(ended.paymentMethodID == saved.id)

            #expect(try await repository.removePaymentMethod(saved.id, in: first.organization.id, at: epoch))
            #expect(!(try await repository.removePaymentMethod(saved.id, in: first.organization.id, at: epoch)))
            #expect(try await repository.paymentMethods(of: first.organization.id).isEmpty)
            #expect(try await repository.paymentMethod(saved.id, in: first.organization.id)?.removedAt == epoch)

            // A second organization may take the card while the first one counts, removed or not.
            let second = try await stored("b@example.com", on: database)
            let refused = setup(second)
            try await repository.createSetup(refused)
            #expect(
                try await repository.completeSetup(
                    refused.id, with: card(second), at: epoch, maxOrganizationsPerCard: 1) == .cardLimitReached)
            #expect(try await repository.paymentMethods(of: second.organization.id).isEmpty)
            #expect(
                try await repository.organizationsSharingCard(fingerprintDigest: "fp-1", except: second.organization.id)
                    == 1)
            #expect(try await repository.setup(refused.id, in: second.organization.id)?.status == .open)
            #expect(
                try await repository.endSetup(
                    refused.id, as: .failed, code: "payment_method_limit_reached", message: "No.", at: epoch))
            #expect(!(try await repository.endSetup(refused.id, as: .expired, code: nil, message: nil, at: epoch)))
            let failed = try #require(try await repository.setup(refused.id, in: second.organization.id))
            #expect(failed.status == .failed)
            #expect(failed.failureCode == "payment_method_limit_reached")
            #expect(try await repository.setup(providerReference: refused.providerReference)?.id == refused.id)
            #expect(try await repository.setup(refused.id, in: first.organization.id) == nil)
        }
    }

    @Test(arguments: Backend.available)
    func aPurchaseIsCreditedOnceHoweverOftenItSucceeds(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLBillingRepository(database: database)
            let account = try await stored("a@example.com", on: database)
            let organization = account.organization.id
            let method = try await savedCard(account, repository: repository)
            let made = try await repository.createPurchase(purchase(account, method: method, key: "key-1"))
            // The same key answers the first purchase and stores nothing new.
            let replay = try await repository.createPurchase(
                purchase(account, method: method, key: "key-1", micros: 20_000_000))
            #expect(replay.id == made.id)
            #expect(replay.amountMicros == 10_000_000)

            let entry = LedgerEntry(
                organizationID: organization, kind: .purchase, amountMicros: made.amountMicros,
                description: "Credit purchase", reference: made.id.rawValue, createdAt: epoch)
            let later = epoch.addingTimeInterval(60)
            guard
                case .changed(let succeeded) = try await repository.transition(
                    made.id, to: .succeeded, providerReference: "pi_1", actionURL: nil, failureMessage: nil,
                    entry: entry,
                    at: later)
            else { Issue.record("the purchase did not succeed"); return }
            #expect(succeeded.status == .succeeded)
            #expect(succeeded.providerReference == "pi_1")
            // A second success, or a failure after it, changes nothing and credits nothing.
            let duplicate = LedgerEntry(
                organizationID: organization, kind: .purchase, amountMicros: made.amountMicros,
                description: "Credit purchase", reference: made.id.rawValue, createdAt: later)
            #expect(
                try await repository.transition(
                    made.id, to: .succeeded, providerReference: "pi_1", actionURL: nil, failureMessage: nil,
                    entry: duplicate, at: later) == .unchanged(succeeded))
            #expect(
                try await repository.transition(
                    made.id, to: .failed, providerReference: nil, actionURL: nil, failureMessage: "late", entry: nil,
                    at: later) == .unchanged(succeeded))
            #expect(try await repository.balance(of: organization) == 10_000_000)
            #expect(try await repository.totalPaid(by: organization) == 10_000_000)
            #expect(try await repository.account(of: organization)?.firstPaymentAt == later)
            #expect(try await repository.purchase(providerReference: "pi_1")?.id == made.id)
            #expect(try await repository.unsettledPurchases(before: later.addingTimeInterval(3600), limit: 10).isEmpty)
        }
    }

    @Test(arguments: Backend.available)
    func theLedgerSumsToTheBalanceAndPagesNewestFirst(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLBillingRepository(database: database)
            let account = try await stored("a@example.com", on: database)
            let organization = account.organization.id
            var ids: [LedgerEntryID] = []
            for (index, amount) in [5_000_000, -1_250_000, 42, -7].enumerated() {
                let entry = LedgerEntry(
                    organizationID: organization, kind: amount > 0 ? .grant : .usage, amountMicros: Int64(amount),
                    description: "entry \(index)", reference: amount > 0 ? nil : "batch-\(index)",
                    createdAt: epoch.addingTimeInterval(Double(index)))
                #expect(try await repository.append(entry))
                ids.append(entry.id)
            }
            let repeated = LedgerEntry(
                organizationID: organization, kind: .usage, amountMicros: -1_250_000, description: "again",
                reference: "batch-1", createdAt: epoch)
            #expect(!(try await repository.append(repeated)), "a usage batch is debited once")
            #expect(try await repository.balance(of: organization) == 5_000_000 - 1_250_000 + 42 - 7)
            #expect(try await repository.totalPaid(by: organization) == 0)

            let first = try await repository.entries(of: organization, after: nil, limit: 3)
            #expect(first.items.map(\.id) == [ids[3], ids[2], ids[1]])
            #expect(first.hasMore)
            let second = try await repository.entries(of: organization, after: ids[1], limit: 3)
            #expect(second.items.map(\.id) == [ids[0]])
            #expect(!second.hasMore)
            await #expect(throws: DomainError.unknownCursor) {
                _ = try await repository.entries(of: organization, after: LedgerEntryID.generate(), limit: 3)
            }
        }
    }

    @Test(arguments: Backend.available)
    func autoRechargeFindsBalancesBelowTheirThreshold(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLBillingRepository(database: database)
            let defaults = AutoRecharge(
                enabled: true, thresholdMicros: 5_000_000, amountMicros: 10_000_000, monthlyCapMicros: 50_000_000)
            let paying = try await stored("a@example.com", on: database)
            let custom = try await stored("b@example.com", on: database)
            let neverPaid = try await stored("c@example.com", on: database)
            _ = try await repository.saveCustomer("cus_c", for: neverPaid.organization.id)
            #expect(try await repository.saveCustomer("cus_other", for: neverPaid.organization.id) == "cus_c")

            // A first payment turns the defaults on; the balance of $10 is above the threshold.
            let method = try await savedCard(paying, repository: repository)
            let bought = try await repository.createPurchase(purchase(paying, method: method, key: nil))
            _ = try await repository.transition(
                bought.id, to: .succeeded, providerReference: "pi_a", actionURL: nil, failureMessage: nil,
                entry: LedgerEntry(
                    organizationID: paying.organization.id, kind: .purchase, amountMicros: 10_000_000,
                    description: "Credit purchase", reference: bought.id.rawValue, createdAt: epoch),
                at: epoch)
            #expect(
                try await repository.accountsBelowThreshold(defaults: defaults, enabledByDefault: true, limit: 10)
                    .isEmpty)
            _ = try await repository.append(
                LedgerEntry(
                    organizationID: paying.organization.id, kind: .usage, amountMicros: -6_000_000,
                    description: "Usage", reference: "u1", createdAt: epoch))
            #expect(
                try await repository.accountsBelowThreshold(defaults: defaults, enabledByDefault: true, limit: 10)
                    == [paying.organization.id])
            #expect(
                try await repository.accountsBelowThreshold(defaults: defaults, enabledByDefault: false, limit: 10)
                    .isEmpty)

            // Own settings win over the defaults, on or off; an organization without a card is never listed.
            try await repository.setAutoRecharge(
                AutoRecharge(enabled: true, thresholdMicros: 1, amountMicros: 5_000_000, monthlyCapMicros: 5_000_000),
                for: neverPaid.organization.id)
            _ = try await savedCard(custom, digest: "fp-2", repository: repository)
            try await repository.setAutoRecharge(
                AutoRecharge(enabled: true, thresholdMicros: 1, amountMicros: 5_000_000, monthlyCapMicros: 5_000_000),
                for: custom.organization.id)
            #expect(
                try await repository.accountsBelowThreshold(defaults: defaults, enabledByDefault: true, limit: 10)
                    .sorted { $0.rawValue < $1.rawValue }
                    == [paying.organization.id, custom.organization.id].sorted { $0.rawValue < $1.rawValue })
            try await repository.setAutoRecharge(
                AutoRecharge(enabled: false, thresholdMicros: 1, amountMicros: 5_000_000, monthlyCapMicros: 5_000_000),
                for: custom.organization.id)
            #expect(try await repository.account(of: custom.organization.id)?.autoRecharge?.enabled == false)
            #expect(
                try await repository.accountsBelowThreshold(defaults: defaults, enabledByDefault: true, limit: 10)
                    == [paying.organization.id])

            let automatic = try await repository.createPurchase(
                CreditPurchase(
                    organizationID: paying.organization.id, amountMicros: 10_000_000, paymentMethodID: method.id,
                    trigger: .autoRecharge, status: .pending, idempotencyKey: nil, userID: nil, createdAt: epoch,
                    updatedAt: epoch))
            #expect(try await repository.hasUnsettledAutoRecharge(paying.organization.id))
            #expect(try await repository.latestAutoRecharge(of: paying.organization.id)?.id == automatic.id)
            // Under way, it is not listed again, and a second one cannot be stored beside it.
            #expect(
                try await repository.accountsBelowThreshold(defaults: defaults, enabledByDefault: true, limit: 10)
                    .isEmpty)
            await #expect(throws: (any Error).self) {
                _ = try await repository.createPurchase(
                    CreditPurchase(
                        organizationID: paying.organization.id, amountMicros: 10_000_000, paymentMethodID: method.id,
                        trigger: .autoRecharge, status: .pending, idempotencyKey: nil, userID: nil, createdAt: epoch,
                        updatedAt: epoch))
            }
            #expect(try await repository.autoRechargeTotal(of: paying.organization.id, since: epoch) == 10_000_000)
            #expect(
                try await repository.autoRechargeTotal(of: paying.organization.id, since: epoch.addingTimeInterval(1))
                    == 0)
            _ = try await repository.transition(
                automatic.id, to: .failed, providerReference: nil, actionURL: nil, failureMessage: "Declined.",
                entry: nil, at: epoch)
            #expect(!(try await repository.hasUnsettledAutoRecharge(paying.organization.id)))
            #expect(try await repository.autoRechargeTotal(of: paying.organization.id, since: epoch) == 0)
            // Declined since its newest card: not listed until another card is added.
            #expect(
                try await repository.accountsBelowThreshold(defaults: defaults, enabledByDefault: true, limit: 10)
                    .isEmpty)
        }
    }

    @Test(arguments: Backend.available)
    func aProviderEventIsNotedOnce(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database async throws in
            let repository = SQLBillingRepository(database: database)
            #expect(!(try await repository.hasEvent(provider: "stripe", id: "evt_1")))
            #expect(try await repository.recordEvent(provider: "stripe", id: "evt_1", at: epoch))
            #expect(!(try await repository.recordEvent(provider: "stripe", id: "evt_1", at: epoch)))
            #expect(try await repository.hasEvent(provider: "stripe", id: "evt_1"))
            #expect(!(try await repository.hasEvent(provider: "test", id: "evt_1")))
        }
    }
}
