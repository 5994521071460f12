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
    let rateLimits: RateLimitPolicy

    /// Opens the configured database, which must exist already (migrating SQLite as `serve` would).
    public static func open(configuration: KeywardenConfiguration, logger: Logger) async throws -> Administration {
        let database = try await openDatabase(configuration: configuration, logger: logger, requireExisting: true)
        return Administration(
            database: database, accounts: SQLAccountRepository(database: database),
            verifications: SQLPhoneVerificationRepository(database: database),
            audit: SQLAuditLogRepository(database: database),
            rateLimits: RateLimitPolicy(
                tiers: configuration.gateway.rateLimitTiers,
                settings: SQLRateLimitSettingsRepository(database: database)))
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
        try await verifications.resetVerification(of: organization.id)
        var details = ["previous_status": organization.verification.status.rawValue]
        details["reason"] = reason
        try await audit.append(
            AuditEvent(
                organizationID: organization.id, type: "organization.verification_reset", effectiveAt: Date(),
                actor: .operator, details: details))
    }

    /// Sets an organization's rate-limit tier (`nil`: back to the default), recorded in its audit log.
    public func setTier(_ rawID: String, tier: String?) async throws {
        let organization = try await organization(rawID)
        let previous = try await rateLimits.storedTier(of: organization.id).name
        // Refuses a tier that is not configured (`unknown_tier`).
        try await rateLimits.setTier(tier, of: organization.id, now: Date())
        try await audit.append(
            AuditEvent(
                organizationID: organization.id, type: "organization.rate_limit_tier_updated", effectiveAt: Date(),
                actor: .operator,
                details: ["previous_tier": previous, "tier": tier ?? rateLimits.tiers.defaultTier]))
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

/// Reads the CSV that `keywarden keys import` takes: a header with `name`, `key` or `sha256`, and
/// `created_at` (ISO 8601 or Unix seconds); fields may be quoted.
public enum KeyImportFile {
    /// The keys in the text.
    public static func parse(_ text: String) throws -> [APIKeyService.ImportedKey] {
        let rows = csvRows(text)
        guard let header = rows.first?.map({ $0.trimmingWhitespace().lowercased() }) else { return [] }
        guard let nameColumn = header.firstIndex(of: "name"), let dateColumn = header.firstIndex(of: "created_at")
        else { throw ImportError("the header needs name, created_at and key or sha256 columns") }
        let keyColumn = header.firstIndex(of: "key")
        let digestColumn = header.firstIndex(of: "sha256")
        guard keyColumn != nil || digestColumn != nil else {
            throw ImportError("the header needs a key or a sha256 column")
        }
        return try rows.dropFirst().enumerated().compactMap { offset, row in
            guard !(row.count == 1 && row[0].trimmingWhitespace().isEmpty) else { return nil }
            func field(_ column: Int?) -> String? {
                guard let column, column < row.count else { return nil }
                let value = row[column].trimmingWhitespace()
                return value.isEmpty ? nil : value
            }
            guard let rawDate = field(dateColumn), let date = parseDate(rawDate) else {
                throw ImportError("line \(offset + 2): created_at must be ISO 8601 or Unix seconds")
            }
            guard UnixTime.contains(date), date <= Date() else {
                throw ImportError("line \(offset + 2): created_at must lie between 1970 and now")
            }
            return APIKeyService.ImportedKey(
                name: field(nameColumn) ?? "", value: field(keyColumn), sha256: field(digestColumn), createdAt: date)
        }
    }

    static func parseDate(_ text: String) -> Date? {
        if let seconds = Int(text) {
            return UnixTime.range.contains(seconds) ? Date(timeIntervalSince1970: TimeInterval(seconds)) : nil
        }
        return ISO8601DateFormatter().date(from: text)
    }

    static func csvRows(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var previousWasQuote = false
        for character in text {
            if quoted {
                if character == "\"" {
                    quoted = false
                    previousWasQuote = true
                } else {
                    field.append(character)
                }
                continue
            }
            switch character {
            case "\"":
                // A doubled quote inside a quoted field is a literal quote.
                if previousWasQuote { field.append("\"") }
                quoted = true
            case ",":
                row.append(field)
                field = ""
            case "\n", "\r\n":
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            default:
                field.append(character)
            }
            previousWasQuote = false
        }
        if !field.isEmpty || !row.isEmpty {
            row.append(field)
            rows.append(row)
        }
        return rows
    }

    /// A file that cannot be read.
    public struct ImportError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}
