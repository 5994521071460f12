/// A refusal the domain can explain to the person who caused it.
///
/// Every case carries a stable `code` that clients can branch on and a `message`
/// written for a person. The HTTP layer maps ``Kind`` to a status in exactly one
/// place; nothing else in the core knows about HTTP.
public struct DomainError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The family of a refusal, which decides its HTTP status.
    public enum Kind: String, Sendable {
        case invalidRequest
        case unauthenticated
        case forbidden
        case notFound
        case methodNotAllowed
        case conflict
        case paymentRequired
        case gone
        case payloadTooLarge
        case unsupportedMediaType
        case rateLimited
        /// A priced call the organization has no credit, monthly usage or budget left for.
        case quotaExceeded
        case badGateway
        case gatewayTimeout
        case unavailable
        case `internal`
    }

    /// Every code a refusal can carry: stable, machine-readable, documented in `openapi.yaml`.
    public enum Code: String, Sendable, CaseIterable, Codable {
        case alreadyMember = "already_member"
        case apiKeyDisabled = "api_key_disabled"
        case apiKeyNotActive = "api_key_not_active"
        case apiKeyNotFound = "api_key_not_found"
        case badRequest = "bad_request"
        case billingSetupNotFound = "billing_setup_not_found"
        case cannotArchiveDefaultProject = "cannot_archive_default_project"
        case captchaFailed = "captcha_failed"
        case captchaUnavailable = "captcha_unavailable"
        case cardDeclined = "card_declined"
        case databaseUnavailable = "database_unavailable"
        case emailAlreadyConfirmed = "email_already_confirmed"
        case emailDomainNotAllowed = "email_domain_not_allowed"
        case emailNotConfirmed = "email_not_confirmed"
        case emailProviderUnavailable = "email_provider_unavailable"
        case emailTaken = "email_taken"
        case idempotencyKeyReused = "idempotency_key_reused"
        case incorrectCode = "incorrect_code"
        case insufficientPermissions = "insufficient_permissions"
        case invalidApiKey = "invalid_api_key"
        case insufficientQuota = "insufficient_quota"
        case invalidCredentials = "invalid_credentials"
        case invalidEmail = "invalid_email"
        case invalidJson = "invalid_json"
        case invalidOperatorToken = "invalid_operator_token"
        case invalidPath = "invalid_path"
        case invalidPhoneNumber = "invalid_phone_number"
        case invalidRequest = "invalid_request"
        case invalidSignature = "invalid_signature"
        case invalidToken = "invalid_token"
        case invalidType = "invalid_type"
        case invalidValue = "invalid_value"
        case ipNotAllowed = "ip_not_allowed"
        case inviteEmailMismatch = "invite_email_mismatch"
        case inviteExpired = "invite_expired"
        case inviteNotFound = "invite_not_found"
        case inviteNotPending = "invite_not_pending"
        case lastOwner = "last_owner"
        case maxAttemptsReached = "max_attempts_reached"
        case methodNotAllowed = "method_not_allowed"
        case mfaAlreadyEnabled = "mfa_already_enabled"
        case mfaNotEnabled = "mfa_not_enabled"
        case missingRequiredParameter = "missing_required_parameter"
        case organizationSpendLimitExceeded = "organization_spend_limit_exceeded"
        case organizationNotFound = "organization_not_found"
        case mfaRequired = "mfa_required"
        case supportRequestNotOpen = "support_request_not_open"
        case supportRequestNotFound = "support_request_not_found"
        case supportRequestExists = "support_request_exists"
        case phonePrefixBlocked = "phone_prefix_blocked"
        case operatorRequired = "operator_required"
        case organizationSuspended = "organization_suspended"
        case paymentMethodLimitReached = "payment_method_limit_reached"
        case paymentMethodNotFound = "payment_method_not_found"
        case paymentMethodRequired = "payment_method_required"
        case paymentProviderUnavailable = "payment_provider_unavailable"
        case phoneLineTypeNotAllowed = "phone_line_type_not_allowed"
        case phoneNumberLimitReached = "phone_number_limit_reached"
        case phoneVerificationRequired = "phone_verification_required"
        case projectArchived = "project_archived"
        case projectSpendLimitExceeded = "project_spend_limit_exceeded"
        case projectNotFound = "project_not_found"
        case purchaseNotFound = "purchase_not_found"
        case rateLimitExceeded = "rate_limit_exceeded"
        case reauthenticationRequired = "reauthentication_required"
        case requestTooLarge = "request_too_large"
        case resendTooSoon = "resend_too_soon"
        case serverError = "server_error"
        case sessionNotFound = "session_not_found"
        case smsProviderUnavailable = "sms_provider_unavailable"
        case tooManyEmailRequests = "too_many_email_requests"
        case tooManyLoginAttempts = "too_many_login_attempts"
        case tooManyMfaAttempts = "too_many_mfa_attempts"
        case tooManySignups = "too_many_signups"
        case tooManyVerificationRequests = "too_many_verification_requests"
        case unauthenticated
        case unknownCursor = "unknown_cursor"
        case unknownParameter = "unknown_parameter"
        case unknownTier = "unknown_tier"
        case unknownUrl = "unknown_url"
        case unsupportedContentType = "unsupported_content_type"
        case unsupportedCountry = "unsupported_country"
        case upstreamTimeout = "upstream_timeout"
        case upstreamUnavailable = "upstream_unavailable"
        case userNotFound = "user_not_found"
        case verificationExpired = "verification_expired"
        case verificationNotFound = "verification_not_found"
        case verificationNotPending = "verification_not_pending"
        case weakPassword = "weak_password"
    }

    /// The family of the refusal.
    public var kind: Kind
    /// A stable, machine-readable code such as `email_taken`.
    public var code: Code
    /// A sentence for a person: what went wrong and what to do next. Never holds a secret.
    public var message: String
    /// The request field the refusal is about, if any.
    public var param: String?
    /// Seconds after which a retry may succeed, for rate limits.
    public var retryAfterSeconds: Int?

    /// Creates a refusal.
    public init(
        _ kind: Kind,
        code: Code,
        message: String,
        param: String? = nil,
        retryAfterSeconds: Int? = nil
    ) {
        self.kind = kind
        self.code = code
        self.message = message
        self.param = param
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// The code and message, for log lines.
    public var description: String { "\(code.rawValue): \(message)" }
}

