import AsyncHTTPClient
import Foundation
import KeywardenCore
import NIOCore
import NIOHTTP1

/// Stripe as Keywarden's payment provider: cards are saved on a Stripe Checkout page in setup
/// mode and charged later with PaymentIntents.
///
/// Every request names the API version the parsing follows, so changing the account's default
/// version changes nothing here. An error says which request failed, with Stripe's status, error
/// type and code only: Stripe's message can quote what was sent, and the key is never repeated.
public struct StripePaymentProvider: PaymentProvider {
    /// The Stripe API version every request asks for.
    public static let apiVersion = "2024-06-20"

    public let name = "stripe"
    /// Whether the key is a test key (`sk_test_` or `rk_test_`), so no real money moves.
    public let isTestMode: Bool

    private let secretKey: String
    private let apiBase: String
    private let http: ProviderHTTP

    /// Creates the provider.
    ///
    /// - Parameters:
    ///   - secretKey: the account's secret or restricted key.
    ///   - apiBase: where Stripe's API is, without a trailing slash; tests point it at a stub.
    ///   - client: the HTTP client the requests go through.
    ///   - timeout: how long one request may take.
    public init(
        secretKey: String, apiBase: String = "https://api.stripe.com", client: HTTPClient,
        timeout: TimeAmount = .seconds(20)
    ) {
        self.secretKey = secretKey
        self.apiBase = apiBase.hasSuffix("/") ? String(apiBase.dropLast()) : apiBase
        self.http = ProviderHTTP(provider: "stripe", client: client, timeout: timeout)
        self.isTestMode = secretKey.hasPrefix("sk_test_") || secretKey.hasPrefix("rk_test_")
    }

    // MARK: PaymentProvider

    /// `POST /v1/customers`, keeping the organization's id in the customer's metadata.
    public func createCustomer(
        organization: OrganizationID, name: String, idempotencyKey: String
    ) async throws -> String {
        let action = "creating a customer"
        let customer = try await call(
            .POST, "/v1/customers",
            form: [("name", String(name.prefix(256))), ("metadata[organization_id]", organization.rawValue)],
            idempotencyKey: idempotencyKey, doing: action)
        guard let id = StripeObjects.id(customer["id"]) else { throw Self.malformed(action) }
        return id
    }

    /// Seconds a card page stays open: Keywarden's own wait for a setup (Stripe takes 30 minutes
    /// to a day).
    static let setupLifetime = 3600

    /// `POST /v1/checkout/sessions` in setup mode, for cards only; the session carries the
    /// setup's id both as its client reference and in its metadata.
    public func startSetup(
        customer: String, setup: BillingSetupID, currency: BillingCurrency, returnURL: String, cancelURL: String
    ) async throws -> ProviderSetupPage {
        let action = "creating a checkout session"
        let session = try await call(
            .POST, "/v1/checkout/sessions",
            form: [
                ("mode", "setup"), ("customer", customer), ("currency", currency.code),
                ("payment_method_types[0]", "card"), ("success_url", returnURL), ("cancel_url", cancelURL),
                ("client_reference_id", setup.rawValue), ("metadata[setup_id]", setup.rawValue),
                // Closed when Keywarden stops waiting for it, so no card is saved at Stripe after.
                ("expires_at", String(Int(Date().timeIntervalSince1970) + Self.setupLifetime)),
            ],
            idempotencyKey: "keywarden-setup-\(setup.rawValue)", doing: action)
        guard let reference = StripeObjects.id(session["id"]), let url = StripeObjects.webURL(session["url"]) else {
            throw Self.malformed(action)
        }
        return ProviderSetupPage(reference: reference, url: url)
    }

    /// `GET /v1/checkout/sessions/{id}` with its setup intent and payment method expanded.
    public func setupState(reference: String) async throws -> ProviderSetupState {
        let action = "reading a checkout session"
        let session = try await call(
            .GET, "/v1/checkout/sessions/\(Self.pathID(reference))?expand%5B%5D=setup_intent.payment_method",
            doing: action)
        switch session["status"] as? String {
        case "open": return .open
        case "expired": return .expired
        case "complete": break
        default: throw PaymentProviderError("stripe: a checkout session came back in a status Keywarden does not know")
        }
        guard let intent = session["setup_intent"] as? [String: Any] else {
            throw PaymentProviderError("stripe: a completed checkout session came back without its setup intent")
        }
        switch intent["status"] as? String {
        case "succeeded": break
        // The bank has not answered yet: asked again later, the page finishes one way or the other.
        case "processing": return .open
        default:
            let error = intent["last_setup_error"] as? [String: Any]
            return .failed(StripeDecline.sentence(for: error, fallback: StripeDecline.notSaved))
        }
        let method: [String: Any]
        if let expanded = intent["payment_method"] as? [String: Any] {
            method = expanded
        } else if let id = intent["payment_method"] as? String {
            method = try await call(.GET, "/v1/payment_methods/\(Self.pathID(id))", doing: "reading a payment method")
        } else {
            throw PaymentProviderError("stripe: a succeeded setup intent came back without its payment method")
        }
        guard method["card"] is [String: Any] else { return .failed("Only cards can be saved. Add a card.") }
        guard let card = StripeObjects.card(method) else {
            throw PaymentProviderError("stripe: a saved payment method came back without its card details")
        }
        return .saved(card)
    }

