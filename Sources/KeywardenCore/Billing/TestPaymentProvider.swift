import Crypto
import Foundation
import Synchronization

/// The built-in payment provider for development: Keywarden serves the card page itself,
/// labelled as test mode, and the cards behave as Stripe's test cards do. Only test card
/// numbers are taken; no money moves and nothing leaves the process.
///
/// Its pages and charges are kept in memory: a restart forgets open card pages (the person
/// starts again), while saved cards keep working because a card's behaviour is part of its id.
public final class TestPaymentProvider: PaymentProvider {
    /// What a test card does.
    public enum Behaviour: String, Sendable {
        /// Saves and pays (4242 4242 4242 4242).
        case succeeds
        /// Saves, but every charge fails (4000 0000 0000 0341).
        case chargesFail = "charges_fail"
        /// Saves, but every charge fails for lack of funds (4000 0000 0000 9995).
        case insufficientFunds = "insufficient_funds"
        /// Asks for a confirmation step when saved, then pays (4000 0025 0000 3155).
        case confirmsOnSetup = "confirms_on_setup"
        /// Asks for a confirmation step when saved and for every charge (4000 0027 6000 3184).
        case confirmsAlways = "confirms_always"
    }

    /// A test card page as its screens need it.
    public struct Checkout: Sendable, Equatable {
        /// Where the page stands.
        public enum Stage: Sendable, Equatable {
            /// Waiting for a card.
            case enteringCard
            /// A card was entered that asks for a confirmation step.
            case confirming(last4: String)
            /// Finished: the person goes back to Keywarden.
            case finished
        }

        public var reference: String
        /// Keywarden's setup the page is for, so only its organization's owners may use it.
        public var setup: BillingSetupID
        public var stage: Stage
        public var returnURL: String
        public var cancelURL: String
    }

    /// A test charge waiting for the person to confirm it.
    public struct PendingCharge: Sendable, Equatable {
        public var reference: String
        /// Keywarden's purchase the charge is for, so only its organization's owners may answer it.
        public var purchase: CreditPurchaseID
        public var amountMinorUnits: Int64
        public var currency: BillingCurrency
        public var last4: String
        public var returnURL: String
        /// Whether it is still waiting.
        public var awaitingConfirmation: Bool
    }

    /// A card the test page would not take, with the field it is about.
    public struct CardRefusal: Error, Sendable, Equatable {
        /// `number`, `expiry` or `cvc`.
        public var field: String
        public var message: String
    }

    private struct Page {
        var setup: BillingSetupID
        var returnURL: String
        var cancelURL: String
        var expiresAt: Date
        var card: ProviderCard?
        var state: ProviderSetupState
        var confirming: Bool
    }

    private struct Charge {
        var purchase: CreditPurchaseID
        var state: ProviderChargeState
        var amountMinorUnits: Int64
        var currency: BillingCurrency
        var last4: String
        var returnURL: String
    }

    private struct State {
        var pages: [String: Page] = [:]
        var charges: [String: Charge] = [:]
    }

    /// Test cards by number.
    static let cards: [String: Behaviour] = [
        "4242424242424242": .succeeds,
        "5555555555554444": .succeeds,
        "378282246310005": .succeeds,
        "4000000000000341": .chargesFail,
        "4000000000009995": .insufficientFunds,
        "4000002500003155": .confirmsOnSetup,
        "4000002760003184": .confirmsAlways,
    ]

    /// The refused test card (4100 0000 0000 0019): never saved.
    static let refusedCard = "4100000000000019"

    private let base: String
    private let clock: Clock
    private let state = Mutex(State())

    public let name = "test"
    public let isTestMode = true

    /// Creates the provider; its pages live under `<publicURL>/test-checkout/`.
    public init(publicURL: String, clock: Clock = .live) {
        self.base = publicURL
        self.clock = clock
    }

    // MARK: PaymentProvider

    public func createCustomer(
        organization: OrganizationID, name: String, idempotencyKey: String
    ) async throws
        -> String
    {
        "tcus_" + SecureRandom.base62(length: 24)
    }

    public func startSetup(
        customer: String, setup: BillingSetupID, currency: BillingCurrency, returnURL: String, cancelURL: String
    ) async throws -> ProviderSetupPage {
        let reference = "tcs_" + SecureRandom.base62(length: 24)
        let page = Page(
            setup: setup, returnURL: returnURL, cancelURL: cancelURL, expiresAt: clock.now().addingTimeInterval(3600),
            card: nil, state: .open, confirming: false)
        state.withLock { $0.pages[reference] = page }
        return ProviderSetupPage(reference: reference, url: "\(base)/test-checkout/\(reference)")
    }

