import Foundation
import KeywardenCore

/// One saved card as the Billing page lists it: never more of its number than the last four digits.
struct PaymentMethodRow: Sendable {
    let id: String
    /// `Visa`, `Mastercard`, ...
    let brand: String
    let last4: String
    /// `MM/YY`.
    let expiry: String

    init(_ method: PaymentMethod) {
        id = method.id.rawValue
        brand = Self.brandNames[method.brand] ?? method.brand.capitalized
        last4 = method.last4
        expiry = Self.two(method.expMonth) + "/" + Self.two(method.expYear % 100)
    }

    /// The providers' brand codes as the card says them.
    static let brandNames = [
        "visa": "Visa", "mastercard": "Mastercard", "amex": "American Express", "discover": "Discover",
        "diners": "Diners Club", "jcb": "JCB", "unionpay": "UnionPay", "unknown": "Card",
    ]

    private static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

/// One ledger entry in the history table.
struct HistoryRow: Sendable {
    /// When, in UTC.
    let date: String
    let description: String
    let amount: String
    /// Whether it added to the balance (a purchase or grant) rather than took from it.
    let credit: Bool

    init(_ entry: LedgerEntry, currency: BillingCurrency) {
        date = UTCTime.minutes(entry.createdAt)
        description = entry.description
        amount = currency.format(micros: entry.amountMicros)
        credit = entry.amountMicros >= 0
    }
}

/// The "Add credits" form: what the Amount field holds, the key that makes a second send of the
/// same form buy nothing more, and what was wrong.
struct CreditsForm: Sendable {
    let amount: String
    let idempotencyKey: String
    let errors: FieldErrors
}

/// The auto-recharge form, with the settings that apply or what was typed.
struct AutoRechargeForm: Sendable {
    let enabled: Bool
    let threshold: String
    let amount: String
    let monthlyCap: String
    /// Whether the owners chose these settings; otherwise they are the defaults.
    let custom: Bool
    let errors: FieldErrors
}

/// What the Billing page says about the cards: a visit to the card page just returned from, or a
/// refused removal.
struct SetupNotice: Sendable {
    /// Why no card was saved (or removed), next to the cards.
    var error: String?
    /// The card page is not finished: the link to go on there.
    var openURL: String?
    /// The card page expired before a card was saved.
    var expired = false
    /// The person left the card page without saving a card.
    var canceled = false
}

/// What the Billing page says about a purchase whose charge has not ended.
struct PurchaseNotice: Sendable {
    let amount: String
    /// Where the bank asks the person to confirm the charge, while it does.
    let actionURL: String?
}

/// The Billing page.
struct BillingView: Sendable {
    let layout: Layout
    /// Why the page shows nothing of the organization's billing (a reader), in words.
    let refusal: String?
    let billing: BillingSummary?
}

/// The organization's billing as its owners see it.
struct BillingSummary: Sendable {
    let testMode: Bool
    let balance: String
    let paymentMethods: [PaymentMethodRow]
    let hasPaymentMethods: Bool
    let setup: SetupNotice
    let purchase: PurchaseNotice?
    let credits: CreditsForm
    /// The purchase limits, for the Amount field's hint.
    let minimum: String
    let maximum: String
    let autoRecharge: AutoRechargeForm
    let history: [HistoryRow]
    let hasHistory: Bool
    /// Why the history could not be read at that page, in words.
    let historyError: String?
    /// The next (older) page of the history, and the first page, on a later one.
    let nextHref: String?
    let firstHref: String?
}

/// The "Add credits" step, after a card is saved (and the phone verified).
struct CreditsView: Sendable {
    let layout: Layout
    let testMode: Bool
    let balance: String
    /// The card that is charged: the newest saved one.
    let card: PaymentMethodRow?
    let credits: CreditsForm
    let minimum: String
    let maximum: String
}

/// The confirmation page of "Remove" without the browser's script.
struct RemoveCardView: Sendable {
    let layout: Layout
    let card: PaymentMethodRow
}

/// Billing's phone step page (path A).
struct BillingPhoneView: Sendable {
    let layout: Layout
    /// The phone step, for an owner.
    let phone: PhoneStep?
    /// The organization is unverified and this person is not an owner, so cannot verify it.
    let ownerNeeded: Bool
    /// Whether a card is saved, which the page says first.
    let cardSaved: Bool
}

extension FieldErrors {
    /// `sentences` next to the fields they name.
    init(sentences: [String: String]) {
        self.fields = sentences
        self.form = nil
    }
}
