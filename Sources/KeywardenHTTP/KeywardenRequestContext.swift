import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import NIOCore

/// The per-request state of every Keywarden route before authentication.
public struct KeywardenRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The id echoed in `x-request-id` and written in every log line about the request.
    public var requestID: String
    /// The peer's IP address, for per-address limits; `nil` when the transport has none.
    public let clientAddress: String?
    /// The signed-in person, once ``SessionAuthenticator`` has checked their token.
    public var identity: SignedInIdentity?
    /// The project or service-account key the request presented, once checked; one its ranges
    /// refuse for this request's address is here too, for ``APIKeyContext`` to refuse.
    public var apiKey: APIKey?
    /// Why a presented key was refused (`malformed`, `not_found`, `revoked`, `expired`,
    /// `disabled`), with the key masked for the message.
    public var apiKeyRefusal: (reason: String, masked: String)?
    /// The form token of a browser session, once the dashboard's cookie authenticator has
    /// checked the session cookie (or, signed out, the pre-session cookie).
    public var formToken: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.requestID = ""
        self.clientAddress = source.channel.remoteAddress?.ipAddress
        self.identity = nil
        self.apiKey = nil
        self.apiKeyRefusal = nil
        self.formToken = nil
    }

    /// Management API bodies are small; anything larger is refused with 413 before parsing.
    public var maxUploadSize: Int { ManagementAPI.maxBodyBytes }

    public var responseEncoder: JSONEncoder { .keywarden }
}

extension JSONEncoder {
    /// The encoder for every response: keys in a stable order, slashes unescaped.
    public static var keywarden: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

/// Who is acting, their memberships, and the organization the request asked for.
public struct SignedInIdentity: Sendable {
    /// How the caller proved who they are.
    public enum Credential: Sendable {
        /// A person's session.
        case session(Session)
        /// An organization's admin key, acting as an owner of that organization only.
        case adminKey(APIKey)
    }

    /// The person acting (for an admin key, the person who made it).
    public var user: User
    public var credential: Credential
    /// Every organization the caller may act in.
    public var memberships: [Membership]
    /// The value of the `Keywarden-Organization` header, if sent.
    public var requestedOrganization: String?

    /// Creates an identity.
    public init(user: User, credential: Credential, memberships: [Membership], requestedOrganization: String?) {
        self.user = user
        self.credential = credential
        self.memberships = memberships
        self.requestedOrganization = requestedOrganization
    }

    /// The session, when a person signed in (admin keys have none).
    public var session: Session? {
        if case .session(let session) = credential { return session }
        return nil
    }
}

/// What every narrowed context carries over from the ``KeywardenRequestContext`` it was made from.
public struct RequestBasics: Sendable {
    /// Hummingbird's per-request storage (logger, endpoint, parameters).
    public var coreContext: CoreRequestContextStorage
    /// The id echoed in `x-request-id`.
    public let requestID: String
    /// The peer's IP address.
    public let clientAddress: String?

    /// Takes the members over from the context before authentication.
    public init(_ context: KeywardenRequestContext) {
        self.coreContext = context.coreContext
        self.requestID = context.requestID
        self.clientAddress = context.clientAddress
    }
}

/// A context narrowed from ``KeywardenRequestContext`` once a credential has been checked. A
/// conforming context holds ``RequestBasics`` and adds only what is its own; the request id, the
/// peer's address, the body limit and the encoder come from here, the same for every one.
public protocol KeywardenChildContext: ChildRequestContext
where Self.ParentContext == KeywardenRequestContext, Self.Encoder == JSONEncoder {
    /// The members carried over from the parent context.
    var basics: RequestBasics { get set }
}

extension KeywardenChildContext {
    public var coreContext: CoreRequestContextStorage {
        get { basics.coreContext }
        set { basics.coreContext = newValue }
    }

    /// The request id.
    public var requestID: String { basics.requestID }
    /// The peer's IP address.
    public var clientAddress: String? { basics.clientAddress }

