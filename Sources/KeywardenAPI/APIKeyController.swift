import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// Project keys, service accounts, admin keys, and `POST /v1/api-keys`.
public struct APIKeyController: Sendable {
    let keys: APIKeyService
    /// Asks a stale session to confirm it is the person before sensitive actions (step-up).
    let accounts: AccountService

    /// Creates the controller.
    public init(keys: APIKeyService, accounts: AccountService) {
        self.keys = keys
        self.accounts = accounts
    }

    /// Registers the routes.
    public func addRoutes(to router: CatalogingRouter<KeywardenRequestContext>) {
        let project = router.group("/v1/organization/projects/{project_id}", context: OrganizationContext.self)
        project.get("api_keys", use: list)
        project.post("api_keys", use: create)
        project.get("api_keys/{key_id}", use: show)
        project.post("api_keys/{key_id}", use: update)
        project.delete("api_keys/{key_id}", use: delete)
        project.post("api_keys/{key_id}/rotate", use: rotate)
        project.post("api_keys/{key_id}/disable", use: disable)
        project.post("api_keys/{key_id}/enable", use: enable)
        project.post("service_accounts", use: createServiceAccount)
        let admin = router.group("/v1/organization/admin_api_keys", context: OrganizationContext.self)
        admin.get(use: listAdmin)
        admin.post(use: createAdmin)
        admin.delete("{key_id}", use: deleteAdmin)
        router.group(context: APIKeyContext.self).post("/v1/api-keys", use: createWithKey)
    }

    struct CreateBody: JSONRequestBody {
        static let fields: Set<String> = ["name", "permissions", "scopes", "expires_in_seconds", "allowed_ips"]
        let name: String?
        let permissions: String?
        let scopes: [String]?
        let expiresInSeconds: Int?
        let allowedIPs: [String]?

        enum CodingKeys: String, CodingKey {
            case name, permissions, scopes
            case expiresInSeconds = "expires_in_seconds"
            case allowedIPs = "allowed_ips"
        }

        var request: APIKeyService.Request {
            get throws {
                try APIKeyService.Request(
                    name: name, permissions: try KeyPermissions(name: permissions, scopes: scopes),
                    expiresInSeconds: expiresInSeconds, allowedIPs: allowedIPs)
            }
        }
    }

    @Sendable func create(_ request: Request, context: OrganizationContext) async throws -> Created<APIKeyObject> {
        let body = try await request.decodeBody(CreateBody.self, context: context)
        try accounts.requireRecentSignIn(context.identity.session)
        let issued = try await keys.createProjectKey(
            project: try context.parameters.require("project_id"), request: try body.request,
            membership: context.membership, user: context.identity.user, actor: context.actor)
        return Created(body: APIKeyObject(issued.key, value: issued.value))
    }

    @Sendable func list(_ request: Request, context: OrganizationContext) async throws -> ListObject<APIKeyObject> {
        let page = try await keys.projectKeys(
            project: try context.parameters.require("project_id"), membership: context.membership,
            after: request.textQuery("after"), limit: try request.pageLimit())
        return ListObject(page.items.map { APIKeyObject($0) }, id: \.id, hasMore: page.hasMore)
    }

    @Sendable func show(_ request: Request, context: OrganizationContext) async throws -> APIKeyObject {
        APIKeyObject(
            try await keys.projectKey(
                project: try context.parameters.require("project_id"), key: try context.parameters.require("key_id"),
                membership: context.membership))
    }

    @Sendable func delete(_ request: Request, context: OrganizationContext) async throws -> DeletedObject {
        let key = try await keys.deleteProjectKey(
            project: try context.parameters.require("project_id"), key: try context.parameters.require("key_id"),
            membership: context.membership, user: context.identity.user, actor: context.actor)
        return DeletedObject(object: "organization.project.api_key.deleted", id: key.id.rawValue)
    }

    /// The settings to change; a field left out stays as it is.
    struct UpdateBody: JSONRequestBody {
        static let fields: Set<String> = ["name", "permissions", "scopes", "allowed_ips"]
        let name: String?
        let permissions: String?
        let scopes: [String]?
        let allowedIPs: [String]?

