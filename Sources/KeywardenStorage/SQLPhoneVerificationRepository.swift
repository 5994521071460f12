import Foundation
import KeywardenCore
import SQLKit

/// Phone verifications and organizations' verification state in SQL.
public struct SQLPhoneVerificationRepository: PhoneVerificationRepository {
    let database: DatabaseClient

    /// Creates the repository over a database.
    public init(database: DatabaseClient) {
        self.database = database
    }

    static let columns = """
        id, organization_id, user_id, phone_digest, phone_number, phone_masked, country, status, code_digest, \
        sealed_code, attempts, sends, created_at, expires_at, last_sent_at, next_resend_at, approved_at, delivery, \
        provider_message_id, path, channel
        """

    public func create(_ v: PhoneVerification) async throws {
        try await database.withConnection { db in
            try await db.raw(
                """
                INSERT INTO phone_verifications (\(unsafeRaw: Self.columns))
                VALUES (\(bind: v.id.rawValue), \(bind: v.organizationID.rawValue), \(bind: v.userID.rawValue),
                        \(bind: v.phoneDigest), \(bind: v.sealedPhoneNumber), \(bind: v.maskedPhoneNumber), \(bind: v.country),
                        \(bind: v.status.rawValue), \(bind: v.codeDigest), \(bind: v.sealedCode), \(bind: Int64(v.attempts)),
                        \(bind: Int64(v.sends)), \(bind: v.createdAt.unixMilliseconds), \(bind: v.expiresAt.unixMilliseconds),
                        \(bind: v.lastSentAt.unixMilliseconds), \(bind: v.nextResendAt.unixMilliseconds),
                        \(bind: v.approvedAt?.unixMilliseconds), \(bind: v.delivery?.rawValue), \(bind: v.providerMessageID),
                        \(bind: v.path.rawValue), \(bind: v.channel.rawValue))
                """
            ).run()
        }
    }

