import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// `POST /v1/webhooks/stripe`: Stripe's events about card pages and charges, acted on only when
/// `Stripe-Signature` proves Stripe sent them.
///
/// No credential is asked for: the signature is the credential. The body is never logged, and
/// is read only up to ``maxBodyBytes``.
public struct StripeWebhookController: Sendable {
    /// Checks the signature over the raw body and reads the event; throws `invalid_signature`
    /// when the signature is missing, wrong or too old. `nil` when no webhook secret is
    /// configured (the test provider), in which case the endpoint answers as an unknown URL.
    let verify: (@Sendable (_ payload: [UInt8], _ signature: String?, _ now: Date) throws -> ProviderEvent)?
    let billing: BillingService
    let clock: Clock

    /// The largest event accepted. Stripe's events are a few kilobytes; this leaves room for
    /// the largest objects they embed.
    static let maxBodyBytes = 256 * 1024

    /// Creates the controller.
    public init(
        verify: (@Sendable (_ payload: [UInt8], _ signature: String?, _ now: Date) throws -> ProviderEvent)?,
        billing: BillingService, clock: Clock
    ) {
        self.verify = verify
        self.billing = billing
        self.clock = clock
    }

    /// Registers the route.
    public func addRoutes(to router: CatalogingRouter<KeywardenRequestContext>) {
        router.post("/v1/webhooks/stripe", use: receive)
    }

    struct Received: ResponseEncodable {
        let received = true
    }

    @Sendable func receive(_ request: Request, context: KeywardenRequestContext) async throws -> Received {
        let signature = request.headers[.init("Stripe-Signature")!]
        guard signature != nil else {
            // Whatever is configured, a delivery without a signature is not one of Stripe's.
            throw DomainError(
                .invalidRequest, code: .invalidSignature,
                message: "The Stripe-Signature header is missing: only events Stripe signed are taken.",
                param: "Stripe-Signature")
        }
        guard let verify else {
            // Without a secret nothing could prove an event genuine: the endpoint is not there.
            throw DomainError(
                .notFound, code: .unknownUrl,
                message: "Unknown request URL: POST /v1/webhooks/stripe. This server takes no Stripe webhooks: "
                    + "no Stripe webhook secret is configured.")
        }
        let tooLarge = DomainError.requestTooLarge(limit: Self.maxBodyBytes, what: "Stripe webhook events")
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > Self.maxBodyBytes {
            throw tooLarge
        }
        // Read by hand rather than with `collect(upTo:)`, so the refusal names this limit and not
        // the management API's.
        var payload: [UInt8] = []
        for try await part in request.body {
            guard payload.count + part.readableBytes <= Self.maxBodyBytes else { throw tooLarge }
            payload.append(contentsOf: part.readableBytesView)
        }
        let event: ProviderEvent
        do {
            event = try verify(payload, signature, clock.now())
        } catch let refusal as DomainError where refusal.code == .invalidSignature {
            // A bad signature is the sender's fault whatever kind the verifier gave it: 400, so
            // Stripe shows the delivery as refused rather than retrying it as a server failure.
            throw DomainError(
                .invalidRequest, code: .invalidSignature, message: refusal.message, param: "Stripe-Signature")
        } catch let refusal as DomainError {
            throw refusal
        } catch {
            // The verifier's own errors may quote the payload: only their type is worth a log line.
            context.logger.debug("stripe event not readable", metadata: ["error.type": "\(type(of: error))"])
            throw DomainError(
                .invalidRequest, code: .badRequest, message: "The body is not a Stripe event Keywarden can read.")
        }
        do {
            try await billing.handle(event)
        } catch let failure as PaymentProviderError {
            // Not acted on yet (Stripe could not be asked, or a refund came before its payment):
            // 503, so Stripe delivers the event again later.
            context.logger.warning(
                "stripe event not acted on yet", metadata: ["event_id": .string(event.id), "error": "\(failure)"])
            throw DomainError.paymentProviderUnavailable
        }
        context.logger.debug("stripe event handled", metadata: ["event_id": .string(event.id)])
        return Received()
    }
}
