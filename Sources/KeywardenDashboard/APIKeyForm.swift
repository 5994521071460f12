import Foundation
import KeywardenCore

/// A group of resources that a restricted key is granted None, Read or Write on in the create
/// form. Its scopes are the ones the gateway asks for (`model.request` for model calls,
/// `api.<resource>.read` and `.write` for the rest); Write includes Read.
struct KeyResourceGroup: Sendable {
    /// Names the group's radio buttons (`scope_<id>`) and is part of their element ids.
    let id: String
    /// The scopes Read grants; `nil` when the group has no Read level (model calls only write).
    let read: [String]?
    /// The scopes Write grants.
    let write: [String]

    /// The form field of the group's radio buttons.
    var field: String { "scope_" + id }

    /// The group of one gateway resource, such as `files`.
    static func api(_ resource: String) -> KeyResourceGroup {
        KeyResourceGroup(
            id: resource, read: ["api.\(resource).read"], write: ["api.\(resource).read", "api.\(resource).write"])
    }

    /// Every group the form offers, in the order the template shows them. The first is the
    /// model calls (`Gateway.modelResources`: chat, completions, embeddings, responses, audio,
    /// images, moderations), which need `model.request`.
    static let all: [KeyResourceGroup] = [
        KeyResourceGroup(id: "model_request", read: nil, write: ["model.request"]),
        .api("models"), .api("files"), .api("fine_tuning"), .api("assistants"), .api("threads"),
        .api("vector_stores"), .api("batches"),
    ]

    /// The scopes a level (`none`, `read`, `write`) grants; `nil` for a level the group lacks.
    func scopes(for level: String) -> [String]? {
        switch level {
        case "none": return []
        case "read": return read
        case "write": return write
        default: return nil
        }
    }
}

/// What the "Create new secret key" form, or a key's Edit form, holds: as it was sent, or a new
/// form's defaults (for Edit, the key's settings).
struct APIKeyForm: Sendable {
    /// The `owner` values.
    static let ownerYou = "you"
    static let ownerServiceAccount = "service_account"
    /// The fields a refusal can be shown next to (the others are shown above the form).
    static let fieldNames: Set<String> = [
        "owner", "name", "project_id", "permissions", "scopes", "expires_in_seconds", "allowed_ips",
    ]
    /// The fields of the Edit form a refusal can be shown next to.
    static let editFieldNames: Set<String> = ["name", "permissions", "scopes", "allowed_ips"]

    /// `you` or `service_account`.
    var owner: String
    var name: String
    var projectID: String
    /// `all`, `restricted` or `read_only`, as the API names them.
    var permissions: String
    /// The level chosen (`none`, `read`, `write`) by resource group id.
    var levels: [String: String]
    /// Scopes of an edited restricted key that no group's level grants (such as `api.*.read`),
    /// kept as they are.
    var otherScopes: [String]
    /// When the new key expires: `never`, or one of ``ExpirySelection/choices`` in seconds.
    var expires: String
    /// The allowed IP addresses and ranges as typed: one a line, or separated by commas.
    var allowedIPs: String

    /// A new form: owned by the person, all permissions, in `project`, never expiring, from any
    /// address.
    init(project: String) {
        owner = Self.ownerYou
        name = ""
        projectID = project
        permissions = "all"
        levels = [:]
        otherScopes = []
        expires = ExpirySelection.neverValue
        allowedIPs = ""
    }

    /// The Edit form of `key`: its settings, each scope shown by the level of its group.
    init(_ key: APIKey) {
        owner = Self.ownerYou
        name = key.name
        projectID = key.projectID?.rawValue ?? ""
        permissions = key.permissions.name
        let scopes = Set(key.permissions.scopes)
        var levels: [String: String] = [:]
        var granted: Set<String> = []
        for group in KeyResourceGroup.all {
            if Set(group.write).isSubset(of: scopes) {
                levels[group.id] = "write"
                granted.formUnion(group.write)
            } else if let read = group.read, Set(read).isSubset(of: scopes) {
                levels[group.id] = "read"
                granted.formUnion(read)
            }
        }
        self.levels = levels
        otherScopes = key.permissions.scopes.filter { !granted.contains($0) }
        expires = ExpirySelection.neverValue
        allowedIPs = key.allowedIPs.texts.joined(separator: "\n")
    }

