import Foundation

/// Identifies a saved card (never the card's number or the provider's id for it).
public struct PaymentMethodID: PrefixedID {
    public static let prefix = "pm"
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

/// Identifies one attempt to save a card through the payment provider's page.
public struct BillingSetupID: PrefixedID {
    public static let prefix = "seti"
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

/// Identifies a purchase of credits.
public struct CreditPurchaseID: PrefixedID {
    public static let prefix = "cpur"
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

/// Identifies an entry of the credit ledger.
public struct LedgerEntryID: PrefixedID {
    public static let prefix = "txn"
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

/// One change to an organization's credit balance. Entries are only ever added; the balance is
/// their sum.
public struct LedgerEntry: Sendable, Equatable {
    /// What moved the balance.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Credit given by the operator.
        case grant
        /// Credit bought with a card.
        case purchase
        /// Credit taken back after a refund of a purchase.
        case refund
        /// Credit spent on calls.
        case usage
    }

    public var id: LedgerEntryID
    public var organizationID: OrganizationID
    public var kind: Kind
    /// Micro-units added (positive) or taken (negative).
    public var amountMicros: Int64
    /// A line for the history, such as "Credit purchase".
    public var description: String
    /// What the entry is for (a purchase id, a usage batch), unique per kind so nothing is
    /// counted twice; `nil` for entries that stand alone.
    public var reference: String?
    public var createdAt: Date

    /// Creates an entry.
    public init(
        id: LedgerEntryID = .generate(), organizationID: OrganizationID, kind: Kind, amountMicros: Int64,
        description: String, reference: String?, createdAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.kind = kind
        self.amountMicros = amountMicros
        self.description = description
        self.reference = reference
        self.createdAt = createdAt
    }
}

/// A card saved for an organization, as shown to its owners.
public struct PaymentMethod: Sendable, Equatable {
    public var id: PaymentMethodID
    public var organizationID: OrganizationID
    /// The provider's own id for the card, used to charge it.
    public var providerReference: String
    /// `visa`, `mastercard`, ...
    public var brand: String
    public var last4: String
    public var expMonth: Int
    public var expYear: Int
    /// An HMAC of the provider's card fingerprint: the same card gives the same digest in every
    /// organization, and the fingerprint itself cannot be read back.
    public var fingerprintDigest: String
    public var createdAt: Date
    /// When it was removed; removed cards still count toward their card's organization limit.
    public var removedAt: Date?

    /// Creates a value.
    public init(
        id: PaymentMethodID = .generate(), organizationID: OrganizationID, providerReference: String, brand: String,
        last4: String, expMonth: Int, expYear: Int, fingerprintDigest: String, createdAt: Date, removedAt: Date? = nil
    ) {
        self.id = id
        self.organizationID = organizationID
        self.providerReference = providerReference
        self.brand = brand
        self.last4 = last4
        self.expMonth = expMonth
        self.expYear = expYear
        self.fingerprintDigest = fingerprintDigest
        self.createdAt = createdAt
        self.removedAt = removedAt
    }
}

/// One visit to the provider's page to save a card.
public struct BillingSetup: Sendable, Equatable {
    /// Where the attempt stands.
    public enum Status: String, Sendable, Codable {
        /// The person has not finished on the provider's page.
        case open
        /// A card was saved.
        case complete
        /// The card was refused or could not be saved.
        case failed
        /// The person did not finish in time.
        case expired
    }

    public var id: BillingSetupID
    public var organizationID: OrganizationID
    /// Who started it.
    public var userID: UserID
    /// The provider's id for its page (a Stripe Checkout Session).
    public var providerReference: String
    /// Where the person is sent to enter the card.
    public var url: String
    public var status: Status
    /// The card saved by it.
    public var paymentMethodID: PaymentMethodID?
    /// Why it failed: a refusal code such as `payment_method_limit_reached` or `card_declined`.
    public var failureCode: String?
    /// Why it failed, in words.
    public var failureMessage: String?
    public var createdAt: Date
    public var expiresAt: Date

