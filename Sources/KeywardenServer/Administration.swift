import Foundation
import KeywardenCore
import KeywardenProviders
import KeywardenStorage
import Logging

/// What the operator does from the command line, on the configured database.
public struct Administration: Sendable {
    let database: DatabaseClient
    let accounts: SQLAccountRepository
    let organizations: OrganizationService
    let rateLimits: RateLimitPolicy

    /// Opens the configured database, which must exist already (migrating SQLite as `serve` would).
    ///
    /// - Parameter clock: the time changes are recorded at.
    public static func open(
        configuration: KeywardenConfiguration, logger: Logger, clock: Clock = .live
    ) async throws -> Administration {
        let database = try await openDatabase(configuration: configuration, logger: logger, requireExisting: true)
        let audit = SQLAuditLogRepository(database: database)
        return Administration(
            database: database, accounts: SQLAccountRepository(database: database),
            organizations: OrganizationService(
                verifications: SQLPhoneVerificationRepository(database: database), audit: audit, clock: clock),
            rateLimits: RateLimitPolicy(
                usageTiers: configuration.gateway.usageTiers,
                settings: SQLRateLimitSettingsRepository(database: database), audit: audit, clock: clock))
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
        let tier = try await rateLimits.storedTier(of: organization.id)
        let object: [String: Any] = [
            "id": organization.id.rawValue,
            "rate_limit_tier": tier.name,
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
        try await organizations.resetVerification(of: organization, reason: reason, by: .operator)
    }

    /// Sets an organization's rate-limit tier (`nil`: back to the default), recorded in its audit log.
    public func setTier(_ rawID: String, tier: String?) async throws {
        let organization = try await organization(rawID)
        // Refuses a tier that is not configured (`unknown_tier`).
        try await rateLimits.setTier(tier, of: organization.id, by: .operator)
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

extension KeywardenServices {
    /// The services over the configured database, for command-line tools.
    ///
    /// The database must exist already, and so must the secret: a tool run in the wrong
    /// directory says where it looked instead of creating either.
    public static func open(configuration: KeywardenConfiguration, logger: Logger) async throws -> KeywardenServices {
        let database = try await openDatabase(configuration: configuration, logger: logger, requireExisting: true)
        let secret: String
        do {
            secret = try ServerSecret.resolve(configuration, logger: logger, generate: false)
        } catch {
            try? await database.shutdown()
            throw error
        }
        return KeywardenServices(database: database, configuration: configuration, secret: secret, logger: logger)
    }
}

extension KeywardenServices {
    /// Adds credit to an organization's balance as a grant from the operator, recorded in its
    /// audit log. `amount` is money as a person writes it (`25`, `$25.00`); answers a line saying
    /// what was granted and the balance after.
    public func grantCredits(
        _ rawOrganization: String, amount rawAmount: String, reason: String?
    ) async throws
        -> String
    {
        guard let id = OrganizationID(rawOrganization),
            try await SQLAccountRepository(database: database).organization(id: id) != nil
        else { throw StartupError("no organization with id '\(rawOrganization)'") }
        let currency = billing.settings.currency
        guard let micros = currency.parse(rawAmount) else {
            throw StartupError("'\(rawAmount)' is not an amount of \(currency.code.uppercased()), such as 25 or 25.00")
        }
        let entry = try await billing.grant(micros: micros, to: id, reason: reason, by: .operator)
        let balance = try await SQLBillingRepository(database: database).balance(of: id)
        return
            "granted \(currency.format(micros: entry.amountMicros)) to \(id.rawValue) (\(entry.id.rawValue)); balance \(currency.format(micros: balance))"
    }
}
