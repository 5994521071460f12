import Foundation
import KeywardenCore
import SQLKit

/// How audit events keep who acted and what the event is about: JSON text with sorted keys, in
/// `audit_logs` and `console_events` alike.
enum AuditColumns {
    /// The stored text of an actor or of details.
    static func text(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

extension SQLRow {
    /// The `actor` column of an audit event.
    func auditActor() throws -> AuditActor {
        try JSONDecoder().decode(AuditActor.self, from: Data(try string("actor").utf8))
    }

    /// The `details` column of an audit event.
    func auditDetails() throws -> [String: String] {
        try JSONDecoder().decode([String: String].self, from: Data(try string("details").utf8))
    }
}
