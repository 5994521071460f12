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

/// What the "Create new secret key" form holds: as it was sent, or a new form's defaults.
struct APIKeyForm: Sendable {
    /// The `owner` values.
    static let ownerYou = "you"
    static let ownerServiceAccount = "service_account"
    /// The fields a refusal can be shown next to (the others are shown above the form).
    static let fieldNames: Set<String> = ["owner", "name", "project_id", "permissions", "scopes"]

    /// `you` or `service_account`.
    var owner: String
    var name: String
    var projectID: String
    /// `all`, `restricted` or `read_only`, as the API names them.
    var permissions: String
    /// The level chosen (`none`, `read`, `write`) by resource group id.
    var levels: [String: String]

    /// A new form: owned by the person, all permissions, in `project`.
    init(project: String) {
        owner = Self.ownerYou
        name = ""
        projectID = project
        permissions = "all"
        levels = [:]
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
            return try KeyPermissions(name: "restricted", scopes: scopes)
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
