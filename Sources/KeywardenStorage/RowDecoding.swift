import Foundation
import KeywardenCore
import SQLKit

/// Times are stored as Unix milliseconds in BIGINT columns, the same on both backends.
/// Milliseconds, not seconds, so that lists ordered by time keep the order in which
/// things were made even when several are made within one second.
extension Date {
    /// Saturates instead of trapping: a date outside `Int64` milliseconds (about 292 million
    /// years either side of 1970) is stored as the nearest representable one.
    var unixMilliseconds: Int64 { Int64(saturating: (timeIntervalSince1970 * 1000).rounded()) }

    init(unixMilliseconds: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(unixMilliseconds) / 1000)
    }
}

extension SQLRow {
    func date(_ column: String) throws -> Date {
        Date(unixMilliseconds: try decode(column: column, as: Int64.self))
    }

    func optionalDate(_ column: String) throws -> Date? {
        try decode(column: column, as: Int64?.self).map(Date.init(unixMilliseconds:))
    }

    func string(_ column: String) throws -> String {
        try decode(column: column, as: String.self)
    }

    func flag(_ column: String) throws -> Bool {
        try decode(column: column, as: Int64.self) != 0
    }

    func user(prefix: String = "") throws -> User {
        User(
            id: UserID(unchecked: try string(prefix + "id")),
            email: EmailAddress(stored: try string(prefix + "email")),
            name: try string(prefix + "name"),
            createdAt: try date(prefix + "created_at"),
            emailConfirmedAt: try optionalDate(prefix + "email_confirmed_at"))
    }

    func organization(prefix: String = "") throws -> Organization {
        let rawStatus = try string(prefix + "verification_status")
        guard let status = OrganizationVerification.Status(rawValue: rawStatus) else {
            throw StorageError.corruptRow("unknown verification status '\(rawStatus)'")
        }
        return Organization(
            id: OrganizationID(unchecked: try string(prefix + "id")),
            name: try string(prefix + "name"),
            isPersonal: try flag(prefix + "is_personal"),
            createdAt: try date(prefix + "created_at"),
            verification: OrganizationVerification(
                status: status,
                method: try decode(column: prefix + "verification_method", as: String?.self),
                verifiedAt: try optionalDate(prefix + "verified_at"),
                maskedPhoneNumber: try decode(column: prefix + "phone_masked", as: String?.self),
                approvedBy: try decode(column: prefix + "verified_by", as: String?.self)),
            suspension: try suspension(prefix: prefix))
    }

    /// The suspension stored in an organization's `suspended_at` and `suspension_reason`, if any.
    func suspension(prefix: String = "") throws -> Suspension? {
        guard let suspendedAt = try optionalDate(prefix + "suspended_at") else { return nil }
        return Suspension(
            suspendedAt: suspendedAt,
            reason: try decode(column: prefix + "suspension_reason", as: String?.self) ?? "")
    }

    func project() throws -> Project {
        Project(
            id: ProjectID(unchecked: try string("id")),
            organizationID: OrganizationID(unchecked: try string("organization_id")),
            name: try string("name"),
            isDefault: try flag("is_default"),
            createdAt: try date("created_at"),
            archivedAt: try optionalDate("archived_at"))
    }

    func role(_ column: String) throws -> OrganizationRole {
        let raw = try string(column)
        guard let role = OrganizationRole(rawValue: raw) else {
            throw StorageError.corruptRow("unknown role '\(raw)' in \(column)")
        }
        return role
    }
}

/// A stored row that does not decode into a domain value.
public enum StorageError: Error, CustomStringConvertible {
    case corruptRow(String)

    public var description: String {
        switch self {
        case .corruptRow(let detail): "stored row does not decode: \(detail)"
        }
    }
}
