import Crypto
import Foundation
import KeywardenCore

/// Checks that a webhook delivery came from Stripe, and reads what it says.
///
/// Stripe signs each delivery in its `Stripe-Signature` header: `t=` is when it was sent, and
/// each `v1=` is the hex of an HMAC-SHA256, keyed by the endpoint's signing secret, of that time,
/// a dot and the body exactly as sent. More than one `v1` appears while a secret is rolled, and
/// any one of them may match. A delivery whose time is further from now than the tolerance is
/// refused, so a recorded one cannot be replayed later.
public struct StripeWebhookVerifier: Sendable {
    /// The most a header is read of; Stripe's hold a timestamp and two or three signatures.
    static let maximumHeaderBytes = 4096
    /// The most a body may hold; Stripe's events are a few kilobytes.
    static let maximumPayloadBytes = 1 << 20

    private let secret: [UInt8]
    private let tolerance: TimeInterval

    /// Creates a verifier for the endpoint's signing secret (`whsec_...`).
    ///
    /// - Parameter tolerance: how many seconds a delivery's time may be from now.
    public init(secret: String, tolerance: TimeInterval = 300) {
        self.secret = Array(secret.utf8)
        self.tolerance = tolerance
    }

    /// The event in a delivery, once its signature is found genuine and recent.
    ///
    /// - Throws: ``DomainError`` `invalid_signature` when the header is missing, malformed, holds
    ///   no matching `v1` signature or is too old or too new; `invalid_json` when the body is not
    ///   a Stripe event.
    public func event(payload: [UInt8], signatureHeader: String?, now: Date) throws -> ProviderEvent {
        guard payload.count <= Self.maximumPayloadBytes else {
            throw DomainError(
                .payloadTooLarge, code: .requestTooLarge, message: "A Stripe event must be at most 1 MiB.")
        }
        try verify(payload: payload, signatureHeader: signatureHeader, now: now)
        return try StripeEvent.parse(payload)
    }

    private func verify(payload: [UInt8], signatureHeader: String?, now: Date) throws {
        guard let header = signatureHeader, !header.isEmpty else {
            throw Self.refusal(
                "The Stripe-Signature header is missing; Keywarden takes only events that Stripe signed.")
        }
        let malformed = Self.refusal(
            "The Stripe-Signature header needs a timestamp (t=) and at least one v1 signature.")
        guard header.utf8.count <= Self.maximumHeaderBytes else { throw malformed }
        var timestamp: String?
        var signatures: [String] = []
        for item in header.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            switch parts[0].trimmingCharacters(in: .whitespaces) {
            case "t" where timestamp == nil: timestamp = value
            case "v1": signatures.append(value)
            default: continue
            }
        }
        guard let timestamp, (1...15).contains(timestamp.utf8.count),
            timestamp.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let seconds = Int(timestamp), !signatures.isEmpty
        else { throw malformed }

        let signed = Array(timestamp.utf8) + [UInt8(ascii: ".")] + payload
        let code = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: secret))
        let expected = Array(code.map { String(format: "%02x", $0) }.joined().utf8)
        // Each signature is compared in constant time, and none is skipped once one matches.
        var matched = false
        for signature in signatures where ConstantTime.equals(expected, signature.utf8) { matched = true }
        guard matched else {
            throw Self.refusal(
                "No v1 signature in the Stripe-Signature header matches this event; "
                    + "check that Keywarden has this endpoint's signing secret.")
        }
        guard abs(now.timeIntervalSince1970 - Double(seconds)) <= tolerance else {
            throw Self.refusal(
                "The Stripe-Signature timestamp is more than \(Int(tolerance)) seconds from now, "
                    + "so the event is refused as a possible replay; check the server's clock.")
        }
    }

    private static func refusal(_ message: String) -> DomainError {
        DomainError(.invalidRequest, code: .invalidSignature, message: message, param: "Stripe-Signature")
    }
}

extension StripeWebhookVerifier: CustomStringConvertible, CustomReflectable {
    /// Names the verifier, never its secret.
    public var description: String { "Stripe webhook verifier" }

    /// No children, so dumping the verifier does not print its secret.
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

/// Stripe's event types that Keywarden reads.
enum StripeEvent: String {
    case checkoutSessionCompleted = "checkout.session.completed"
    case checkoutSessionExpired = "checkout.session.expired"
    case checkoutSessionAsyncPaymentSucceeded = "checkout.session.async_payment_succeeded"
    case checkoutSessionAsyncPaymentFailed = "checkout.session.async_payment_failed"
    case paymentIntentSucceeded = "payment_intent.succeeded"
    case paymentIntentPaymentFailed = "payment_intent.payment_failed"
    case paymentIntentProcessing = "payment_intent.processing"
    case paymentIntentRequiresAction = "payment_intent.requires_action"
    case paymentIntentCanceled = "payment_intent.canceled"
    case disputeFundsWithdrawn = "charge.dispute.funds_withdrawn"
    case refundCreated = "refund.created"
    case refundUpdated = "refund.updated"