    public func setupState(reference: String) async throws -> ProviderSetupState {
        let now = clock.now()
        return state.withLock { state in
            guard var page = state.pages[reference] else { return .expired }
            if case .open = page.state, now >= page.expiresAt {
                page.state = .expired
                state.pages[reference] = page
            }
            return page.state
        }
    }

    public func charge(_ charge: ProviderCharge) async throws -> ProviderChargeState {
        let behaviour = Self.behaviour(ofReference: charge.paymentMethod)
        let reference = "tpi_" + SecureRandom.base62(length: 24)
        let result: ProviderChargeState
        switch behaviour {
        case .succeeds, .confirmsOnSetup:
            result = .succeeded(reference: reference)
        case .chargesFail:
            result = .failed(
                reference: reference, message: "Your card was declined. Try another card or contact your bank.")
        case .insufficientFunds:
            result = .failed(reference: reference, message: "Your card has insufficient funds. Try another card.")
        case .confirmsAlways where charge.personPresent:
            result = .requiresAction(reference: reference, url: "\(base)/test-checkout/payments/\(reference)")
        case .confirmsAlways:
            result = .failed(
                reference: reference,
                message: "Your bank asks you to confirm this payment. Buy credits from the dashboard to confirm it.")
        case nil:
            result = .failed(reference: reference, message: "This test card is not known. Add it again.")
        }
        let last4 = String(charge.paymentMethod.suffix(4))
        state.withLock {
            $0.charges[reference] = Charge(
                purchase: charge.purchase, state: result, amountMinorUnits: charge.amountMinorUnits,
                currency: charge.currency, last4: last4,
                returnURL: charge.returnURL)
        }
        return result
    }

    public func chargeState(reference: String) async throws -> ProviderChargeState {
        state.withLock { $0.charges[reference]?.state }
            ?? .failed(
                reference: reference,
                message: "This test payment was lost when the server restarted; nothing was charged.")
    }

    public func cancelCharge(reference: String) async throws {
        _ = confirmCharge(reference: reference, approve: false)
    }

    public func detach(paymentMethod reference: String) async throws {}

    // MARK: The test card page

    /// The card page with this reference, if it is known.
    public func checkout(_ reference: String) -> Checkout? {
        state.withLock { state in state.pages[reference].map { Self.checkout(reference, $0) } }
    }

