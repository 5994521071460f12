import Foundation

/// A card as the provider describes it once saved.
public struct ProviderCard: Sendable, Equatable {
    /// The provider's id for the card, to charge it later.
    public var reference: String
    public var brand: String
    public var last4: String
    public var expMonth: Int
    public var expYear: Int
    /// The provider's fingerprint: the same for the same card number wherever it is saved.
    public var fingerprint: String

    /// Creates a value.
    public init(reference: String, brand: String, last4: String, expMonth: Int, expYear: Int, fingerprint: String) {
        self.reference = reference
        self.brand = brand
        self.last4 = last4
        self.expMonth = expMonth
        self.expYear = expYear
        self.fingerprint = fingerprint
    }
}

/// The provider's page where a person enters a card.
public struct ProviderSetupPage: Sendable, Equatable {
    /// The provider's id for the page.
    public var reference: String
    /// Where to send the person.
    public var url: String

    /// Creates a value.
    public init(reference: String, url: String) {
        self.reference = reference
        self.url = url
    }
}

/// Where a visit to the provider's card page stands.
public enum ProviderSetupState: Sendable, Equatable {
    /// Not finished yet.
    case open
    /// A card was saved.
    case saved(ProviderCard)
    /// The card was refused, in words for the person.
    case failed(String)
    /// The page expired unused.
    case expired
}

/// A charge to ask the provider for.
public struct ProviderCharge: Sendable, Equatable {
    /// The provider's customer.
    public var customer: String
    /// The provider's id for the card.
    public var paymentMethod: String
    /// Minor units (cents) to charge.
    public var amountMinorUnits: Int64
    public var currency: BillingCurrency
    /// Keywarden's purchase, which the provider keeps with the charge.
    public var purchase: CreditPurchaseID
    /// Sent as the provider's idempotency key, so a retried request charges once.
    public var idempotencyKey: String
    /// Whether the person is there to confirm the charge if the bank asks (a purchase from the
    /// dashboard or the API) or not (auto-recharge).
    public var personPresent: Bool
    /// Where the provider sends the person back after a confirmation step.
    public var returnURL: String
    /// A line for the statement and the receipt.
    public var description: String

    /// Creates a value.
    public init(
        customer: String, paymentMethod: String, amountMinorUnits: Int64, currency: BillingCurrency,
        purchase: CreditPurchaseID, idempotencyKey: String, personPresent: Bool, returnURL: String, description: String
    ) {
        self.customer = customer
        self.paymentMethod = paymentMethod
        self.amountMinorUnits = amountMinorUnits
        self.currency = currency
        self.purchase = purchase
        self.idempotencyKey = idempotencyKey
        self.personPresent = personPresent
        self.returnURL = returnURL
        self.description = description
    }
}

/// Where a charge stands at the provider.
public enum ProviderChargeState: Sendable, Equatable {
    /// The provider has not decided yet.
    case processing(reference: String)
    /// The bank asks the person to confirm at `url`.
    case requiresAction(reference: String, url: String)
    /// Charged.
    case succeeded(reference: String)
    /// Not charged, in words for the person; `reference` when the provider made a charge object.
    case failed(reference: String?, message: String)
}

/// Something the provider tells Keywarden on its own (a webhook), already checked as genuine.
public struct ProviderEvent: Sendable, Equatable {
    /// What happened.
    public enum Subject: Sendable, Equatable {
        /// The card page finished (successfully or not): ask the provider how.
        case setupFinished(reference: String)
        /// A charge changed.
        case charge(ProviderChargeState)
        /// Part or all of a charge was given back to the card (the provider's refund `reference`).
        case refund(charge: String, reference: String, amountMinorUnits: Int64)
        /// Something Keywarden does not act on.
        case ignored
    }

    /// The provider's event id, so each is handled once.
    public var id: String
    public var subject: Subject

    /// Creates a value.
    public init(id: String, subject: Subject) {
        self.id = id
        self.subject = subject
    }
}

/// A payment provider: saves cards on its own page and charges them.
///
/// Implementations talk to the provider's API (Stripe) or stand in for one (the built-in test
/// provider). They never see Keywarden's storage; ``BillingService`` keeps the books.
public protocol PaymentProvider: Sendable {
    /// `test` or `stripe`, as the `payment_provider` setting names it.
    var name: String { get }
    /// Whether no real money moves, so every screen says so.
    var isTestMode: Bool { get }

    /// Makes the provider's customer for an organization.
    func createCustomer(organization: OrganizationID, name: String, idempotencyKey: String) async throws -> String

    /// Opens the provider's page to save a card for `customer`; it sends the person back to
    /// `returnURL` when done and to `cancelURL` when they give up.
    func startSetup(
        customer: String, setup: BillingSetupID, currency: BillingCurrency, returnURL: String, cancelURL: String
    ) async throws -> ProviderSetupPage

    /// How the card page with this id ended, or that it has not.
    func setupState(reference: String) async throws -> ProviderSetupState

    /// Charges a saved card.
    func charge(_ charge: ProviderCharge) async throws -> ProviderChargeState

    /// Where a charge stands now.
    func chargeState(reference: String) async throws -> ProviderChargeState

    /// Cancels a charge waiting for the person's confirmation, so a later confirmation charges
    /// nothing. A charge that has ended is left as it is.
    func cancelCharge(reference: String) async throws

    /// Tells the provider a card is no longer to be used.
    func detach(paymentMethod reference: String) async throws
}

/// The provider could not be reached or answered with an error that is not about the card.
public struct PaymentProviderError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for the log; never holds a secret.
    public var description: String
    /// Whether the provider answered and refused the request, so nothing was done (a 4xx that
    /// is not about the card); otherwise it may or may not have acted.
    public var refused: Bool

    /// Creates an error.
    public init(_ description: String, refused: Bool = false) {
        self.description = description
        self.refused = refused
    }
}
