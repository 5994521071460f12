import Foundation
import KeywardenCore

/// Which expiry the create form has chosen: never, or after one of ``choices``.
struct ExpirySelection: Sendable {
    /// The form value of a key that never expires.
    static let neverValue = "never"
    /// The choices in seconds: 1 day, 7 days, 30 days, 90 days, 1 year (all within the minute to
    /// five years a key may be given).
    static let choices = [86_400, 604_800, 2_592_000, 7_776_000, 31_536_000]

    let never: Bool
    let oneDay: Bool
    let sevenDays: Bool
    let thirtyDays: Bool
    let ninetyDays: Bool
    let oneYear: Bool

    /// The selection of the form value `value`; anything not offered shows as Never.
    init(_ value: String) {
        let seconds = Int(value).flatMap { Self.choices.contains($0) ? $0 : nil }
        never = seconds == nil
        oneDay = seconds == 86_400
        sevenDays = seconds == 604_800
        thirtyDays = seconds == 2_592_000
        ninetyDays = seconds == 7_776_000
        oneYear = seconds == 31_536_000
    }
}

/// The view of `api-key-edit`: a key's name, permissions and allowed IP ranges, as the key has
/// them or as the form was sent, with what was wrong.
struct APIKeyEditView: Sendable {
    let layout: Layout
    /// The key's id.
    let id: String
    let projectID: String
    /// `sk-proj-...Xk3a`.
    let redactedValue: String
    /// Whether the person may change this key (its project's owners; members their own).
    let canChange: Bool
    let name: String
    let permissionsAll: Bool
    let permissionsRestricted: Bool
    let permissionsReadOnly: Bool
    /// Each resource group's radio buttons, by group id.
    let scopeChoices: [String: ScopeChoice]
    /// Scopes no group offers, kept as they are: comma-separated.
    let otherScopes: String
    let hasOtherScopes: Bool
    /// The allowed IP addresses and ranges, one a line.
    let allowedIPs: String
    let errors: FieldErrors

    /// The view of `form` for `key`.
    init(
        _ form: APIKeyForm, key: APIKey, projectID: String, canChange: Bool, layout: Layout,
        errors: FieldErrors = FieldErrors()
    ) {
        self.layout = layout
        self.id = key.id.rawValue
        self.projectID = projectID
        self.redactedValue = key.redactedValue
        self.canChange = canChange
        self.name = form.name
        permissionsAll = form.permissions != "restricted" && form.permissions != "read_only"
        permissionsRestricted = form.permissions == "restricted"
        permissionsReadOnly = form.permissions == "read_only"
        scopeChoices = form.scopeChoices
        otherScopes = form.otherScopes.joined(separator: ",")
        hasOtherScopes = !form.otherScopes.isEmpty
        allowedIPs = form.allowedIPs
        self.errors = errors
    }
}