    /// `POST /v1/payment_intents`, confirmed at once. A person who is there may be sent to their
    /// bank and back; otherwise the charge is marked as made without them.
    public func charge(_ charge: ProviderCharge) async throws -> ProviderChargeState {
        let action = "creating a payment intent"
        var form = [
            ("amount", String(charge.amountMinorUnits)), ("currency", charge.currency.code),
            ("customer", charge.customer), ("payment_method", charge.paymentMethod), ("confirm", "true"),
            ("description", String(charge.description.prefix(500))),
            ("metadata[purchase_id]", charge.purchase.rawValue),
            // Cards only, so Stripe never asks for a return URL to allow redirecting payment methods.
            ("payment_method_types[0]", "card"),
        ]
        if charge.personPresent {
            form.append(("return_url", charge.returnURL))
        } else {
            form.append(("off_session", "true"))
        }
        let reply = try await send(
            .POST, "/v1/payment_intents", form: form, idempotencyKey: charge.idempotencyKey, doing: action)
        let json = reply.json
        if reply.status == 402, let error = json["error"] as? [String: Any], error["type"] as? String == "card_error" {
            let intent = (error["payment_intent"] as? [String: Any]).flatMap { StripeObjects.id($0["id"]) }
            return .failed(
                reference: intent,
                message: StripeDecline.sentence(for: error, fallback: StripeDecline.declined, quotingStripe: false))
        }
        return try Self.chargeState(successful(reply.status, json, doing: action), doing: action)
    }

    /// `GET /v1/payment_intents/{id}`.
    public func chargeState(reference: String) async throws -> ProviderChargeState {
        let action = "reading a payment intent"
        return try Self.chargeState(
            await call(.GET, "/v1/payment_intents/\(Self.pathID(reference))", doing: action), doing: action)
    }

    /// `POST /v1/payment_intents/{id}/cancel`; a PaymentIntent that has ended is left as it is.
    public func cancelCharge(reference: String) async throws {
        do {
            _ = try await call(
                .POST, "/v1/payment_intents/\(Self.pathID(reference))/cancel", form: [],
                doing: "canceling a payment intent")
        } catch {
            // Stripe refuses to cancel a PaymentIntent that succeeded or was canceled already; the
            // charge's state, read next, says which.
        }
    }

    /// `POST /v1/payment_methods/{id}/detach`.
    public func detach(paymentMethod reference: String) async throws {
        _ = try await call(
            .POST, "/v1/payment_methods/\(Self.pathID(reference))/detach", form: [],
            doing: "detaching a payment method")
    }

    // MARK: Requests

    /// Sends one request with the key and API version and answers Stripe's reply as it came.
    private func send(
        _ method: HTTPMethod, _ path: String, form: [(String, String)]?, idempotencyKey: String?,
        doing action: String
    ) async throws -> ProviderHTTP.Reply {
        var headers = [("Authorization", "Bearer \(secretKey)"), ("Stripe-Version", Self.apiVersion)]
        if let idempotencyKey { headers.append(("Idempotency-Key", idempotencyKey)) }
        do {
            return try await http.send(
                method, apiBase + path, headers: headers, body: form.map(FormEncoding.encode), contentType: nil)
        } catch let error as ProviderError {
            throw PaymentProviderError("\(error.description) while \(action)")
        } catch {
            throw PaymentProviderError("stripe: the answer to \(action) could not be read (\(type(of: error)))")
        }
    }

    /// Sends one request and answers the object Stripe sent back, or throws for any refusal.
    private func call(
        _ method: HTTPMethod, _ path: String, form: [(String, String)]? = nil, idempotencyKey: String? = nil,
        doing action: String
    ) async throws -> [String: Any] {
        let reply = try await send(method, path, form: form, idempotencyKey: idempotencyKey, doing: action)
        return try successful(reply.status, reply.json, doing: action)
    }