    /// Takes a card typed on the test page. Answers the page as it stands after: finished (the
    /// card was saved, or refused as the refused test card is) or asking for confirmation.
    ///
    /// - Throws: ``CardRefusal`` for a number, expiry or security code the page cannot take.
    public func submitCard(
        reference: String, number rawNumber: String, expiry rawExpiry: String, cvc rawCVC: String
    )
        throws(CardRefusal) -> Checkout?
    {
        let number = String(rawNumber.unicodeScalars.filter { $0 != " " && $0 != "-" })
        guard number.utf8.count >= 12, number.utf8.count <= 19, number.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            Self.passesLuhn(number)
        else {
            throw CardRefusal(
                field: "number", message: "Enter a card number: 12 to 19 digits, such as 4242 4242 4242 4242.")
        }
        let (month, year) = try Self.expiry(rawExpiry, now: clock.now())
        let cvc = rawCVC.trimmingWhitespace()
        let cvcLength = number.hasPrefix("34") || number.hasPrefix("37") ? 4 : 3
        guard cvc.utf8.count == cvcLength, cvc.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            throw CardRefusal(field: "cvc", message: "Enter the \(cvcLength)-digit security code from the card.")
        }
        let behaviour = Self.cards[number]
        guard behaviour != nil || number == Self.refusedCard else {
            throw CardRefusal(
                field: "number",
                message:
                    "Test mode takes only test cards, such as 4242 4242 4242 4242. Never enter a real card here.")
        }
        let last4 = String(number.suffix(4))
        let brand = Self.brand(of: number)
        let fingerprint =
            "tfp_" + SHA256.hash(data: Data(number.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
        let card = ProviderCard(
            reference: "tpm_\((behaviour ?? .succeeds).rawValue)_\(SecureRandom.base62(length: 16))_\(last4)",
            brand: brand, last4: last4, expMonth: month, expYear: year, fingerprint: fingerprint)
        return state.withLock { state -> Checkout? in
            guard var page = state.pages[reference], case .open = page.state, !page.confirming else { return nil }
            switch behaviour {
            case nil:
                page.state = .failed("Your card was declined. Try another card or contact your bank.")
            case .confirmsOnSetup, .confirmsAlways:
                page.card = card
                page.confirming = true
            default:
                page.card = card
                page.state = .saved(card)
            }
            state.pages[reference] = page
            return Self.checkout(reference, page)
        }
    }

    /// The person's answer on the confirmation step of a card page: approved saves the card,
    /// declined refuses it. Answers the finished page, or `nil` when there was nothing to confirm.
    public func confirmSetup(reference: String, approve: Bool) -> Checkout? {
        state.withLock { state -> Checkout? in
            guard var page = state.pages[reference], page.confirming, case .open = page.state, let card = page.card
            else { return nil }
            page.confirming = false
            page.state =
                approve
                ? .saved(card) : .failed("Your bank could not confirm the card, so it was not saved. Try again.")
            state.pages[reference] = page
            return Self.checkout(reference, page)
        }
    }

    /// The charge waiting at this reference, for its confirmation page.
    public func pendingCharge(_ reference: String) -> PendingCharge? {
        state.withLock { state in
            guard let charge = state.charges[reference] else { return nil }
            var waiting = false
            if case .requiresAction = charge.state { waiting = true }
            return PendingCharge(
                reference: reference, purchase: charge.purchase, amountMinorUnits: charge.amountMinorUnits,
                currency: charge.currency,
                last4: charge.last4, returnURL: charge.returnURL, awaitingConfirmation: waiting)
        }
    }

    /// The person's answer on a charge's confirmation page. Answers where to send them back to,
    /// or `nil` when the charge was not waiting.
    public func confirmCharge(reference: String, approve: Bool) -> String? {
        state.withLock { state -> String? in
            guard var charge = state.charges[reference], case .requiresAction = charge.state else { return nil }
            charge.state =
                approve
                ? .succeeded(reference: reference)
                : .failed(
                    reference: reference,
                    message: "The payment was not confirmed with your bank, so nothing was charged.")
            state.charges[reference] = charge
            return charge.returnURL
        }
    }

    // MARK: Helpers

    private static func checkout(_ reference: String, _ page: Page) -> Checkout {
        let stage: Checkout.Stage
        if case .open = page.state {
            stage = page.confirming ? .confirming(last4: page.card?.last4 ?? "") : .enteringCard
        } else {
            stage = .finished
        }
        return Checkout(
            reference: reference, setup: page.setup, stage: stage, returnURL: page.returnURL,
            cancelURL: page.cancelURL)
    }

    static func behaviour(ofReference reference: String) -> Behaviour? {
        let parts = reference.split(separator: "_")
        guard parts.count >= 2, parts[0] == "tpm" else { return nil }
        // The behaviour's own name may hold underscores: it is everything between `tpm_` and the
        // random part and last four digits.
        return Behaviour(rawValue: parts.dropFirst().dropLast(2).joined(separator: "_"))
    }

    static func passesLuhn(_ digits: String) -> Bool {
        var sum = 0
        for (index, byte) in digits.utf8.reversed().enumerated() {
            var digit = Int(byte - 48)
            if index % 2 == 1 {
                digit *= 2
                if digit > 9 { digit -= 9 }
            }
            sum += digit
        }
        return sum % 10 == 0
    }

    static func brand(of number: String) -> String {
        if number.hasPrefix("4") { return "visa" }
        if number.hasPrefix("34") || number.hasPrefix("37") { return "amex" }
        if number.hasPrefix("5") || number.hasPrefix("2") { return "mastercard" }
        return "unknown"
    }

    /// Reads `MM/YY`, `MM / YY` or `MM/YYYY`, not in the past.
    static func expiry(_ raw: String, now: Date) throws(CardRefusal) -> (month: Int, year: Int) {
        let refusal = CardRefusal(field: "expiry", message: "Enter the expiry date as MM / YY, such as 12 / 34.")
        let parts = raw.split(separator: "/").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let month = Int(parts[0]), (1...12).contains(month),
            parts[1].utf8.count == 2 || parts[1].utf8.count == 4,
            let yearPart = Int(parts[1])
        else { throw refusal }
        let year = yearPart < 100 ? 2000 + yearPart : yearPart
        let today = UTCMonth.calendar.dateComponents([.year, .month], from: now)
        guard year < (today.year ?? 0) + 30 else { throw refusal }
        guard (year, month) >= (today.year ?? 0, today.month ?? 0) else {
            throw CardRefusal(field: "expiry", message: "This card has expired. Use a card with a later expiry date.")
        }
        return (month, year)
    }
}
