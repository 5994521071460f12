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

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.requestID = ""
        self.clientAddress = source.channel.remoteAddress?.ipAddress
        self.identity = nil
    }

    /// Management API bodies are small; anything larger is refused with 413 before parsing.
    public var maxUploadSize: Int { 64 * 1024 }

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

/// A checked session, its user's memberships, and the organization the request asked for.
public struct SignedInIdentity: Sendable {
    /// The live session and its user.
    public var session: AuthenticatedSession
    /// Every organization the user belongs to.
    public var memberships: [Membership]
    /// The value of the `Keywarden-Organization` header, if sent.
    public var requestedOrganization: String?

    /// Creates an identity.
    public init(session: AuthenticatedSession, memberships: [Membership], requestedOrganization: String?) {
        self.session = session
        self.memberships = memberships
        self.requestedOrganization = requestedOrganization
    }
}

/// A request made by a signed-in person. It cannot exist without an identity, so a handler
/// that takes it needs no checks of its own.
public struct SignedInContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The signed-in person.
    public let identity: SignedInIdentity
    /// The request id.
    public let requestID: String
    /// The peer's IP address.
    public let clientAddress: String?

    public init(context: KeywardenRequestContext) throws {
        guard let identity = context.identity else { throw DomainError.unauthenticated }
        self.coreContext = context.coreContext
        self.identity = identity
        self.requestID = context.requestID
        self.clientAddress = context.clientAddress
    }

    public var maxUploadSize: Int { 64 * 1024 }
    public var responseEncoder: JSONEncoder { .keywarden }
}

/// A request by a signed-in person about one of their organizations, chosen by the
/// `Keywarden-Organization` header or else their first.
public struct OrganizationContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The signed-in person.
    public let identity: SignedInIdentity
    /// Their membership in the organization the request is about.
    public let membership: Membership
    /// The request id.
    public let requestID: String
    /// The peer's IP address.
    public let clientAddress: String?

    public init(context: KeywardenRequestContext) throws {
        guard let identity = context.identity else { throw DomainError.unauthenticated }
        self.coreContext = context.coreContext
        self.identity = identity
        self.membership = try Membership.select(
            from: identity.memberships, requested: identity.requestedOrganization)
        self.requestID = context.requestID
        self.clientAddress = context.clientAddress
    }

    public var maxUploadSize: Int { 64 * 1024 }
    public var responseEncoder: JSONEncoder { .keywarden }
}