    /// Management API bodies are small; anything larger is refused with 413 before parsing.
    public var maxUploadSize: Int { ManagementAPI.maxBodyBytes }
    /// Every answer is encoded with `JSONEncoder.keywarden`.
    public var responseEncoder: JSONEncoder { .keywarden }
}

/// A request made by a signed-in person. It cannot exist without an identity, so a handler
/// that takes it needs no checks of its own.
public struct SignedInContext: KeywardenChildContext {
    /// The request id, the peer's address and Hummingbird's storage, from before authentication.
    public var basics: RequestBasics
    /// The signed-in person.
    public let identity: SignedInIdentity

    public init(context: KeywardenRequestContext) throws {
        guard let identity = context.identity, identity.session != nil else { throw DomainError.unauthenticated }
        self.basics = RequestBasics(context)
        self.identity = identity
    }
}

/// A request by a signed-in person about one of their organizations, chosen by the
/// `Keywarden-Organization` header or else their first.
public struct OrganizationContext: KeywardenChildContext {
    /// The request id, the peer's address and Hummingbird's storage, from before authentication.
    public var basics: RequestBasics
    /// The signed-in person.
    public let identity: SignedInIdentity
    /// Their membership in the organization the request is about.
    public let membership: Membership

    public init(context: KeywardenRequestContext) throws {
        if context.apiKey != nil {
            throw DomainError(
                .forbidden, code: .insufficientPermissions,
                message:
                    "Project and service-account keys cannot use management endpoints. Use an admin key or sign in.")
        }
        guard let identity = context.identity else { throw DomainError.unauthenticated }
        self.basics = RequestBasics(context)
        self.identity = identity
        self.membership = try Membership.select(
            from: identity.memberships, requested: identity.requestedOrganization)
        // A suspended organization's keys are refused everywhere, admin keys included; its
        // members still sign in, to see why and to appeal.
        if case .adminKey = identity.credential, let suspension = membership.organization.suspension {
            throw DomainError.organizationSuspended(reason: suspension.reason)
        }
        // An admin key limited to IP ranges acts only from them.
        if case .adminKey(let key) = identity.credential, !key.allowedIPs.admits(context.clientAddress) {
            throw DomainError.ipNotAllowed(context.clientAddress)
        }
    }
}

extension OrganizationContext {
    /// Who acts, for the audit log: the person, or the admin key.
    public var actor: AuditActor {
        switch identity.credential {
        case .session: .session(identity.user, ipAddress: clientAddress)
        case .adminKey(let key):
            AuditActor(
                type: "api_key", userID: identity.user.id.rawValue, email: key.id.rawValue, ipAddress: clientAddress)
        }
    }
}

/// A request authenticated by a project or service-account key, from an address the key
/// accepts calls from.
public struct APIKeyContext: KeywardenChildContext {
    /// The request id, the peer's address and Hummingbird's storage, from before authentication.
    public var basics: RequestBasics
    /// The key.
    public let apiKey: APIKey

    public init(context: KeywardenRequestContext) throws {
        guard let apiKey = context.apiKey else {
            throw DomainError.invalidAPIKey(context.apiKeyRefusal)
        }
        // Costs one comparison for a key without ranges, which most keys are.
        guard apiKey.allowedIPs.admits(context.clientAddress) else {
            throw DomainError.ipNotAllowed(context.clientAddress)
        }
        self.basics = RequestBasics(context)
        self.apiKey = apiKey
    }
}

extension DomainError {
    /// OpenAI's `invalid_api_key`, with the key masked in the middle.
    public static func invalidAPIKey(_ refusal: (reason: String, masked: String)?) -> DomainError {
        guard let refusal else {
            return DomainError(
                .unauthenticated, code: .invalidApiKey,
                message: "You didn't provide an API key. Send it as 'Authorization: Bearer sk-...'.")
        }
        let message =
            switch refusal.reason {
            case "revoked": "The API key \(refusal.masked) has been revoked. Create or ask for a new key."
            case "expired": "The API key \(refusal.masked) has expired. Create or ask for a new key."
            case "disabled":
                "The API key \(refusal.masked) is disabled. Ask an owner of its project to enable it again."
            default: "Incorrect API key provided: \(refusal.masked). Check the key, or create a new one."
            }
        return DomainError(.unauthenticated, code: .invalidApiKey, message: message)
    }
}
