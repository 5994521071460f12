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
        case gone
        case payloadTooLarge
        case unsupportedMediaType
        case rateLimited
        case badGateway
        case gatewayTimeout
        case unavailable
        case `internal`
    }

    /// The family of the refusal.
    public var kind: Kind
    /// A stable, machine-readable code such as `email_taken`.
    public var code: String
    /// A sentence for a person: what went wrong and what to do next. Never holds a secret.
    public var message: String
    /// The request field the refusal is about, if any.
    public var param: String?
    /// Seconds after which a retry may succeed, for rate limits.
    public var retryAfterSeconds: Int?

    /// Creates a refusal.
    public init(
        _ kind: Kind,
        code: String,
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
    public var description: String { "\(code): \(message)" }
}

extension DomainError {
    /// A required field is absent or empty.
    public static func missingField(_ field: String) -> DomainError {
        DomainError(
            .invalidRequest, code: "missing_required_parameter",
            message: "Missing required parameter: '\(field)'.", param: field)
    }

    /// A field is present but its value is not acceptable.
    public static func invalidField(_ field: String, _ message: String) -> DomainError {
        DomainError(.invalidRequest, code: "invalid_value", message: message, param: field)
    }

    /// The caller presented no credentials or credentials that are not valid.
    public static let unauthenticated = DomainError(
        .unauthenticated, code: "unauthenticated",
        message:
            "You must be signed in: send 'Authorization: Bearer sess_...' with a session token from /v1/auth/login."
    )

    /// The caller is signed in but their role does not allow the action.
    public static func insufficientRole(_ action: String) -> DomainError {
        DomainError(
            .forbidden, code: "insufficient_permissions",
            message: "Only organization owners can \(action). Ask an owner of this organization.")
    }

    /// The organization named by the request is not one the caller belongs to.
    ///
    /// The same refusal is given for an organization that does not exist, so nothing
    /// about other organizations can be learned from it.
    public static let organizationNotFound = DomainError(
        .notFound, code: "organization_not_found",
        message: "No organization with that id is available to you. Check the Keywarden-Organization header.",
        param: "Keywarden-Organization")

    /// The request body is larger than the management API accepts.
    public static let payloadTooLarge = requestTooLarge(
        limit: ManagementAPI.maxBodyBytes, what: "Management API requests")

    /// The request body is larger than `limit` bytes, the most `what` may carry.
    public static func requestTooLarge(limit: Int, what: String) -> DomainError {
        DomainError(
            .payloadTooLarge, code: "request_too_large",
            message: "The request body is too large. \(what) are limited to \(ByteCount.describe(limit)).")
    }

    /// An `after` cursor that is not an id of the list's kind (`expected`, such as `a project id`).
    public static func malformedCursor(expected: String) -> DomainError {
        invalidField("after", "'after' must be \(expected): the last_id of the page before.")
    }

    /// An `after` cursor of the right form that names nothing in the list: 404, since what it
    /// names is not there, rather than a first page that would send a paging loop round again.
    public static let unknownCursor = DomainError(
        .notFound, code: "unknown_cursor",
        message: "'after' names nothing in this list. Pass the last_id of the page before.", param: "after")

    /// A project id that does not exist in the caller's organization.
    public static func projectNotFound(_ id: String) -> DomainError {
        DomainError(
            .notFound, code: "project_not_found",
            message: "No project with id '\(id)' exists in this organization.", param: "project_id")
    }
}
