import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// `POST /v1/webhooks/twilio/status`: Twilio's delivery reports, accepted only when signed.
public struct TwilioStatusController: Sendable {
    let verifications: PhoneVerificationService
    /// Checks `X-Twilio-Signature` for the form fields; `nil` when Twilio is not configured,
    /// in which case every report is refused.
    let isSigned: (@Sendable (_ signature: String?, _ fields: [(String, String)]) -> Bool)?
    /// Reads a form body into fields.
    let decodeForm: @Sendable (String) -> [(String, String)]
    /// Maps Twilio's `MessageStatus` to a delivery state.
    let delivery: @Sendable (String) -> PhoneVerification.Delivery?

    /// Creates the controller.
    public init(
        verifications: PhoneVerificationService,
        isSigned: (@Sendable (String?, [(String, String)]) -> Bool)?,
        decodeForm: @escaping @Sendable (String) -> [(String, String)],
        delivery: @escaping @Sendable (String) -> PhoneVerification.Delivery?
    ) {
        self.verifications = verifications
        self.isSigned = isSigned
        self.decodeForm = decodeForm
        self.delivery = delivery
    }

    /// Registers the route.
    public func addRoutes(to router: CatalogingRouter<KeywardenRequestContext>) {
        router.post("/v1/webhooks/twilio/status", use: status)
    }

    struct Accepted: ResponseEncodable {
        let received = true
    }

    @Sendable func status(_ request: Request, context: KeywardenRequestContext) async throws -> Accepted {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let fields = decodeForm(String(decoding: buffer.readableBytesView, as: UTF8.self))
        guard let isSigned, isSigned(request.headers[.init("X-Twilio-Signature")!], fields) else {
            throw DomainError(
                .forbidden, code: .invalidSignature,
                message: "The request is not signed with this server's Twilio credentials.")
        }
        let value = { (name: String) in fields.first { $0.0 == name }?.1 }
        if let messageID = value("MessageSid"), let status = value("MessageStatus").flatMap(delivery) {
            try await verifications.recordDelivery(providerMessageID: messageID, status: status)
        }
        return Accepted()
    }
}
