import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// A request to the operator API made with a person's session token. Admin keys and project
/// keys are refused here: the console acts across organizations, and a key belongs to one.
struct ConsoleSessionContext: KeywardenChildContext {
    /// The request id, the peer's address and Hummingbird's storage, from before authentication.
    var basics: RequestBasics
    /// The signed-in person.
    let user: User
    /// Set by ``OperatorGate`` once the person is known to be an operator with two-factor on.
    fileprivate(set) var confirmedOperator = false

    init(context: KeywardenRequestContext) throws {
        if context.apiKey != nil { throw DomainError.operatorSessionRequired }
        guard let identity = context.identity else { throw DomainError.unauthenticated }
        guard identity.session != nil else { throw DomainError.operatorSessionRequired }
        self.basics = RequestBasics(context)
        self.user = identity.user
    }
}

/// Asks the console whether the signed-in person is an operator with two-factor authentication
/// on, before any operator route runs.
struct OperatorGate: RouterMiddleware {
    typealias Context = ConsoleSessionContext

    let console: ConsoleService

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        try await console.requireOperator(context.user)
        var context = context
        context.confirmedOperator = true
        return try await next(request, context)
    }
}

/// A request by an operator. It cannot exist unless ``OperatorGate`` let the request through, so
/// a handler that takes it needs no checks of its own.
struct OperatorContext: ChildRequestContext {
    var coreContext: CoreRequestContextStorage
    /// The request id.
    let requestID: String
    /// The peer's IP address, for the audit log.
    let clientAddress: String?
    /// The operator.
    let user: User

    init(context: ConsoleSessionContext) throws {
        guard context.confirmedOperator else { throw DomainError.operatorRequired }
        self.coreContext = context.coreContext
        self.requestID = context.requestID
        self.clientAddress = context.clientAddress
        self.user = context.user
    }

    /// Management API bodies are small; anything larger is refused with 413 before parsing.
    var maxUploadSize: Int { ManagementAPI.maxBodyBytes }
    /// Every answer is encoded with `JSONEncoder.keywarden`.
    var responseEncoder: JSONEncoder { .keywarden }
}

extension DomainError {
    /// An admin key or a project key was sent to the operator API.
    static let operatorSessionRequired = DomainError(
        .forbidden, code: .operatorRequired,
        message:
            "The operator API takes a signed-in operator's session token ('Authorization: Bearer sess_...' from /v1/auth/login); admin keys and project keys cannot use it."
    )
}
