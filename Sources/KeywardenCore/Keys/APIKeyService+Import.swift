import Foundation

/// Importing keys from an earlier system, from the operator's command line.
extension APIKeyService {
    /// A key from an earlier system: its value or SHA-256, and when it was made.
    public struct ImportedKey: Sendable {
        public var name: String
        public var value: String?
        public var sha256: String?
        public var createdAt: Date

        /// Creates an imported key.
        public init(name: String, value: String?, sha256: String?, createdAt: Date) {
            self.name = name
            self.value = value
            self.sha256 = sha256
            self.createdAt = createdAt
        }
    }

    /// Imports keys into a project, keeping their dates; those made before the enforcement date
    /// are legacy and need no verification. Imports after it follow the policy like any new key.
    public func importKeys(_ imported: [ImportedKey], project rawProject: String) async throws -> [APIKey] {
        let (project, organizationRecord) = try await operatorProject(rawProject)
        let organization = organizationRecord.id
        guard !project.isArchived else { throw DomainError.projectNotFound(rawProject) }
        var created: [APIKey] = []
        for entry in imported {
            let digest: String
            var redacted = "sk-..."
            if let value = entry.value {
                guard format.read(value) != .malformed else {
                    throw DomainError.invalidField("key", "Imported keys must look like \(format.stem)-...")
                }
                digest = APIKeyIndex.digest(value)
                redacted = format.redacted(value)
            } else if let hash = entry.sha256?.lowercased(), hash.count == 64, hash.allSatisfy(\.isHexDigit) {
                digest = hash
            } else {
                throw DomainError.invalidField("sha256", "Each imported key needs a key or a 64-character SHA-256.")
            }
            let createdAt = wholeMilliseconds(entry.createdAt)
            if !policy.isLegacy(createdAt: createdAt) {
                try await authorize(organizationRecord, creator: nil, now: createdAt)
            }
            let key = APIKey(
                id: .generate(), kind: .project, organizationID: organization, projectID: project.id, name: entry.name,
                owner: .serviceAccount(ServiceAccountID(unchecked: "svc_imported")), permissions: .all, digest: digest,
                redactedValue: redacted, createdAt: createdAt, legacy: policy.isLegacy(createdAt: createdAt))
            try await keys.create(key)
            index.put(key)
            try await record(.apiKeyCreated, key, actor: .operator, extra: ["imported": "true"])
            created.append(key)
        }
        return created
    }
}
