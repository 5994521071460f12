/// The refusals of billing, each with its stable code.
extension DomainError {
    /// The card already pays for as many organizations as one card may.
    public static func paymentMethodLimitReached(_ limit: Int) -> DomainError {
        DomainError(
            .conflict, code: .paymentMethodLimitReached,
            message:
                "This card is already used by the maximum number of organizations (\(limit)). Use another card, or contact support.",
            param: "payment_method")
    }

    /// No card of the organization has this id.
    public static func paymentMethodNotFound(_ id: String) -> DomainError {
        DomainError(
            .notFound, code: .paymentMethodNotFound,
            message: "No payment method with id '\(id)' is saved for this organization.", param: "payment_method_id")
    }

    /// Buying credits needs a saved card.
    public static let paymentMethodRequired = DomainError(
        .invalidRequest, code: .paymentMethodRequired,
        message: "Add a payment method before buying credits: Settings → Billing → Add payment method.",
        param: "payment_method")

    /// No card setup of the organization has this id.
    public static func billingSetupNotFound(_ id: String) -> DomainError {
        DomainError(
            .notFound, code: .billingSetupNotFound,
            message: "No payment method setup with id '\(id)' exists in this organization.", param: "setup_id")
    }

    /// No purchase of the organization has this id.
    public static func purchaseNotFound(_ id: String) -> DomainError {
        DomainError(
            .notFound, code: .purchaseNotFound,
            message: "No credit purchase with id '\(id)' exists in this organization.", param: "purchase_id")
    }

    /// The card was declined or the charge failed; `message` says why, in words.
    public static func cardDeclined(_ message: String) -> DomainError {
        DomainError(.paymentRequired, code: .cardDeclined, message: message, param: "payment_method")
    }

    /// The card could not be saved; `message` says why.
    public static func paymentMethodRefused(_ message: String) -> DomainError {
        DomainError(.paymentRequired, code: .cardDeclined, message: message, param: "payment_method")
    }

    /// An idempotency key reused for a different purchase.
    public static let idempotencyKeyReused = DomainError(
        .conflict, code: .idempotencyKeyReused,
        message:
            "This Idempotency-Key was already used for a different request. Send a new key for a new purchase.",
        param: "Idempotency-Key")

    /// The payment provider could not be reached or failed.
    public static let paymentProviderUnavailable = DomainError(
        .unavailable, code: .paymentProviderUnavailable,
        message: "The payment provider could not be reached. Nothing was charged; try again in a minute.")
}