    /// The form as posted.
    init(_ fields: FormFields) {
        owner = fields["owner"] ?? Self.ownerYou
        name = fields["name"] ?? ""
        projectID = fields["project_id"] ?? ""
        permissions = fields["permissions"] ?? "all"
        var levels: [String: String] = [:]
        for group in KeyResourceGroup.all {
            if let level = fields[group.field] { levels[group.id] = level }
        }
        self.levels = levels
        otherScopes = (fields["other_scopes"] ?? "").split(separator: ",").map { $0.trimmingWhitespace() }
            .filter { !$0.isEmpty }
        expires = fields["expires_in_seconds"] ?? ExpirySelection.neverValue
        allowedIPs = fields["allowed_ips"] ?? ""
    }

    /// The allowed IP entries typed, split at line ends and commas; none for any address.
    var allowedIPEntries: [String] {
        allowedIPs.split(whereSeparator: { $0 == "," || $0.isNewline }).map { $0.trimmingWhitespace() }
            .filter { !$0.isEmpty }
    }

    /// The seconds until the new key expires, `nil` for never.
    ///
    /// - Throws: a refusal naming `expires_in_seconds` for a choice the form does not offer.
    func expiresInSeconds() throws -> Int? {
        if expires.isEmpty || expires == ExpirySelection.neverValue { return nil }
        guard let seconds = Int(expires), ExpirySelection.choices.contains(seconds) else {
            throw DomainError.invalidField("expires_in_seconds", PageSentences.unknownExpiry)
        }
        return seconds
    }

    /// The permissions chosen; a restricted key gets the scopes of every group's level.
    ///
    /// - Throws: a refusal naming `permissions` for a value the form does not offer, and
    ///   ``KeyPermissions``' own refusal (naming `scopes`) for a restricted key without any.
    func keyPermissions() throws -> KeyPermissions {
        switch permissions {
        case "all":
            return .all
        case "read_only":
            return .readOnly
        case "restricted":
            var scopes: [String] = []
            for group in KeyResourceGroup.all {
                guard let granted = group.scopes(for: levels[group.id] ?? "none") else {
                    throw DomainError.invalidField("permissions", PageSentences.unknownScopeLevel)
                }
                scopes += granted
            }
            var seen: Set<String> = []
            let kept = (scopes + otherScopes).filter { seen.insert($0).inserted }
            return try KeyPermissions(name: "restricted", scopes: kept)
        default:
            throw DomainError.invalidField("permissions", PageSentences.unknownKeyPermissions)
        }
    }

    /// The radio buttons of every resource group as the form shows them, by group id.
    var scopeChoices: [String: ScopeChoice] {
        var choices: [String: ScopeChoice] = [:]
        for group in KeyResourceGroup.all {
            let level = levels[group.id].flatMap { group.scopes(for: $0) == nil ? nil : $0 } ?? "none"
            choices[group.id] = ScopeChoice(
                id: group.id.replacingOccurrences(of: "_", with: "-"), field: group.field, hasRead: group.read != nil,
                none: level == "none", read: level == "read", write: level == "write")
        }
        return choices
    }
}

/// One resource group's None / Read / Write radio buttons (the `api-key-scope` partial).
struct ScopeChoice: Sendable {
    /// The part of the element ids: `scope-<id>-none`.
    let id: String
    /// The radio buttons' name.
    let field: String
    /// Whether the group has a Read level.
    let hasRead: Bool
    let none: Bool
    let read: Bool
    let write: Bool
}