    /// The answered object of a 2xx reply; otherwise an error with Stripe's status, type and code.
    private func successful(_ status: Int, _ json: [String: Any], doing action: String) throws -> [String: Any] {
        guard (200..<300).contains(status) else {
            let error = json["error"] as? [String: Any]
            // A 4xx says Stripe did nothing; a 409 (a request with this key is under way), a 429
            // and a 5xx leave it open whether it acted.
            throw PaymentProviderError(
                "stripe: HTTP \(status) while \(action); Stripe error type "
                    + "\(StripeObjects.word(error?["type"])), code \(StripeObjects.word(error?["code"]))",
                refused: (400..<500).contains(status) && status != 409 && status != 429)
        }
        return json
    }

    /// The charge as a PaymentIntent describes it.
    private static func chargeState(_ intent: [String: Any], doing action: String) throws -> ProviderChargeState {
        guard let state = StripeObjects.chargeState(ofPaymentIntent: intent) else { throw malformed(action) }
        return state
    }

    /// A Stripe id fit to put in a path; anything else is refused before it is sent.
    private static func pathID(_ reference: String) throws -> String {
        guard let id = StripeObjects.id(reference) else {
            throw PaymentProviderError("stripe: a reference that is not a Stripe id was not sent")
        }
        return id
    }

    private static func malformed(_ action: String) -> PaymentProviderError {
        PaymentProviderError("stripe: the answer to \(action) lacked the fields Keywarden reads")
    }
}

extension StripePaymentProvider: CustomStringConvertible, CustomReflectable {
    /// The provider and its mode, never its key.
    public var description: String { "stripe (\(isTestMode ? "test" : "live") mode)" }

    /// No children, so dumping the provider does not print its key.
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

/// Reading Stripe's objects with bounds on every value, for the provider and its webhook alike.
enum StripeObjects {
    /// A Stripe id (`cus_...`, `pi_...`): letters, digits and underscores, at most 255 bytes.
    static func id(_ value: Any?) -> String? {
        guard let id = value as? String, !id.isEmpty, id.utf8.count <= 255,
            id.utf8.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "_") })
        else { return nil }
        return id
    }

    /// A non-empty string of at most `limit` bytes.
    static func text(_ value: Any?, limit: Int) -> String? {
        guard let text = value as? String, !text.isEmpty, text.utf8.count <= limit else { return nil }
        return text
    }

    /// An `https` address a person may be sent to.
    static func webURL(_ value: Any?) -> String? {
        guard let url = text(value, limit: 4096), url.hasPrefix("https://") else { return nil }
        return url
    }

    /// A snake_case word from Stripe (an error type or code) fit for a log line, or `none`.
    static func word(_ value: Any?) -> String {
        guard let word = text(value, limit: 64),
            word.utf8.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "_") })
        else { return "none" }
        return word
    }

    /// The card of a PaymentMethod, or `nil` when a field is missing or out of bounds.
    static func card(_ method: [String: Any]) -> ProviderCard? {
        guard let reference = id(method["id"]), let card = method["card"] as? [String: Any],
            let brand = text(card["brand"], limit: 32), let last4 = text(card["last4"], limit: 4),
            let expMonth = card["exp_month"] as? Int, (1...12).contains(expMonth),
            let expYear = card["exp_year"] as? Int, (1970...9999).contains(expYear),
            let fingerprint = text(card["fingerprint"], limit: 128)
        else { return nil }
        return ProviderCard(
            reference: reference, brand: brand, last4: last4, expMonth: expMonth, expYear: expYear,
            fingerprint: fingerprint)
    }

    /// Where the bank's confirmation page is, for a PaymentIntent that requires action.
    static func redirectURL(_ intent: [String: Any]) -> String? {
        let redirect = (intent["next_action"] as? [String: Any])?["redirect_to_url"] as? [String: Any]
        return webURL(redirect?["url"])
    }

    /// Where a PaymentIntent stands, or `nil` without an id.
    static func chargeState(ofPaymentIntent intent: [String: Any]) -> ProviderChargeState? {
        guard let reference = id(intent["id"]) else { return nil }
        let lastError = intent["last_payment_error"] as? [String: Any]
        switch intent["status"] as? String {
        case "succeeded":
            return .succeeded(reference: reference)
        case "requires_action":
            // Without a page to send the person to, the charge cannot be confirmed.
            guard let url = redirectURL(intent) else {
                return .failed(reference: reference, message: StripeDecline.confirmationNeeded)
            }
            return .requiresAction(reference: reference, url: url)
        case "requires_payment_method":
            let message = StripeDecline.sentence(for: lastError, fallback: StripeDecline.declined)
            return .failed(reference: reference, message: message)
        case "canceled":
            let message = StripeDecline.sentence(for: lastError, fallback: StripeDecline.canceled)
            return .failed(reference: reference, message: message)
        default:
            // `processing`, and states a confirmed card payment passes through: not decided yet.
            return .processing(reference: reference)
        }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
    }
}
