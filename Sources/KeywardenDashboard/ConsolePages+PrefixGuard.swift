import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// The prefix guard: the prefixes it paused on its own (with Unpause), and the operator's standing
/// rules, safe prefixes that are never paused and blocked ones that are always refused.
extension ConsolePages {
    static let prefixGuardPath = "/admin/prefix-guard"

    func addPrefixGuardRoutes(to signedIn: RouterGroup<PageContext>) {
        get(Self.prefixGuardPath, in: signedIn, use: prefixGuard)
        post(Self.prefixGuardPath + "/unpause", in: signedIn, use: unpause)
        post(Self.prefixGuardPath + "/rules", in: signedIn, use: addRule)
        post(Self.prefixGuardPath + "/rules/remove", in: signedIn, use: removeRule)
    }

    /// One pause, active or lifted early.
    struct PauseRow: Sendable {
        let prefix: String
        let reason: String
        let paused: String
        let ends: String
        /// Who lifted it; `nil` while it stops sends.
        let liftedBy: String?
        let lifted: Bool

        init(_ pause: PrefixPause) {
            prefix = pause.prefix
            reason = pause.reason
            paused = UTCTime.minutes(pause.pausedAt)
            ends = UTCTime.minutes(pause.until)
            lifted = pause.liftedAt != nil
            liftedBy = pause.liftedBy
        }
    }

    /// One standing rule.
    struct RuleRow: Sendable {
        let prefix: String
        let safe: Bool
        let reason: String
        let addedBy: String
        let added: String

        init(_ rule: PrefixRule) {
            prefix = rule.prefix
            safe = rule.kind == .safe
            reason = rule.reason
            addedBy = rule.createdBy
            added = UTCTime.minutes(rule.createdAt)
        }
    }

    /// The "Add a rule" form: what it holds and where its refusal is said.
    struct RuleForm: Sendable {
        let prefix: String
        let blocked: Bool
        let reason: String
        let errors: FieldErrors
    }

    /// The Prefix guard page.
    struct PrefixGuardView: Sendable {
        let layout: Layout
        let pauses: [PauseRow]
        let hasPauses: Bool
        let rules: [RuleRow]
        let hasRules: Bool
        let form: RuleForm
        /// A refused Unpause or Remove.
        let pageError: String?
    }

    @Sendable func prefixGuard(_ request: Request, context: OperatorContext) async throws -> Response {
        try await renderPrefixGuard(request, context: context)
    }

    /// "Unpause": the guard leaves the prefix alone until the pause would have ended.
    @Sendable func unpause(_ request: Request, context: OperatorContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.page.formToken)
        do {
            try await console.liftPause(fields["prefix"], by: context.user, clientAddress: context.clientAddress)
        } catch let refusal as DomainError where refusal.kind != .internal && refusal.kind != .unavailable {
            return try await renderPrefixGuard(
                request, context: context, pageError: PageSentences.sentence(for: refusal),
                status: SettingsPages.status(for: refusal))
        }
        throw PageRedirect.to(Self.prefixGuardPath, flash: "Unpaused: codes are sent to that prefix again.")
    }

    /// "Add rule": adds or replaces the rule for a prefix.
    @Sendable func addRule(_ request: Request, context: OperatorContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.page.formToken)
        let typed = RuleForm(
            prefix: fields["prefix"] ?? "", blocked: fields["kind"] == PrefixRule.Kind.blocked.rawValue,
            reason: fields["reason"] ?? "", errors: FieldErrors())
        let rule: PrefixRule
        do {
            rule = try await console.setRule(
                fields["prefix"], kind: fields["kind"], reason: fields["reason"], by: context.user,
                clientAddress: context.clientAddress)
        } catch let refusal as DomainError where refusal.kind != .internal && refusal.kind != .unavailable {
            var errors = FieldErrors(
                refusal, fields: ["prefix", "reason"], whenMissing: ["prefix": PageSentences.prefixMissing])
            if refusal.param == "kind" { errors = FieldErrors(field: "kind", sentence: PageSentences.ruleKind) }
            let form = RuleForm(prefix: typed.prefix, blocked: typed.blocked, reason: typed.reason, errors: errors)
            return try await renderPrefixGuard(
                request, context: context, form: form, status: SettingsPages.status(for: refusal))
        }
        throw PageRedirect.to(Self.prefixGuardPath, flash: "Rule saved for \(rule.prefix).")
    }

    /// "Remove": the prefix is left to the guard again.
    @Sendable func removeRule(_ request: Request, context: OperatorContext) async throws -> Response {
        let fields = try await dashboard.forms.form(request, expectedToken: context.page.formToken)
        do {
            try await console.removeRule(fields["prefix"], by: context.user, clientAddress: context.clientAddress)
        } catch let refusal as DomainError where refusal.kind != .internal && refusal.kind != .unavailable {
            return try await renderPrefixGuard(
                request, context: context, pageError: PageSentences.sentence(for: refusal),
                status: SettingsPages.status(for: refusal))
        }
        throw PageRedirect.to(Self.prefixGuardPath, flash: "Rule removed.")
    }

    func renderPrefixGuard(
        _ request: Request, context: OperatorContext, form: RuleForm? = nil, pageError: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let (rules, pauses) = try await console.prefixGuard()
        let frame = try await dashboard.consoleFrame("Prefix guard", request: request, console: context)
        let view = PrefixGuardView(
            layout: frame.layout, pauses: pauses.map(PauseRow.init), hasPauses: !pauses.isEmpty,
            rules: rules.map(RuleRow.init), hasRules: !rules.isEmpty,
            form: form ?? RuleForm(prefix: "", blocked: false, reason: "", errors: FieldErrors()),
            pageError: pageError)
        return dashboard.page("admin-prefix-guard", view, frame: frame, status: status)
    }
}
