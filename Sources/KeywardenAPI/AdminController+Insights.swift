import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// The operator API's views across the deployment: verification insights, the prefix guard and
/// the audit log of every organization.
extension AdminController {
    // MARK: Insights

    @Sendable func insights(_ request: Request, context: OperatorContext) async throws -> VerificationInsightsObject {
        var window = InsightWindow.day
        if let raw = request.textQuery("window") {
            guard let parsed = InsightWindow(rawValue: raw) else {
                throw DomainError.invalidField(
                    "window",
                    "'window' is one of " + InsightWindow.allCases.map(\.rawValue).joined(separator: ", ") + ".")
            }
            window = parsed
        }
        let rows = try await console.insights(window)
        return VerificationInsightsObject(
            window: window.rawValue, data: rows.map { CountryInsightObject($0, currency: console.currency) })
    }

    // MARK: Prefix guard

    @Sendable func prefixGuard(_ request: Request, context: OperatorContext) async throws -> PrefixGuardObject {
        try await prefixGuardObject()
    }

    @Sendable func liftPause(_ request: Request, context: OperatorContext) async throws -> PrefixGuardObject {
        _ = try await request.decodeBody(EmptyBody.self, context: context)
        try await console.liftPause(try prefix(context), by: context.user, clientAddress: context.clientAddress)
        return try await prefixGuardObject()
    }

    /// `{"prefix": "+4479", "kind": "safe" | "blocked", "reason": "..."}`.
    struct RuleBody: JSONRequestBody {
        static let fields: Set<String> = ["prefix", "kind", "reason"]
        let prefix: String?
        let kind: String?
        let reason: String?
    }

    @Sendable func setRule(_ request: Request, context: OperatorContext) async throws -> PrefixRuleObject {
        let body = try await request.decodeBody(RuleBody.self, context: context)
        let rule = try await console.setRule(
            body.prefix, kind: body.kind, reason: body.reason, by: context.user, clientAddress: context.clientAddress)
        return PrefixRuleObject(rule)
    }

    @Sendable func removeRule(_ request: Request, context: OperatorContext) async throws -> DeletedPrefixRuleObject {
        let raw = try prefix(context)
        try await console.removeRule(raw, by: context.user, clientAddress: context.clientAddress)
        return DeletedPrefixRuleObject(prefix: PrefixRule.normalized(raw) ?? raw)
    }

    func prefixGuardObject() async throws -> PrefixGuardObject {
        let state = try await console.prefixGuard()
        return PrefixGuardObject(
            paused: state.pauses.map(PrefixPauseObject.init), rules: state.rules.map(PrefixRuleObject.init))
    }

    /// The `{prefix}` segment, percent-decoded: `+` arrives as `%2B` from most clients.
    private func prefix(_ context: OperatorContext) throws -> String {
        let raw = try context.parameters.require("prefix")
        return raw.removingPercentEncoding ?? raw
    }

    // MARK: Audit

    @Sendable func auditLog(
        _ request: Request, context: OperatorContext
    ) async throws -> ListObject<ConsoleAuditLogObject> {
        let page = try await console.auditLog(
            organization: request.textQuery("organization_id"), type: request.textQuery("type"),
            after: request.textQuery("after"), limit: try request.pageLimit())
        return ListObject(
            page.items.map { ConsoleAuditLogObject(event: $0) }, id: \.event.id.rawValue, hasMore: page.hasMore)
    }
}
