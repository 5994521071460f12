import Foundation
import KeywardenCore
import SQLKit

/// Support requests in SQL. A partial unique index keeps one open request per organization, and
/// a decision changes the request and its organization in one transaction.
public struct SQLSupportRequestRepository: SupportRequestRepository {
    let database: DatabaseClient

    /// Creates the repository over a database.
    public init(database: DatabaseClient) {
        self.database = database
    }

    static let columns = """
        id, organization_id, user_id, email, reason, details, status, created_at, decided_at, decided_by, \
        decline_reason
        """

    public func create(_ request: SupportRequest) async throws -> Bool {
        try await database.withConnection { db in
            // The only uniqueness the insert can meet is `support_requests_one_open` (ids are
            // random), so of two owners filing at once one stores a request and the other learns
            // there is one.
            try await db.raw(
                """
                INSERT INTO support_requests (\(unsafeRaw: Self.columns))
                VALUES (\(bind: request.id.rawValue), \(bind: request.organizationID.rawValue),
                        \(bind: request.userID.rawValue), \(bind: request.email), \(bind: request.reason.rawValue),
                        \(bind: request.details), \(bind: request.status.rawValue),
                        \(bind: request.createdAt.unixMilliseconds), \(bind: request.decidedAt?.unixMilliseconds),
                        \(bind: request.decidedBy), \(bind: request.declineReason))
                ON CONFLICT DO NOTHING
                RETURNING id
                """
            ).first() != nil
        }
    }

    public func request(_ id: SupportRequestID) async throws -> SupportRequest? {
        try await database.withConnection { db in
            try await db.raw(
                "SELECT \(unsafeRaw: Self.columns) FROM support_requests WHERE id = \(bind: id.rawValue)"
            ).first()?.supportRequest()
        }
    }

    public func requests(in organization: OrganizationID, limit: Int) async throws -> [SupportRequest] {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT \(unsafeRaw: Self.columns) FROM support_requests
                WHERE organization_id = \(bind: organization.rawValue)
                ORDER BY created_at DESC, id DESC LIMIT \(literal: max(limit, 1))
                """
            ).all().map { try $0.supportRequest() }
        }
    }

    public func queue(
        status: SupportRequest.Status?, after: SupportRequestID?, limit: Int
    ) async throws -> Page<SupportRequest> {
        let limit = max(limit, 1)
        return try await database.withConnection { db in
            let filter: SQLQueryString = """
                (\(bind: status == nil ? 1 : 0) = 1 OR status = \(bind: status?.rawValue ?? ""))
                """
            // Open requests wait their turn, oldest first; decided ones are looked back on.
            let descending = status != .open
            var position: (time: Int64, id: String)?
            if let after {
                guard
                    let row = try await db.raw(
                        // Only a position: a request decided since it was listed still marks where to go on.
                        "SELECT created_at, id FROM support_requests WHERE id = \(bind: after.rawValue)"
                    ).first()
                else { throw DomainError.unknownCursor }
                position = (time: try row.decode(column: "created_at", as: Int64.self), id: try row.string("id"))
            }
            let keyset = Keyset(timeColumn: "created_at", descending: descending, position: position)
            let rows = try await db.raw(
                """
                SELECT \(unsafeRaw: Self.columns) FROM support_requests
                WHERE \(filter) AND \(keyset.condition)
                \(keyset.orderAndLimit(limit))
                """
            ).all()
            return Keyset.page(try rows.map { try $0.supportRequest() }, limit: limit)
        }
    }

    public func approve(
        _ id: SupportRequestID, by operatorEmail: String, at now: Date, recording events: [AuditEvent]
    ) async throws -> SupportDecision {
        try await database.withTransaction { db -> SupportDecision in
            guard
                let request = try await db.raw(
                    """
                    UPDATE support_requests
                    SET status = 'approved', decided_at = \(bind: now.unixMilliseconds), decided_by = \(bind: operatorEmail)
                    WHERE id = \(bind: id.rawValue) AND status = 'open'
                    RETURNING \(unsafeRaw: Self.columns)
                    """
                ).first()?.supportRequest()
            else { return try await Self.undecided(id, db: db) }
            if request.reason == .suspensionAppeal {
                try await db.raw(
                    """
                    UPDATE organizations SET suspended_at = NULL, suspension_reason = NULL
                    WHERE id = \(bind: request.organizationID.rawValue)
                    """
                ).run()
            } else {
                // An organization that verified a number meanwhile keeps that.
                try await db.raw(
                    """
                    UPDATE organizations
                    SET verification_status = 'exempt', verification_method = 'support',
                        verified_at = \(bind: now.unixMilliseconds), verified_by = \(bind: operatorEmail)
                    WHERE id = \(bind: request.organizationID.rawValue) AND verification_status = 'unverified'
                    """
                ).run()
            }
            for event in events { try await SQLAuditLogRepository.insert(event, on: db) }
            return .decided(request)
        }
    }

    public func decline(
        _ id: SupportRequestID, reason: String, by operatorEmail: String, at now: Date, recording events: [AuditEvent]
    ) async throws -> SupportDecision {
        try await database.withTransaction { db -> SupportDecision in
            guard
                let request = try await db.raw(
                    """
                    UPDATE support_requests
                    SET status = 'declined', decided_at = \(bind: now.unixMilliseconds),
                        decided_by = \(bind: operatorEmail), decline_reason = \(bind: reason)
                    WHERE id = \(bind: id.rawValue) AND status = 'open'
                    RETURNING \(unsafeRaw: Self.columns)
                    """
                ).first()?.supportRequest()
            else { return try await Self.undecided(id, db: db) }
            for event in events { try await SQLAuditLogRepository.insert(event, on: db) }
            return .decided(request)
        }
    }

    /// Why a request was not decided now: it is decided already, or it does not exist.
    static func undecided(_ id: SupportRequestID, db: any SQLDatabase) async throws -> SupportDecision {
        guard
            let row = try await db.raw("SELECT status FROM support_requests WHERE id = \(bind: id.rawValue)").first()
        else { return .notFound }
        return .notOpen(try row.supportRequestStatus())
    }
}

extension SQLRow {
    /// A row of `support_requests` read with ``SQLSupportRequestRepository/columns``.
    func supportRequest() throws -> SupportRequest {
        let rawReason = try string("reason")
        guard let reason = SupportReason(rawValue: rawReason) else {
            throw StorageError.corruptRow("unknown support request reason '\(rawReason)'")
        }
        return SupportRequest(
            id: SupportRequestID(unchecked: try string("id")),
            organizationID: OrganizationID(unchecked: try string("organization_id")),
            userID: UserID(unchecked: try string("user_id")), email: try string("email"), reason: reason,
            details: try string("details"), status: try supportRequestStatus(), createdAt: try date("created_at"),
            decidedAt: try optionalDate("decided_at"), decidedBy: try decode(column: "decided_by", as: String?.self),
            declineReason: try decode(column: "decline_reason", as: String?.self))
    }

    func supportRequestStatus() throws -> SupportRequest.Status {
        let raw = try string("status")
        guard let status = SupportRequest.Status(rawValue: raw) else {
            throw StorageError.corruptRow("unknown support request status '\(raw)'")
        }
        return status
    }
}