        enum CodingKeys: String, CodingKey {
            case name, permissions, scopes
            case allowedIPs = "allowed_ips"
        }

        var change: APIKeyService.Change {
            APIKeyService.Change(name: name, permissions: permissions, scopes: scopes, allowedIPs: allowedIPs)
        }
    }

    @Sendable func update(_ request: Request, context: OrganizationContext) async throws -> APIKeyObject {
        let body = try await request.decodeBody(UpdateBody.self, context: context)
        // Widening what a key may do, or where from, is as sensitive as making one.
        try accounts.requireRecentSignIn(context.identity.session)
        return APIKeyObject(
            try await keys.updateProjectKey(
                project: try context.parameters.require("project_id"), key: try context.parameters.require("key_id"),
                change: body.change, membership: context.membership, user: context.identity.user,
                actor: context.actor))
    }

    @Sendable func disable(_ request: Request, context: OrganizationContext) async throws -> APIKeyObject {
        APIKeyObject(
            try await keys.disableProjectKey(
                project: try context.parameters.require("project_id"), key: try context.parameters.require("key_id"),
                membership: context.membership, user: context.identity.user, actor: context.actor))
    }

    @Sendable func enable(_ request: Request, context: OrganizationContext) async throws -> APIKeyObject {
        try accounts.requireRecentSignIn(context.identity.session)
        return APIKeyObject(
            try await keys.enableProjectKey(
                project: try context.parameters.require("project_id"), key: try context.parameters.require("key_id"),
                membership: context.membership, user: context.identity.user, actor: context.actor))
    }

    struct RotateBody: JSONRequestBody {
        static let fields: Set<String> = ["grace_period_seconds"]
        let gracePeriodSeconds: Int?

        enum CodingKeys: String, CodingKey {
            case gracePeriodSeconds = "grace_period_seconds"
        }
    }

    @Sendable func rotate(_ request: Request, context: OrganizationContext) async throws -> Created<APIKeyObject> {
        let body = try await request.decodeBody(RotateBody.self, context: context)
        try accounts.requireRecentSignIn(context.identity.session)
        let issued = try await keys.rotate(
            project: try context.parameters.require("project_id"), key: try context.parameters.require("key_id"),
            gracePeriod: body.gracePeriodSeconds, idempotencyKey: request.headers[.init("Idempotency-Key")!],
            membership: context.membership, user: context.identity.user, actor: context.actor)
        return Created(body: APIKeyObject(issued.key, value: issued.value))
    }

    struct ServiceAccountBody: JSONRequestBody {
        static let fields: Set<String> = ["name", "expires_in_seconds", "allowed_ips"]
        let name: String
        let expiresInSeconds: Int?
        let allowedIPs: [String]?

        enum CodingKeys: String, CodingKey {
            case name
            case expiresInSeconds = "expires_in_seconds"
            case allowedIPs = "allowed_ips"
        }
    }

    struct ServiceAccountObject: ResponseEncodable {
        let object = "organization.project.service_account"
        let id: String
        let name: String
        let role = "member"
        let createdAt: Int64
        let apiKey: APIKeyObject

        enum CodingKeys: String, CodingKey {
            case object, id, name, role
            case createdAt = "created_at"
            case apiKey = "api_key"
        }
    }

    @Sendable func createServiceAccount(
        _ request: Request, context: OrganizationContext
    ) async throws
        -> Created<ServiceAccountObject>
    {
        let body = try await request.decodeBody(ServiceAccountBody.self, context: context)
        try accounts.requireRecentSignIn(context.identity.session)
        let (account, issued) = try await keys.createServiceAccount(
            project: try context.parameters.require("project_id"), name: body.name,
            expiresInSeconds: body.expiresInSeconds, allowedIPs: body.allowedIPs, membership: context.membership,
            user: context.identity.user, actor: context.actor)
        return Created(
            body: ServiceAccountObject(
                id: account.id.rawValue, name: account.name, createdAt: account.createdAt.unixSeconds,
                apiKey: APIKeyObject(issued.key, value: issued.value)))
    }

    struct AdminBody: JSONRequestBody {
        static let fields: Set<String> = ["name", "expires_in_seconds", "allowed_ips"]
        let name: String?
        let expiresInSeconds: Int?
        let allowedIPs: [String]?

