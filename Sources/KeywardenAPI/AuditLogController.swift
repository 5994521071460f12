import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// `GET /v1/organization/audit_logs`, in OpenAI's shape.
public struct AuditLogController: Sendable {
    let audit: any AuditLogRepository

    /// Creates the controller.
    public init(audit: any AuditLogRepository) {
        self.audit = audit
    }

    /// Registers the route.
    public func addRoutes(to router: CatalogingRouter<KeywardenRequestContext>) {
        router.group("/v1/organization", context: OrganizationContext.self).get("audit_logs", use: list)
    }

    @Sendable func list(_ request: Request, context: OrganizationContext) async throws -> ListObject<AuditLogObject> {
        // The log names every project and key, so only organization owners read it.
        try context.membership.require(.readAuditLog)
        let limit = try request.pageLimit()
        var after: AuditEventID?
        if let raw = request.textQuery("after") {
            guard let id = AuditEventID(raw) else { throw DomainError.malformedCursor(expected: "an audit event id") }
            after = id
        }
        let types = try request.queryValues("event_types[]").map { raw in
            guard let type = AuditEventType(rawValue: String(raw)) else {
                throw DomainError.invalidField(
                    "event_types[]",
                    "'\(raw)' is not an audit event type. Types: "
                        + AuditEventType.allCases.map(\.rawValue).joined(separator: ", ") + ".")
            }
            return type
        }
        let page = try await audit.events(
            in: context.membership.organization.id, types: types.isEmpty ? nil : types, from: nil, until: nil,
            after: after, limit: limit)
        return ListObject(page.items.map(AuditLogObject.init), id: \.id, hasMore: page.hasMore)
    }
}

/// One audit event: `{id, type, effective_at, actor, "<type>": {details}}`.
struct AuditLogObject: Encodable, Sendable {
    let id: String
    let type: AuditEventType
    let effectiveAt: Int64
    let actor: AuditActor
    let details: [String: String]

    init(_ event: AuditEvent) {
        id = event.id.rawValue
        type = event.type
        effectiveAt = event.effectiveAt.unixSeconds
        actor = event.actor
        details = event.details
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode("organization.audit_log", forKey: Key(stringValue: "object"))
        try container.encode(id, forKey: Key(stringValue: "id"))
        try container.encode(type.rawValue, forKey: Key(stringValue: "type"))
        try container.encode(effectiveAt, forKey: Key(stringValue: "effective_at"))
        try container.encode(AuditActorObject(actor, showsOperatorAddress: false), forKey: Key(stringValue: "actor"))
        try container.encode(details, forKey: Key(stringValue: type.rawValue))
    }
}