extension DomainError {
    /// A required field is absent or empty.
    public static func missingField(_ field: String) -> DomainError {
        DomainError(
            .invalidRequest, code: .missingRequiredParameter,
            message: "Missing required parameter: '\(field)'.", param: field)
    }

    /// A field is present but its value is not acceptable.
    public static func invalidField(_ field: String, _ message: String) -> DomainError {
        DomainError(.invalidRequest, code: .invalidValue, message: message, param: field)
    }

    /// The caller presented no credentials or credentials that are not valid.
    public static let unauthenticated = DomainError(
        .unauthenticated, code: .unauthenticated,
        message:
            "You must be signed in: send 'Authorization: Bearer sess_...' with a session token from /v1/auth/login."
    )

    /// The caller is signed in but their role does not allow the action.
    public static func insufficientRole(_ action: String) -> DomainError {
        DomainError(
            .forbidden, code: .insufficientPermissions,
            message: "Only organization owners can \(action). Ask an owner of this organization.")
    }

    /// The organization named by the request is not one the caller belongs to.
    ///
    /// The same refusal is given for an organization that does not exist, so nothing
    /// about other organizations can be learned from it.
    public static let organizationNotFound = DomainError(
        .notFound, code: .organizationNotFound,
        message: "No organization with that id is available to you. Check the Keywarden-Organization header.",
        param: "Keywarden-Organization")

    /// The request body is larger than the management API accepts.
    public static let payloadTooLarge = requestTooLarge(
        limit: ManagementAPI.maxBodyBytes, what: "Management API requests")

    /// The request body is larger than `limit` bytes, the most `what` may carry.
    public static func requestTooLarge(limit: Int, what: String) -> DomainError {
        DomainError(
            .payloadTooLarge, code: .requestTooLarge,
            message: "The request body is too large. \(what) are limited to \(ByteCount.describe(limit)).")
    }

    /// An `after` cursor that is not an id of the list's kind (`expected`, such as `a project id`).
    public static func malformedCursor(expected: String) -> DomainError {
        invalidField("after", "'after' must be \(expected): the last_id of the page before.")
    }

    /// An `after` cursor of the right form that names nothing in the list: 404, since what it
    /// names is not there, rather than a first page that would send a paging loop round again.
    public static let unknownCursor = DomainError(
        .notFound, code: .unknownCursor,
        message: "'after' names nothing in this list. Pass the last_id of the page before.", param: "after")

    /// A project id that does not exist in the caller's organization.
    public static func projectNotFound(_ id: String) -> DomainError {
        DomainError(
            .notFound, code: .projectNotFound,
            message: "No project with id '\(id)' exists in this organization.", param: "project_id")
    }
}