        enum CodingKeys: String, CodingKey {
            case name
            case expiresInSeconds = "expires_in_seconds"
            case allowedIPs = "allowed_ips"
        }
    }

    @Sendable func createAdmin(_ request: Request, context: OrganizationContext) async throws -> Created<APIKeyObject> {
        let body = try await request.decodeBody(AdminBody.self, context: context)
        try accounts.requireRecentSignIn(context.identity.session)
        let settings = try APIKeyService.Request(
            name: body.name, permissions: .all, expiresInSeconds: body.expiresInSeconds, allowedIPs: body.allowedIPs)
        let issued = try await keys.createAdminKey(
            request: settings, membership: context.membership, user: context.identity.user, actor: context.actor)
        return Created(body: APIKeyObject(issued.key, value: issued.value))
    }

    @Sendable func listAdmin(
        _ request: Request, context: OrganizationContext
    ) async throws
        -> ListObject<APIKeyObject>
    {
        let page = try await keys.adminKeys(
            membership: context.membership, after: request.textQuery("after"), limit: try request.pageLimit())
        return ListObject(page.items.map { APIKeyObject($0) }, id: \.id, hasMore: page.hasMore)
    }

    @Sendable func deleteAdmin(_ request: Request, context: OrganizationContext) async throws -> DeletedObject {
        let key = try await keys.deleteAdminKey(
            try context.parameters.require("key_id"), membership: context.membership, actor: context.actor)
        return DeletedObject(object: "organization.admin_api_key.deleted", id: key.id.rawValue)
    }

    @Sendable func createWithKey(_ request: Request, context: APIKeyContext) async throws -> Created<APIKeyObject> {
        let body = try await request.decodeBody(CreateBody.self, context: context)
        let issued = try await keys.createWithKey(context.apiKey, request: try body.request)
        return Created(body: APIKeyObject(issued.key, value: issued.value))
    }
}

/// A key as the API shows it; `value` only in the response that creates it.
struct APIKeyObject: ResponseEncodable {
    let object: String
    let id: String
    let name: String
    let redactedValue: String
    var value: String?
    @ExplicitNull var projectID: String?
    let owner: Owner
    let permissions: String
    let scopes: [String]
    let createdAt: Int64
    @ExplicitNull var lastUsedAt: Int64?
    @ExplicitNull var expiresAt: Int64?
    @ExplicitNull var revokedAt: Int64?
    let legacy: Bool
    @ExplicitNull var rotatedFrom: String?
    @ExplicitNull var disabledAt: Int64?
    /// Normalised addresses and CIDR ranges; empty for any address.
    let allowedIPs: [String]

    struct Owner: Encodable, Sendable {
        let type: String
        let id: String
    }

    init(_ key: APIKey, value: String? = nil) {
        object = key.kind == .admin ? "organization.admin_api_key" : "organization.project.api_key"
        id = key.id.rawValue
        name = key.name
        redactedValue = key.redactedValue
        self.value = value
        projectID = key.projectID?.rawValue
        owner = Owner(type: key.owner.type, id: key.owner.id)
        permissions = key.permissions.name
        scopes = key.permissions.scopes
        createdAt = key.createdAt.unixSeconds
        lastUsedAt = key.lastUsedAt?.unixSeconds
        expiresAt = key.expiresAt?.unixSeconds
        revokedAt = key.revokedAt?.unixSeconds
        legacy = key.legacy
        rotatedFrom = key.rotatedFrom?.rawValue
        disabledAt = key.disabledAt?.unixSeconds
        allowedIPs = key.allowedIPs.texts
    }

    enum CodingKeys: String, CodingKey {
        case object, id, name, value, owner, permissions, scopes, legacy
        case redactedValue = "redacted_value"
        case projectID = "project_id"
        case createdAt = "created_at"
        case lastUsedAt = "last_used_at"
        case expiresAt = "expires_at"
        case revokedAt = "revoked_at"
        case rotatedFrom = "rotated_from"
        case disabledAt = "disabled_at"
        case allowedIPs = "allowed_ips"
    }
}

/// `{object, id, deleted: true}`.
struct DeletedObject: ResponseEncodable {
    let object: String
    let id: String
    let deleted = true
}
