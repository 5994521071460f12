import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// The operator API under `/v1/admin`: the support queue, organizations (search, detail,
/// suspension, verification, tier, credit), verification insights, the prefix guard and the
/// audit log of every organization. Only a signed-in operator with two-factor authentication on
/// may call it; every action is audited with the operator's name.
public struct AdminController: Sendable {
    let console: ConsoleService

    /// Creates the controller.
    public init(console: ConsoleService) {
        self.console = console
    }

    /// Registers the routes.
    public func addRoutes(to router: CatalogingRouter<KeywardenRequestContext>) {
        let admin = router.group("/v1/admin", context: ConsoleSessionContext.self)
            .add(middleware: OperatorGate(console: console))
            .group(context: OperatorContext.self)
        admin.get("support_requests", use: queue)
        admin.post("support_requests/{support_request_id}/approve", use: approve)
        admin.post("support_requests/{support_request_id}/decline", use: decline)
        admin.get("organizations", use: organizations)
        admin.get("organizations/{organization_id}", use: organization)
        admin.post("organizations/{organization_id}/suspend", use: suspend)
        admin.post("organizations/{organization_id}/unsuspend", use: unsuspend)
        admin.post("organizations/{organization_id}/reset_verification", use: resetVerification)
        admin.post("organizations/{organization_id}/tier", use: setTier)
        admin.post("organizations/{organization_id}/credit_grants", use: grantCredits)
        admin.get("verification_insights", use: insights)
        admin.get("prefix_guard", use: prefixGuard)
        admin.post("prefix_guard/pauses/{prefix}/lift", use: liftPause)
        admin.post("prefix_guard/rules", use: setRule)
        admin.delete("prefix_guard/rules/{prefix}", use: removeRule)
        admin.get("audit_logs", use: auditLog)
    }

    /// Nothing to say: an empty body, or `{}`.
    struct EmptyBody: JSONRequestBody {
        static let fields: Set<String> = []
    }

    /// `{"reason": "..."}`; whether it is required is the action's to say.
    struct ReasonBody: JSONRequestBody {
        static let fields: Set<String> = ["reason"]
        let reason: String?
    }

    // MARK: Support queue

    @Sendable func queue(
        _ request: Request, context: OperatorContext
    ) async throws -> ListObject<ConsoleSupportRequestObject> {
        let limit = try request.pageLimit()
        var status: SupportRequest.Status?
        if let raw = request.textQuery("status") {
            guard let parsed = SupportRequest.Status(rawValue: raw) else {
                throw DomainError.invalidField(
                    "status",
                    "'status' is one of "
                        + SupportRequest.Status.allCases.map(\.rawValue).joined(separator: ", ") + ".")
            }
            status = parsed
        }
        var after: SupportRequestID?
        if let raw = request.textQuery("after") {
            guard let id = SupportRequestID(raw) else {
                throw DomainError.malformedCursor(expected: "a support request id")
            }
            after = id
        }
        let page = try await console.support.queue(status: status, after: after, limit: limit)
        return ListObject(page.items.map(ConsoleSupportRequestObject.init), id: \.id, hasMore: page.hasMore)
    }

    @Sendable func approve(_ request: Request, context: OperatorContext) async throws -> ConsoleSupportRequestObject {
        _ = try await request.decodeBody(EmptyBody.self, context: context)
        let approved = try await console.support.approve(
            try supportRequestID(context), by: context.user, clientAddress: context.clientAddress)
        return ConsoleSupportRequestObject(approved)
    }

    @Sendable func decline(_ request: Request, context: OperatorContext) async throws -> ConsoleSupportRequestObject {
        let body = try await request.decodeBody(ReasonBody.self, context: context)
        let declined = try await console.support.decline(
            try supportRequestID(context), reason: body.reason, by: context.user,
            clientAddress: context.clientAddress)
        return ConsoleSupportRequestObject(declined)
    }

    private func supportRequestID(_ context: OperatorContext) throws -> String {
        try context.parameters.require("support_request_id")
    }

    // MARK: Organizations

    @Sendable func organizations(
        _ request: Request, context: OperatorContext
    ) async throws -> ListObject<ConsoleOrganizationObject> {
        let limit = try request.pageLimit()
        // One more than the page, to tell whether more match.
        let found = try await console.search(
            request.textQuery("query"), after: request.textQuery("after"), limit: limit + 1)
        return ListObject(
            found.prefix(limit).map(ConsoleOrganizationObject.init), id: \.id, hasMore: found.count > limit)
    }

    @Sendable func organization(
        _ request: Request, context: OperatorContext
    ) async throws -> ConsoleOrganizationDetailObject {
        try await detail(try organizationID(context))
    }

