import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP
import PhoneNumbers

/// Phone verification: start, check, resend, status; the country list for the dropdown.
public struct PhoneVerificationController: Sendable {
    let verifications: PhoneVerificationService
    let allowedCountries: Set<String>?

    /// Creates the controller.
    public init(verifications: PhoneVerificationService, allowedCountries: Set<String>?) {
        self.verifications = verifications
        self.allowedCountries = allowedCountries
    }

    /// Registers the routes.
    public func addRoutes(to router: CatalogingRouter<KeywardenRequestContext>) {
        router.get("/v1/phone/countries", use: countries)
        let group = router.group("/v1/organization/phone_verifications", context: OrganizationContext.self)
        group.post(use: start)
        group.get("{verification_id}", use: show)
        group.post("{verification_id}/check", use: check)
        group.post("{verification_id}/resend", use: resend)
    }

    struct StartBody: JSONRequestBody {
        static let fields: Set<String> = ["phone_number", "country", "channel", "captcha_token"]
        let phoneNumber: String
        let country: String?
        let channel: String?
        /// The CAPTCHA widget's response token, when a CAPTCHA provider is configured.
        let captchaToken: String?

        enum CodingKeys: String, CodingKey {
            case phoneNumber = "phone_number"
            case country, channel
            case captchaToken = "captcha_token"
        }
    }

    struct CheckBody: JSONRequestBody {
        static let fields: Set<String> = ["code"]
        let code: String
    }

    @Sendable func start(_ request: Request, context: OrganizationContext) async throws -> Response {
        let body = try await request.decodeBody(StartBody.self, context: context)
        let verification = try await verifications.start(
            phoneNumber: body.phoneNumber, country: body.country, channel: body.channel,
            humanCheckResponse: body.captchaToken, path: .api, by: requester(context))
        var response = try PhoneVerificationObject(verification, maxChecks: verifications.maxChecks)
            .response(from: request, context: context)
        // A first send creates the verification; a later one repeated a live verification's code.
        response.status = verification.sends == 1 ? .created : .ok
        return response
    }

    @Sendable func check(_ request: Request, context: OrganizationContext) async throws -> PhoneVerificationObject {
        let body = try await request.decodeBody(CheckBody.self, context: context)
        let verification = try await verifications.check(
            id: try context.parameters.require("verification_id"), code: body.code, by: requester(context))
        return PhoneVerificationObject(verification, maxChecks: verifications.maxChecks)
    }

    @Sendable func resend(_ request: Request, context: OrganizationContext) async throws -> PhoneVerificationObject {
        let verification = try await verifications.resend(
            id: try context.parameters.require("verification_id"), by: requester(context))
        return PhoneVerificationObject(verification, maxChecks: verifications.maxChecks)
    }

    @Sendable func show(_ request: Request, context: OrganizationContext) async throws -> PhoneVerificationObject {
        let verification = try await verifications.verification(
            id: try context.parameters.require("verification_id"), in: context.membership)
        return PhoneVerificationObject(verification, maxChecks: verifications.maxChecks)
    }

    struct CountryObject: Encodable, Sendable {
        let object = "phone.country"
        let code: String
        let name: String
        let callingCode: String
        /// How codes may reach numbers from the country: `sms`, and `whatsapp` where offered.
        let channels: [MessageChannel]

        enum CodingKeys: String, CodingKey {
            case object, code, name, channels
            case callingCode = "calling_code"
        }
    }

    @Sendable func countries(
        _ request: Request, context: KeywardenRequestContext
    ) async throws
        -> ListObject<CountryObject>
    {
        let regions = PhoneNumbers.regions.filter { allowedCountries?.contains($0.code) ?? true }
        let whatsapp = verifications.whatsappCountries
        return ListObject(
            regions.map {
                CountryObject(
                    code: $0.code, name: $0.name, callingCode: "+\($0.callingCode)",
                    channels: whatsapp.contains($0.code) ? [.sms, .whatsapp] : [.sms])
            },
            id: \.code, hasMore: false)
    }

    private func requester(_ context: OrganizationContext) -> PhoneVerificationService.Requester {
        PhoneVerificationService.Requester(
            membership: context.membership, user: context.identity.user, clientAddress: context.clientAddress)
    }
}

/// A phone verification as the API shows it: never the full number or the code.
struct PhoneVerificationObject: ResponseEncodable {
    let object = "organization.phone_verification"
    let id: String
    let status: String
    /// How the code travels: `sms` or `whatsapp`.
    let channel: String
    let phoneNumber: String
    let country: String
    let createdAt: Int64
    let expiresAt: Int64
    let resendAvailableAt: Int64
    let attemptsRemaining: Int
    @ExplicitNull var delivery: String?
    @ExplicitNull var approvedAt: Int64?

    init(_ verification: PhoneVerification, maxChecks: Int) {
        id = verification.id.rawValue
        status = verification.status.rawValue
        channel = verification.channel.rawValue
        phoneNumber = verification.maskedPhoneNumber
        country = verification.country
        createdAt = verification.createdAt.unixSeconds
        expiresAt = verification.expiresAt.unixSeconds
        resendAvailableAt = Int64(verification.nextResendAt.timeIntervalSince1970.rounded(.up))
        attemptsRemaining = max(0, maxChecks - verification.attempts)
        delivery = verification.delivery?.rawValue
        approvedAt = verification.approvedAt?.unixSeconds
    }

    enum CodingKeys: String, CodingKey {
        case object, id, status, channel, country, delivery
        case phoneNumber = "phone_number"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case resendAvailableAt = "resend_available_at"
        case attemptsRemaining = "attempts_remaining"
        case approvedAt = "approved_at"
    }
}
