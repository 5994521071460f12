import KeywardenCore

/// Billing's refusals as a person at its forms reads them. The service's own words for amounts
/// name API fields and minor units (`'amount' must be ... given in cents`); the forms take
/// money typed as money, so they say the same limits in dollars, from the operator's settings.
extension PageSentences {
    /// The sentence for a refusal of a billing form.
    static func billing(_ refusal: DomainError, settings: BillingSettings) -> String {
        let currency = settings.currency
        let minimum = currency.format(micros: settings.minimumPurchaseMicros)
        let maximum = currency.format(micros: settings.maximumPurchaseMicros)
        // Auto-recharge's threshold and monthly limit may go up to a hundred of the largest purchase.
        let largest = currency.format(micros: settings.maximumPurchaseMicros * 100)
        switch refusal.code {
        case .invalidValue where refusal.param == "amount":
            return "Enter an amount from \(minimum) to \(maximum)."
        case .invalidValue where refusal.param == "threshold":
            return "Enter an amount from \(currency.format(micros: 0)) to \(largest)."
        case .invalidValue where refusal.param == "monthly_cap":
            return "Enter a monthly limit of at least the recharge amount and at most \(largest)."
        case .invalidValue where refusal.param == "after", .unknownCursor:
            return "That page of the history is no longer there. Start again from the first page."
        case .paymentMethodNotFound:
            return "That card is no longer saved for this organization. Reload the page."
        case .paymentMethodRequired:
            return "Add a payment method before adding credits: choose Add payment method on the Billing page."
        case .billingSetupNotFound:
            return "This card page was not opened for the organization chosen now. "
                + "Switch to the organization you added the card for, or choose Add payment method again."
        case .purchaseNotFound:
            return "This purchase was not made in the organization chosen now. "
                + "Switch to the organization you bought the credits for."
        case .idempotencyKeyReused:
            return "This form was already sent with another amount, so nothing more was charged. "
                + "Check the history, then add credits again."
        default:
            return sentence(for: refusal)
        }
    }

    /// Money that does not read as an amount, such as `ten` or `10.505`.
    static func moneyAmount(example: String) -> String {
        "Enter an amount in numbers, such as \(example)."
    }

    /// A card page that failed without saying why.
    static let cardNotSaved = "The card could not be saved. Try another card or contact your bank."
    /// A charge that failed without saying why.
    static let cardDeclined = "Your card was declined, so nothing was charged. Try another card or contact your bank."

    /// A test checkout's confirmation answered with neither button.
    static let checkoutDecision = "Choose Complete or Fail."
}
