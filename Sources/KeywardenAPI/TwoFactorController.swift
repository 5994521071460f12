import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// The signed-in person's two-factor authentication (an authenticator app and recovery codes)
/// and the step-up that confirms it is them before sensitive actions.
///
/// Codes travel in request bodies only, never in a path.
public struct TwoFactorController: Sendable {
    let accounts: AccountService

    /// Creates the controller.
    public init(accounts: AccountService) {
        self.accounts = accounts
    }

    /// Registers the routes.
    public func addRoutes(to router: CatalogingRouter<KeywardenRequestContext>) {
        let signedIn = router.group(context: SignedInContext.self)
        signedIn.get("/v1/me/mfa", use: status)
        signedIn.post("/v1/me/mfa/totp", use: beginEnrolment)
        signedIn.post("/v1/me/mfa/totp/confirm", use: confirm)
        signedIn.post("/v1/me/mfa/disable", use: disable)
        signedIn.post("/v1/me/mfa/recovery_codes", use: regenerate)
        signedIn.post("/v1/auth/reauthenticate", use: reauthenticate)
    }

    /// `{"object":"mfa", ...}`: where the person stands, with new recovery codes when some were
    /// just made (shown this once).
    struct StatusObject: ResponseEncodable {
        let object = "mfa"
        let enabled: Bool
        let enabledAt: Int64?
        let recoveryCodesRemaining: Int
        let enrolmentPending: Bool
        let recoveryCodes: [String]?

        init(_ status: TwoFactorStatus, recoveryCodes: [String]? = nil) {
            enabled = status.enabled
            enabledAt = status.enabledAt?.unixSeconds
            recoveryCodesRemaining = status.unusedRecoveryCodes
            enrolmentPending = status.enrolmentPending
            self.recoveryCodes = recoveryCodes
        }

        enum CodingKeys: String, CodingKey {
            case object, enabled
            case enabledAt = "enabled_at"
            case recoveryCodesRemaining = "recovery_codes_remaining"
            case enrolmentPending = "enrolment_pending"
            case recoveryCodes = "recovery_codes"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(object, forKey: .object)
            try container.encode(enabled, forKey: .enabled)
            try container.encode(ExplicitNull(wrappedValue: enabledAt), forKey: .enabledAt)
            try container.encode(recoveryCodesRemaining, forKey: .recoveryCodesRemaining)
            try container.encode(enrolmentPending, forKey: .enrolmentPending)
            try container.encodeIfPresent(recoveryCodes, forKey: .recoveryCodes)
        }
    }

    @Sendable func status(_ request: Request, context: SignedInContext) async throws -> StatusObject {
        StatusObject(try await accounts.twoFactorStatus(of: context.identity.user))
    }

    /// The secret of an authenticator app being set up.
    struct EnrolmentObject: ResponseEncodable {
        let object = "mfa.totp_enrolment"
        /// The base32 secret, as an app takes it.
        let secret: String
        /// The same, in groups of four, for a person to type.
        let setupKey: String
        let otpauthURL: String

        enum CodingKeys: String, CodingKey {
            case object, secret
            case setupKey = "setup_key"
            case otpauthURL = "otpauth_url"
        }
    }

    @Sendable func beginEnrolment(_ request: Request, context: SignedInContext) async throws -> Created<EnrolmentObject>
    {
        let enrolment = try await accounts.beginTwoFactorEnrolment(
            for: context.identity.user, session: context.identity.session)
        return Created(
            body: EnrolmentObject(
                secret: enrolment.setupKey.replacingOccurrences(of: " ", with: ""), setupKey: enrolment.setupKey,
                otpauthURL: enrolment.authenticatorURL))
    }

    struct CodeBody: JSONRequestBody {
        static let fields: Set<String> = ["code"]
        let code: String
    }

    @Sendable func confirm(_ request: Request, context: SignedInContext) async throws -> StatusObject {
        let body = try await request.decodeBody(CodeBody.self, context: context)
        let user = context.identity.user
        let codes = try await accounts.confirmTwoFactor(
            code: body.code, for: user, clientAddress: context.clientAddress)
        return StatusObject(try await accounts.twoFactorStatus(of: user), recoveryCodes: codes)
    }

    @Sendable func disable(_ request: Request, context: SignedInContext) async throws -> StatusObject {
        let body = try await request.decodeBody(CodeBody.self, context: context)
        let user = context.identity.user
        try await accounts.disableTwoFactor(
            code: body.code, for: user, session: context.identity.session, clientAddress: context.clientAddress)
        return StatusObject(try await accounts.twoFactorStatus(of: user))
    }

    @Sendable func regenerate(_ request: Request, context: SignedInContext) async throws -> StatusObject {
        let user = context.identity.user
        let codes = try await accounts.regenerateRecoveryCodes(
            for: user, session: context.identity.session, clientAddress: context.clientAddress)
        return StatusObject(try await accounts.twoFactorStatus(of: user), recoveryCodes: codes)
    }

    struct ReauthenticateBody: JSONRequestBody {
        static let fields: Set<String> = ["password", "code"]
        let password: String?
        let code: String?
    }

    /// `{"object":"session", ...}` with when it was confirmed and until when sensitive actions
    /// are allowed.
    struct ReauthenticatedObject: ResponseEncodable {
        let object = "session"
        let id: String
        let authenticatedAt: Int64
        let stepUpExpiresAt: Int64

        enum CodingKeys: String, CodingKey {
            case object, id
            case authenticatedAt = "authenticated_at"
            case stepUpExpiresAt = "step_up_expires_at"
        }
    }

    @Sendable func reauthenticate(_ request: Request, context: SignedInContext) async throws -> ReauthenticatedObject {
        guard var session = context.identity.session else {
            throw DomainError(
                .invalidRequest, code: .invalidRequest,
                message: "An admin key needs no confirmation; sign in with a session to confirm it is you.")
        }
        let body = try await request.decodeBody(ReauthenticateBody.self, context: context)
        session.authenticatedAt = try await accounts.reauthenticate(
            session: session, user: context.identity.user, password: body.password, code: body.code,
            clientAddress: context.clientAddress)
        return ReauthenticatedObject(
            id: session.id.rawValue, authenticatedAt: session.authenticatedAt.unixSeconds,
            stepUpExpiresAt: accounts.stepUpEnds(for: session).unixSeconds)
    }
}