    public func verification(
        _ id: PhoneVerificationID, in organization: OrganizationID
    ) async throws
        -> PhoneVerification?
    {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT \(unsafeRaw: Self.columns) FROM phone_verifications
                WHERE id = \(bind: id.rawValue) AND organization_id = \(bind: organization.rawValue)
                """
            ).first()?.phoneVerification()
        }
    }

    public func verification(providerMessageID: String) async throws -> PhoneVerification? {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT \(unsafeRaw: Self.columns) FROM phone_verifications
                WHERE provider_message_id = \(bind: providerMessageID)
                """
            ).first()?.phoneVerification()
        }
    }

    public func pendingVerification(
        in organization: OrganizationID, phoneDigest: String, at now: Date
    ) async throws
        -> PhoneVerification?
    {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT \(unsafeRaw: Self.columns) FROM phone_verifications
                WHERE organization_id = \(bind: organization.rawValue) AND phone_digest = \(bind: phoneDigest)
                  AND status = 'pending' AND expires_at > \(bind: now.unixMilliseconds)
                ORDER BY created_at DESC LIMIT 1
                """
            ).first()?.phoneVerification()
        }
    }

    public func cancelPending(
        in organization: OrganizationID, except id: PhoneVerificationID?, at now: Date
    )
        async throws
    {
        try await database.withConnection { db in
            try await db.raw(
                """
                UPDATE phone_verifications SET status = 'canceled', phone_number = NULL, sealed_code = NULL
                WHERE organization_id = \(bind: organization.rawValue) AND status = 'pending'
                  AND id <> \(bind: id?.rawValue ?? "")
                """
            ).run()
        }
    }

    public func recordCheck(_ id: PhoneVerificationID, maxChecks: Int) async throws -> CheckRecording {
        try await database.withConnection { db in
            // Counted in its own statement, before any comparison: once the budget is spent,
            // no further check reaches the code.
            if let row = try await db.raw(
                """
                UPDATE phone_verifications SET attempts = attempts + 1
                WHERE id = \(bind: id.rawValue) AND status = 'pending' AND attempts < \(bind: Int64(maxChecks))
                RETURNING attempts
                """
            ).first() {
                return .counted(attempts: Int(try row.decode(column: "attempts", as: Int64.self)))
            }
            // Not counted: say why. The status only ever leaves `pending`, so reading it after the
            // update cannot call an ended verification pending.
            let current = try await db.raw(
                "SELECT status FROM phone_verifications WHERE id = \(bind: id.rawValue)"
            ).first()
            guard let current else { return .notPending(.canceled) }
            let status = try current.string("status")
            guard let parsed = PhoneVerification.Status(rawValue: status) else {
                throw StorageError.corruptRow("unknown verification status '\(status)'")
            }
            return parsed == .pending ? .outOfChecks : .notPending(parsed)
        }
    }

    public func recordSend(
        _ id: PhoneVerificationID, at now: Date, nextResendAt: Date, providerMessageID: String?,
        delivery: PhoneVerification.Delivery?
    ) async throws {
        try await database.withConnection { db in
            try await db.raw(
                """
                UPDATE phone_verifications
                SET sends = sends + 1, last_sent_at = \(bind: now.unixMilliseconds),
                    next_resend_at = \(bind: nextResendAt.unixMilliseconds),
                    provider_message_id = \(bind: providerMessageID), delivery = \(bind: delivery?.rawValue)
                WHERE id = \(bind: id.rawValue)
                """
            ).run()
        }
    }

    public func finish(
        _ id: PhoneVerificationID, as status: PhoneVerification.Status, at now: Date
    ) async throws
        -> Bool
    {
        try await database.withConnection { db in
            try await Self.finish(id, as: status, db: db) != nil
        }
    }

    static func finish(
        _ id: PhoneVerificationID, as status: PhoneVerification.Status, db: any SQLDatabase
    )
        async throws -> (any SQLRow)?
    {
        try await db.raw(
            """
            UPDATE phone_verifications SET status = \(bind: status.rawValue), phone_number = NULL, sealed_code = NULL
            WHERE id = \(bind: id.rawValue) AND status = 'pending'
            RETURNING id
            """
        ).first()
    }

    public func approve(
        _ verification: PhoneVerification, at now: Date, maxOrganizationsPerPhone: Int
    ) async throws
        -> ApprovalOutcome
    {
        let backend = database.backend
        return try await database.withTransaction { db -> ApprovalOutcome in
            if backend == .postgres {
                // Serializes approvals of one number across instances, so the limit holds.
                try await db.raw("SELECT pg_advisory_xact_lock(hashtext(\(bind: verification.phoneDigest)))").run()
            }
            let others = try await Self.countOrganizations(
                withPhoneDigest: verification.phoneDigest, excluding: verification.organizationID, db: db)
            guard others < maxOrganizationsPerPhone else { return .phoneLimitReached }
            let approved = try await db.raw(
                """
                UPDATE phone_verifications
                SET status = 'approved', approved_at = \(bind: now.unixMilliseconds), phone_number = NULL,
                    sealed_code = NULL
                WHERE id = \(bind: verification.id.rawValue) AND status = 'pending'
                RETURNING id
                """
            ).first()
            guard approved != nil else { return .notPending }
            let previous = try await db.raw(
                "SELECT verification_status FROM organizations WHERE id = \(bind: verification.organizationID.rawValue)"
            ).first()?.decode(column: "verification_status", as: String.self)
            try await db.raw(
                """
                UPDATE organizations
                SET verification_status = 'verified', verification_method = 'phone', verified_by = NULL,
                    verified_at = \(bind: now.unixMilliseconds), phone_digest = \(bind: verification.phoneDigest),
                    phone_country = \(bind: verification.country), phone_masked = \(bind: verification.maskedPhoneNumber)
                WHERE id = \(bind: verification.organizationID.rawValue)
                """
            ).run()
            return .approved(replaced: previous == OrganizationVerification.Status.verified.rawValue)
        }
    }

    public func updateDelivery(providerMessageID: String, delivery: PhoneVerification.Delivery) async throws {
        try await database.withConnection { db in
            try await db.raw(
                """
                UPDATE phone_verifications SET delivery = \(bind: delivery.rawValue)
                WHERE provider_message_id = \(bind: providerMessageID)
                """
            ).run()
        }
    }

    public func expirePending(at now: Date) async throws -> [PhoneVerification] {
        try await database.withConnection { db in
            try await db.raw(
                """
                UPDATE phone_verifications SET status = 'expired', phone_number = NULL, sealed_code = NULL
                WHERE status = 'pending' AND expires_at <= \(bind: now.unixMilliseconds)
                RETURNING \(unsafeRaw: Self.columns)
                """
            ).all().map { try $0.phoneVerification() }
        }
    }

    public func organizationsVerified(
        withPhoneDigest digest: String, excluding organization: OrganizationID
    )
        async throws -> Int
    {
        try await database.withConnection { db in
            try await Self.countOrganizations(withPhoneDigest: digest, excluding: organization, db: db)
        }
    }

    static func countOrganizations(
        withPhoneDigest digest: String, excluding organization: OrganizationID, db: any SQLDatabase
    ) async throws -> Int {
        let row = try await db.raw(
            """
            SELECT COUNT(*) AS organizations FROM organizations
            WHERE phone_digest = \(bind: digest) AND id <> \(bind: organization.rawValue)
            """
        ).first()
        return Int(try row?.decode(column: "organizations", as: Int64.self) ?? 0)
    }

    public func userHasApprovedVerification(_ user: UserID) async throws -> Bool {
        try await database.withConnection { db in
            try await db.raw(
                "SELECT id FROM phone_verifications WHERE user_id = \(bind: user.rawValue) AND status = 'approved' LIMIT 1"
            ).first() != nil
        }
    }

    public func resetVerification(of organization: OrganizationID) async throws {
        try await database.withConnection { db in
            try await db.raw(
                """
                UPDATE organizations
                SET verification_status = 'unverified', verification_method = NULL, verified_at = NULL,
                    verified_by = NULL, phone_digest = NULL, phone_country = NULL, phone_masked = NULL
                WHERE id = \(bind: organization.rawValue)
                """
            ).run()
        }
    }
}

extension SQLRow {
    func phoneVerification() throws -> PhoneVerification {
        let rawStatus = try string("status")
        guard let status = PhoneVerification.Status(rawValue: rawStatus) else {
            throw StorageError.corruptRow("unknown verification status '\(rawStatus)'")
        }
        return PhoneVerification(
            id: PhoneVerificationID(unchecked: try string("id")),
            organizationID: OrganizationID(unchecked: try string("organization_id")),
            userID: UserID(unchecked: try string("user_id")),
            phoneDigest: try string("phone_digest"),
            sealedPhoneNumber: try decode(column: "phone_number", as: String?.self),
            maskedPhoneNumber: try string("phone_masked"),
            country: try string("country"),
            status: status,
            codeDigest: try decode(column: "code_digest", as: String?.self),
            sealedCode: try decode(column: "sealed_code", as: String?.self),
            attempts: Int(try decode(column: "attempts", as: Int64.self)),
            sends: Int(try decode(column: "sends", as: Int64.self)),
            createdAt: try date("created_at"),
            expiresAt: try date("expires_at"),
            lastSentAt: try date("last_sent_at"),
            nextResendAt: try date("next_resend_at"),
            approvedAt: try optionalDate("approved_at"),
            delivery: try decode(column: "delivery", as: String?.self).flatMap(
                PhoneVerification.Delivery.init(rawValue:)),
            providerMessageID: try decode(column: "provider_message_id", as: String?.self),
            path: VerificationPath(rawValue: try decode(column: "path", as: String?.self) ?? "") ?? .phone,
            channel: MessageChannel(rawValue: try string("channel")) ?? .sms)
    }
}
