import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// An operator console request: a signed-in person who holds the operator role and has
/// two-factor authentication on. It cannot exist without ``ConsoleService/requireOperator(_:)``
/// having let the person through, so a console handler that takes it needs no checks of its own.
struct OperatorContext: Sendable {
    /// The page request it narrows.
    let page: PageContext

    private init(page: PageContext) {
        self.page = page
    }

    /// The operator, whom every console action is audited with.
    var user: User { page.identity.user }

    /// The operator's address, recorded with every action.
    var clientAddress: String? { page.clientAddress }

    /// The context of an operator's request.
    ///
    /// - Throws: `operator_required` (403) for anyone else, `mfa_required` (403) for an operator
    ///   without two-factor authentication.
    static func authorize(_ page: PageContext, console: ConsoleService) async throws -> OperatorContext {
        try await console.requireOperator(page.identity.user)
        return OperatorContext(page: page)
    }
}
