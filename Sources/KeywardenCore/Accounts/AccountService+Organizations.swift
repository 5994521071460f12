import Foundation

extension AccountService {
    /// Renames the caller's organization and records `organization.updated` with the new `name`.
    /// Owners only; the name is checked as project names are (trimmed, required, at most 256
    /// characters, no control characters).
    ///
    /// - Throws: ``DomainError`` `insufficient_permissions` for a reader, `missing_required_parameter`
    ///   or `invalid_value` naming `name`; nothing is changed then.
    public func renameOrganization(
        in membership: Membership, to rawName: String, by actor: AuditActor
    ) async throws -> Organization {
        try membership.require(.renameOrganization)
        let name = try DisplayName.validateRequired(rawName, field: "name")
        guard let renamed = try await accounts.renameOrganization(membership.organization.id, to: name) else {
            throw DomainError.organizationNotFound
        }
        try await audit.append(
            AuditEvent(
                organizationID: renamed.id, type: .organizationUpdated, effectiveAt: clock.now(), actor: actor,
                details: ["name": renamed.name]))
        return renamed
    }
}