    @Sendable func suspend(
        _ request: Request, context: OperatorContext
    ) async throws -> ConsoleOrganizationDetailObject {
        let body = try await request.decodeBody(ReasonBody.self, context: context)
        let id = try organizationID(context)
        let suspended = try await console.suspend(
            id, reason: body.reason, by: context.user, clientAddress: context.clientAddress)
        return try await detail(id, showing: suspended)
    }

    @Sendable func unsuspend(
        _ request: Request, context: OperatorContext
    ) async throws -> ConsoleOrganizationDetailObject {
        _ = try await request.decodeBody(EmptyBody.self, context: context)
        let id = try organizationID(context)
        let lifted = try await console.unsuspend(id, by: context.user, clientAddress: context.clientAddress)
        return try await detail(id, showing: lifted)
    }

    @Sendable func resetVerification(
        _ request: Request, context: OperatorContext
    ) async throws -> ConsoleOrganizationDetailObject {
        let body = try await request.decodeBody(ReasonBody.self, context: context)
        let id = try organizationID(context)
        try await console.resetVerification(
            id, reason: body.reason, by: context.user, clientAddress: context.clientAddress)
        return try await detail(id)
    }

    /// `{"tier": "tier-3"}` pins a tier; `{"tier": null}` or `"default"` lets payments earn it again.
    struct TierBody: JSONRequestBody {
        static let fields: Set<String> = ["tier"]
        static let nullableFields: Set<String> = ["tier"]
        let tier: String?

        enum CodingKeys: String, CodingKey {
            case tier
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            // Required even though it may be null: an empty body must not unpin a tier by accident.
            guard container.contains(.tier) else {
                throw DomainError(
                    .invalidRequest, code: .missingRequiredParameter,
                    message: "'tier' is required: the name of a tier, or null (or \"default\") to unpin it.",
                    param: "tier")
            }
            tier = try container.decodeNil(forKey: .tier) ? nil : try container.decode(String.self, forKey: .tier)
        }
    }

    @Sendable func setTier(
        _ request: Request, context: OperatorContext
    ) async throws -> ConsoleOrganizationDetailObject {
        let body = try await request.decodeBody(TierBody.self, context: context)
        if let tier = body.tier, tier.count > 100 {
            throw DomainError.invalidField("tier", "'tier' is the name of a tier, at most 100 characters.")
        }
        let id = try organizationID(context)
        try await console.setTier(id, tier: body.tier, by: context.user, clientAddress: context.clientAddress)
        return try await detail(id)
    }

    /// `{"amount": "25.00", "reason": "..."}`; the amount may also be a JSON number (`25`, `25.5`).
    struct GrantBody: JSONRequestBody {
        static let fields: Set<String> = ["amount", "reason"]
        /// The amount as written; the console reads it into micro-units, never through floating
        /// point.
        let amount: String?
        let reason: String?

        enum CodingKeys: String, CodingKey {
            case amount, reason
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            reason = try container.decodeIfPresent(String.self, forKey: .reason)
            if !container.contains(.amount) {
                amount = nil
            } else if let whole = try? container.decode(Int64.self, forKey: .amount) {
                amount = String(whole)
            } else if let number = try? container.decode(Double.self, forKey: .amount) {
                // The shortest text that reads back as the same number: `25.5` stays `25.5`, and
                // anything with more decimals than the currency has is refused by the console.
                amount = "\(number)"
            } else if let text = try? container.decode(String.self, forKey: .amount) {
                amount = text
            } else {
                throw DomainError(
                    .invalidRequest, code: .invalidType,
                    message: "Invalid type for 'amount': expected an amount such as \"25.00\" or 25.",
                    param: "amount")
            }
        }
    }

    @Sendable func grantCredits(
        _ request: Request, context: OperatorContext
    ) async throws -> Created<ConsoleCreditGrantObject> {
        let body = try await request.decodeBody(GrantBody.self, context: context)
        let id = try organizationID(context)
        let entry = try await console.grantCredits(
            id, amount: body.amount, reason: body.reason, by: context.user, clientAddress: context.clientAddress)
        let balance = try await console.detail(id).balanceMicros
        return Created(
            body: ConsoleCreditGrantObject(
                organizationID: entry.organizationID.rawValue,
                transaction: BillingTransactionObject(entry, currency: console.currency),
                balance: MoneyObject(balance, in: console.currency)))
    }

    /// The organization as the console's detail shows it now; `organization`, when given, is the
    /// one an action just answered, whose suspension is the one it made.
    func detail(
        _ id: String, showing organization: Organization? = nil
    ) async throws -> ConsoleOrganizationDetailObject {
        var detail = try await console.detail(id)
        if let organization { detail.organization = organization }
        return ConsoleOrganizationDetailObject(detail, currency: console.currency)
    }

    private func organizationID(_ context: OperatorContext) throws -> String {
        try context.parameters.require("organization_id")
    }
}
