import Foundation
import KeywardenCore

/// The view of `api-keys`: the chosen project's active keys.
struct APIKeyListView: Sendable {
    let layout: Layout
    /// Whether the organization has an active project to list.
    let hasProject: Bool
    /// Whether the person may create keys in the listed project (members and owners).
    let canCreate: Bool
    let projectID: String
    let projectName: String
    /// Newest first.
    let keys: [APIKeyRow]
    let hasKeys: Bool
    /// More keys exist than the page read.
    let truncated: Bool
    /// The phone step replaces "Create new secret key".
    let unverified: Bool
    /// Why a rotation or revocation was refused.
    let error: String?
    /// The grace period the rotate forms start with.
    let grace: GraceSelection
    /// Sent with the rotate forms, so a form sent twice rotates once and shows the same new key.
    let idempotencyKey: String
    /// Unusual use of the project's keys (the `api-key-alerts` partial); `nil` for none.
    var keyAlerts: KeyAlertNotice? = nil
}

/// One row of the keys table.
struct APIKeyRow: Sendable {
    let id: String
    let name: String
    let unnamed: Bool
    /// `sk-proj-...Xk3a`.
    let redactedValue: String
    let created: String
    let lastUsed: String
    let neverUsed: Bool
    /// When a key that still works stops working (a rotated key's grace period, or its expiry).
    let expires: String
    let expiring: Bool
    let ownerIsPerson: Bool
    let ownerIsServiceAccount: Bool
    /// The owner is a person no longer found.
    let ownerIsFormerMember: Bool
    /// The person's name, or the service account's.
    let ownerName: String
    /// A person with a name (shown after their email).
    let ownerHasName: Bool
    let ownerEmail: String
    let permissionsAll: Bool
    let permissionsReadOnly: Bool
    let permissionsRestricted: Bool
    /// A restricted key's scopes, comma-separated.
    let scopeList: String
    /// The token the row's form carries (here, so the row's names are all found in the row).
    let formToken: String
    /// Whether the person may rotate and revoke this key (its project's owners; members their own).
    let canChange: Bool
    /// The key is disabled: refused until it is enabled again.
    let disabled: Bool
    /// The key accepts calls only from some addresses.
    let restrictedIPs: Bool
    /// Those addresses and ranges, comma-separated.
    let allowedIPList: String

    /// The row of `key`, naming its owner from `people`, with the form's token.
    init(_ key: APIKey, people: [UserID: User], formToken: String, canChange: Bool) {
        self.formToken = formToken
        self.canChange = canChange
        disabled = key.isDisabled
        restrictedIPs = !key.allowedIPs.allowsAnyAddress
        allowedIPList = key.allowedIPs.texts.joined(separator: ", ")
        id = key.id.rawValue
        name = key.name
        unnamed = key.name.isEmpty
        redactedValue = key.redactedValue
        created = UTCTime.minutes(key.createdAt)
        lastUsed = key.lastUsedAt.map(UTCTime.minutes) ?? ""
        neverUsed = key.lastUsedAt == nil
        expires = key.expiresAt.map(UTCTime.minutes) ?? ""
        expiring = key.expiresAt != nil
        switch key.owner {
        case .user(let userID):
            let user = people[userID]
            ownerIsPerson = user != nil
            ownerIsServiceAccount = false
            ownerIsFormerMember = user == nil
            ownerName = user?.name ?? ""
            ownerEmail = user?.email.value ?? ""
        case .serviceAccount:
            // A service account's keys carry its name.
            ownerIsPerson = false
            ownerIsServiceAccount = true
            ownerIsFormerMember = false
            ownerName = key.name
            ownerEmail = ""
        }
        // In brackets after a person's email; a service account's name follows its own label.
        ownerHasName = ownerIsPerson && !ownerName.isEmpty
        permissionsAll = key.permissions == .all
        permissionsReadOnly = key.permissions == .readOnly
        permissionsRestricted = !permissionsAll && !permissionsReadOnly
        scopeList = key.permissions.scopes.joined(separator: ", ")
    }
}

/// Which grace period a rotate form has chosen: how long the replaced key keeps working.
struct GraceSelection: Sendable {
    /// The choices in seconds: revoke now, 1 hour, 24 hours, 7 days (all within the 0 to 30
    /// days the rotation accepts).
    static let choices = [0, 3_600, 86_400, 604_800]
    /// What a form starts with: 24 hours, the API's default.
    static let standard = 86_400

    let revokeNow: Bool
    let oneHour: Bool
    let oneDay: Bool
    let sevenDays: Bool

    init(seconds: Int) {
        revokeNow = seconds == 0
        oneHour = seconds == 3_600
        oneDay = seconds == 86_400
        sevenDays = seconds == 604_800
    }
}

/// The view of `api-key-create`: the form as it was sent (or new), with what was wrong.
struct APIKeyCreateView: Sendable {
    let layout: Layout
    /// The phone step replaces the form.
    let unverified: Bool
    let hasProjects: Bool
    /// The person reads projects but may create keys in none of them.
    let readOnly: Bool
    /// The active projects the person may create keys in, the form's one selected.
    let projects: [Layout.Choice]
    let name: String
    let ownerYou: Bool
    let ownerServiceAccount: Bool
    let permissionsAll: Bool
    let permissionsRestricted: Bool
    let permissionsReadOnly: Bool
    /// Each resource group's radio buttons, by group id.
    let scopeChoices: [String: ScopeChoice]
    /// When the key expires, as chosen.
    let expiry: ExpirySelection
    /// The allowed IP addresses and ranges as typed.
    let allowedIPs: String
    let errors: FieldErrors
}

/// The view of `api-key-saved`: a new key's value, shown this once.
struct APIKeySavedView: Sendable {
    let layout: Layout
    let name: String
    let unnamed: Bool
    /// The secret.
    let value: String
    let projectName: String
    let hasProjectName: Bool
    let serviceAccount: Bool
    /// The key replaces one that was rotated.
    let rotated: Bool
    /// The replaced key no longer works.
    let oldKeyStopped: Bool
    /// When the replaced key stops working, `yyyy-MM-dd HH:mm` UTC.
    let oldKeyUntil: String
}

/// The view of `api-key-confirm`: the question a Rotate or Revoke form asks when the browser's
/// script did not ask it.
struct APIKeyConfirmView: Sendable {
    let layout: Layout
    let rotating: Bool
    let revoking: Bool
    /// The key's id.
    let id: String
    let projectID: String
    let name: String
    let unnamed: Bool
    let redactedValue: String
    let grace: GraceSelection
    let idempotencyKey: String
}