    /// The event in a body already found genuine.
    static func parse(_ payload: [UInt8]) throws -> ProviderEvent {
        guard let event = (try? JSONSerialization.jsonObject(with: Data(payload))) as? [String: Any],
            let id = StripeObjects.id(event["id"])
        else {
            throw DomainError(
                .invalidRequest, code: .invalidJson,
                message: "The body must be a Stripe event: a JSON object with an id.")
        }
        let object = (event["data"] as? [String: Any])?["object"] as? [String: Any] ?? [:]
        let type = (event["type"] as? String).flatMap(StripeEvent.init(rawValue:))
        return ProviderEvent(id: id, subject: type?.subject(object) ?? .ignored)
    }

    /// What the event means for Keywarden. Setup intents' own events are not read: the checkout
    /// session's events carry the setup.
    func subject(_ object: [String: Any]) -> ProviderEvent.Subject {
        guard let reference = StripeObjects.id(object["id"]) else { return .ignored }
        switch self {
        case .checkoutSessionCompleted, .checkoutSessionExpired, .checkoutSessionAsyncPaymentSucceeded,
            .checkoutSessionAsyncPaymentFailed:
            guard object["mode"] as? String == "setup" else { return .ignored }
            return .setupFinished(reference: reference)
        case .paymentIntentSucceeded:
            return .charge(.succeeded(reference: reference))
        case .paymentIntentProcessing:
            return .charge(.processing(reference: reference))
        case .paymentIntentRequiresAction:
            guard let url = StripeObjects.redirectURL(object) else { return .ignored }
            return .charge(.requiresAction(reference: reference, url: url))
        case .paymentIntentPaymentFailed:
            let error = object["last_payment_error"] as? [String: Any]
            let message = StripeDecline.sentence(for: error, fallback: StripeDecline.declined)
            return .charge(.failed(reference: reference, message: message))
        case .paymentIntentCanceled:
            return .charge(.failed(reference: reference, message: StripeDecline.canceled))
        case .disputeFundsWithdrawn:
            // A chargeback takes the money back as a refund does.
            guard let charge = StripeObjects.id(object["payment_intent"]),
                let amount = (object["amount"] as? NSNumber)?.int64Value, amount > 0
            else { return .ignored }
            return .refund(charge: charge, reference: reference, amountMinorUnits: amount)
        case .refundCreated, .refundUpdated:
            // Only money that went back counts; a pending refund is acted on when it succeeds.
            guard object["status"] as? String == "succeeded", let charge = StripeObjects.id(object["payment_intent"]),
                let amount = (object["amount"] as? NSNumber)?.int64Value, amount > 0
            else { return .ignored }
            return .refund(charge: charge, reference: reference, amountMinorUnits: amount)
        }
    }
}

/// What a refused card means, in a sentence for the person who reads it.
enum StripeDecline {
    /// A refusal Stripe gave no known reason for.
    static let declined = "Your card was declined. Try another card or contact your bank."
    /// A card page that ended without saving the card, for no known reason.
    static let notSaved = "Your card could not be saved. Try another card or contact your bank."
    /// A payment canceled before it was made.
    static let canceled = "The payment was canceled, so nothing was charged."
    /// A payment the bank wants the person to confirm while they are not there.
    static let confirmationNeeded =
        "Your bank asks you to confirm this payment; buy credits from the dashboard to confirm it."

    /// The sentence for a Stripe decline code or error code, if it is one Keywarden words itself.
    static func sentence(forCode code: String) -> String? {
        switch code {
        case "insufficient_funds": "Your card has insufficient funds."
        case "card_declined": "Your card was declined."
        case "expired_card": "Your card has expired. Use a card with a later expiry date."
        case "incorrect_cvc", "invalid_cvc": "The card's security code is incorrect. Add the card again."
        case "incorrect_number", "invalid_number": "The card number is incorrect. Add the card again."
        case "authentication_required": confirmationNeeded
        case "processing_error": "Your bank could not process the payment. Try again in a few minutes."
        case "card_velocity_exceeded", "withdrawal_count_limit_exceeded":
            "Your card has reached its spending limit. Try another card or contact your bank."
        default: nil
        }
    }

    /// The sentence for a Stripe error object (`last_payment_error`, `last_setup_error` or a
    /// refusal's `error`): by its decline code, then its code, then, when `quotingStripe`, the
    /// message Stripe writes for the card's holder, then `fallback`.
    static func sentence(for error: [String: Any]?, fallback: String, quotingStripe: Bool = true) -> String {
        guard let error else { return fallback }
        for key in ["decline_code", "code"] {
            if let code = error[key] as? String, let sentence = sentence(forCode: code) { return sentence }
        }
        // Only a card error's message is written for the card's holder; the others are for developers.
        if quotingStripe, error["type"] as? String == "card_error",
            let message = StripeObjects.text(error["message"], limit: 300)
        {
            return message
        }
        return fallback
    }
}