    /// Creates a value.
    public init(
        id: BillingSetupID, organizationID: OrganizationID, userID: UserID, providerReference: String, url: String,
        status: Status, paymentMethodID: PaymentMethodID? = nil, failureCode: String? = nil,
        failureMessage: String? = nil, createdAt: Date, expiresAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.userID = userID
        self.providerReference = providerReference
        self.url = url
        self.status = status
        self.paymentMethodID = paymentMethodID
        self.failureCode = failureCode
        self.failureMessage = failureMessage
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// A purchase of credits charged to a saved card.
public struct CreditPurchase: Sendable, Equatable {
    /// Where the charge stands. `succeeded` and `failed` are final.
    public enum Status: String, Sendable, Codable {
        /// Sent to the provider, answer not yet known.
        case pending
        /// The bank asks the person to confirm the charge at `actionURL`.
        case requiresAction = "requires_action"
        /// Charged; the credit is in the ledger.
        case succeeded
        /// Not charged; nothing was credited.
        case failed

        /// Whether nothing can change any more.
        public var isFinal: Bool { self == .succeeded || self == .failed }
    }

    /// Why the purchase was made.
    public enum Trigger: String, Sendable, Codable {
        /// A person bought credits.
        case manual
        /// The balance fell below the auto-recharge threshold.
        case autoRecharge = "auto_recharge"
    }

    public var id: CreditPurchaseID
    public var organizationID: OrganizationID
    /// Micro-units bought, a whole number of the currency's minor unit.
    public var amountMicros: Int64
    public var paymentMethodID: PaymentMethodID
    public var trigger: Trigger
    public var status: Status
    /// The provider's id for the charge (a PaymentIntent), once it has one.
    public var providerReference: String?
    /// Where the person confirms the charge, while `requires_action`.
    public var actionURL: String?
    /// Why it failed, in words a person can act on.
    public var failureMessage: String?
    /// The key the request came with, unique per organization.
    public var idempotencyKey: String?
    /// Who asked for it; `nil` for auto-recharge.
    public var userID: UserID?
    public var createdAt: Date
    public var updatedAt: Date

    /// Creates a value.
    public init(
        id: CreditPurchaseID = .generate(), organizationID: OrganizationID, amountMicros: Int64,
        paymentMethodID: PaymentMethodID, trigger: Trigger, status: Status, providerReference: String? = nil,
        actionURL: String? = nil, failureMessage: String? = nil, idempotencyKey: String?, userID: UserID?,
        createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.amountMicros = amountMicros
        self.paymentMethodID = paymentMethodID
        self.trigger = trigger
        self.status = status
        self.providerReference = providerReference
        self.actionURL = actionURL
        self.failureMessage = failureMessage
        self.idempotencyKey = idempotencyKey
        self.userID = userID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// When and how far the balance is topped up without anyone asking.
public struct AutoRecharge: Sendable, Equatable {
    public var enabled: Bool
    /// A purchase is made when the balance falls below this.
    public var thresholdMicros: Int64
    /// How much each automatic purchase buys.
    public var amountMicros: Int64
    /// The most automatic purchases may buy in one calendar month (UTC).
    public var monthlyCapMicros: Int64

    /// Creates settings.
    public init(enabled: Bool, thresholdMicros: Int64, amountMicros: Int64, monthlyCapMicros: Int64) {
        self.enabled = enabled
        self.thresholdMicros = thresholdMicros
        self.amountMicros = amountMicros
        self.monthlyCapMicros = monthlyCapMicros
    }
}

/// An organization's standing with the payment provider.
public struct BillingAccount: Sendable, Equatable {
    public var organizationID: OrganizationID
    /// The provider's customer id, once one was made.
    public var customerReference: String?
    /// The organization's own auto-recharge settings; `nil` until an owner sets them, when the
    /// defaults apply (on once a first purchase succeeded).
    public var autoRecharge: AutoRecharge?
    /// When the first purchase succeeded.
    public var firstPaymentAt: Date?

    /// Creates a value.
    public init(
        organizationID: OrganizationID, customerReference: String? = nil, autoRecharge: AutoRecharge? = nil,
        firstPaymentAt: Date? = nil
    ) {
        self.organizationID = organizationID
        self.customerReference = customerReference
        self.autoRecharge = autoRecharge
        self.firstPaymentAt = firstPaymentAt
    }
}
