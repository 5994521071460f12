import Foundation
import KeywardenCore
import KeywardenProviders
import KeywardenStorage
import Logging

/// What the operator does from the command line, on the configured database.
public struct Administration: Sendable {
    let database: DatabaseClient
    let accounts: SQLAccountRepository
    let verifications: SQLPhoneVerificationRepository
    let audit: SQLAuditLogRepository

    /// Opens the configured database (migrating SQLite as `serve` would).
    public static func open(configuration: KeywardenConfiguration, logger: Logger) async throws -> Administration {
        let database = try await openDatabase(configuration: configuration, logger: logger)
        return Administration(
            database: database, accounts: SQLAccountRepository(database: database),
            verifications: SQLPhoneVerificationRepository(database: database),
            audit: SQLAuditLogRepository(database: database))
    }

    /// Closes the database.
    public func close() async throws {
        try await database.shutdown()
    }

    /// An organization, its verification and its members, as JSON text.
    public func showOrganization(_ rawID: String) async throws -> String {
        let organization = try await organization(rawID)
        let members = try await accounts.members(of: organization.id)
        let verification = organization.verification
        let object: [String: Any] = [
            "id": organization.id.rawValue,
            "name": organization.name,
            "created_at": Int(organization.createdAt.timeIntervalSince1970),
            "verification": [
                "status": verification.status.rawValue,
                "method": verification.method ?? NSNull(),
                "verified_at": verification.verifiedAt.map { Int($0.timeIntervalSince1970) } ?? NSNull(),
                "phone_number": verification.maskedPhoneNumber ?? NSNull(),
            ] as [String: Any],
            "members": members.map {
                ["id": $0.user.id.rawValue, "email": $0.user.email.value, "role": $0.role.rawValue]
            },
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// Returns an organization to unverified, recording the operator's action in its audit log.
    public func resetVerification(_ rawID: String, reason: String?) async throws {
        let organization = try await organization(rawID)
        try await verifications.resetVerification(of: organization.id)
        var details = ["previous_status": organization.verification.status.rawValue]
        details["reason"] = reason
        try await audit.append(
            AuditEvent(
                organizationID: organization.id, type: "organization.verification_reset", effectiveAt: Date(),
                actor: .operator, details: details))
    }

    private func organization(_ rawID: String) async throws -> Organization {
        guard let id = OrganizationID(rawID), let organization = try await accounts.organization(id: id) else {
            throw StartupError("no organization with id '\(rawID)'")
        }
        return organization
    }
}

/// The development outbox, for `keywarden outbox`.
public enum KeywardenOutbox {
    /// One message.
    public typealias Entry = KeywardenProviders.Outbox.Entry

    /// The last `count` messages in the data directory's outbox.
    public static func latest(in directory: String, count: Int) throws -> [Entry] {
        try KeywardenProviders.Outbox.latest(in: directory, count: count)
    }
}
