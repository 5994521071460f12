import Crypto
import Foundation

/// Creates, lists, rotates and revokes keys. Every path that creates a key goes through
/// ``issue(_:organization:project:request:owner:creator:actor:rotation:)``, or asks the
/// ``KeyIssuancePolicy`` the same way through ``authorize(_:creator:now:)``.
///
/// The work is spread over extensions, one concept each: issuance, management, the operator's
/// command line, importing, and keeping the index in step with storage.
public struct APIKeyService: Sendable {
    let keys: any APIKeyRepository
    let projects: any ProjectRepository
    let accounts: any AccountRepository
    let verifications: any PhoneVerificationRepository
    let audit: any AuditLogRepository
    /// The in-memory index the gateway and `/v1/keys/verify` read.
    public let index: APIKeyIndex
    let format: APIKeyFormat
    let policy: KeyIssuancePolicy
    let rotationKey: SymmetricKey
    let clock: Clock
    /// Whether a person must have confirmed their email address before they make or rotate keys.
    let emailConfirmation: EmailConfirmationRule

    /// Creates the service.
    public init(
        keys: any APIKeyRepository, projects: any ProjectRepository, accounts: any AccountRepository,
        verifications: any PhoneVerificationRepository, audit: any AuditLogRepository, index: APIKeyIndex,
        policy: KeyIssuancePolicy, serverSecret: String, clock: Clock,
        emailConfirmation: EmailConfirmationRule = .notRequired
    ) {
        self.keys = keys
        self.projects = projects
        self.accounts = accounts
        self.verifications = verifications
        self.audit = audit
        self.index = index
        self.format = index.format
        self.policy = policy
        self.rotationKey = SymmetricKey(
            data: HMAC<SHA256>.authenticationCode(
                for: Data("keywarden/keys/rotation".utf8), using: SymmetricKey(data: Data(serverSecret.utf8))))
        self.clock = clock
        self.emailConfirmation = emailConfirmation
    }

    // MARK: Shared steps

    /// A project of the organization, archived or not.
    func existingProject(_ raw: String, in organization: OrganizationID) async throws -> Project {
        guard let id = ProjectID(raw), let project = try await projects.project(id, in: organization) else {
            throw DomainError.projectNotFound(raw)
        }
        return project
    }

    /// A project of the organization whose keys may still change; refuses an archived one.
    func activeProject(_ raw: String, in organization: OrganizationID) async throws -> Project {
        let project = try await existingProject(raw, in: organization)
        guard !project.isArchived else {
            throw DomainError(
                .conflict, code: .projectArchived,
                message: "Project '\(project.id)' is archived; its keys can no longer change.", param: "project_id")
        }
        return project
    }

    /// Records an event about a key: its id, name, redacted value and project, and `extra`.
    func record(_ type: AuditEventType, _ key: APIKey, actor: AuditActor, extra: [String: String] = [:]) async throws {
        var details = ["id": key.id.rawValue, "name": key.name, "redacted_value": key.redactedValue]
        if let project = key.projectID { details["project_id"] = project.rawValue }
        details.merge(extra) { $1 }
        try await record(type, organization: key.organizationID, actor: actor, details: details)
    }

    /// Appends an event to the organization's audit log, effective now.
    func record(
        _ type: AuditEventType, organization: OrganizationID, actor: AuditActor, details: [String: String]
    )
        async throws
    {
        try await audit.append(
            AuditEvent(
                organizationID: organization, type: type, effectiveAt: clock.now(), actor: actor, details: details))
    }

    /// `api_key_not_found` for the key id a caller named.
    static func keyNotFound(_ id: String) -> DomainError {
        DomainError(
            .notFound, code: .apiKeyNotFound, message: "No API key with id '\(id)' exists here.", param: "key_id")
    }
}
