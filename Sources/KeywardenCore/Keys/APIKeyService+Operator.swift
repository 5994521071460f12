/// What the operator does with keys from the command line, where no one is signed in.
extension APIKeyService {
    /// The project and organization of a project id, for the command line.
    public func operatorProject(_ raw: String) async throws -> (Project, Organization) {
        guard let id = ProjectID(raw), let project = try await projects.project(id),
            let organization = try await accounts.organization(id: project.organizationID)
        else { throw DomainError.projectNotFound(raw) }
        return (project, organization)
    }

    /// Creates a project key from the command line; the organization's first owner owns it.
    /// The issuance policy applies as on every other path.
    public func createByOperator(project raw: String, request: Request) async throws -> IssuedAPIKey {
        let (project, organization) = try await operatorProject(raw)
        guard !project.isArchived else { throw DomainError.projectNotFound(raw) }
        guard let owner = try await accounts.members(of: organization.id).first(where: { $0.role == .owner }) else {
            throw DomainError.organizationNotFound
        }
        return try await issue(
            .project, organization: organization, project: project.id, request: request, owner: .user(owner.user.id),
            creator: owner.user.id, actor: .operator)
    }

    /// A project's keys, for the command line.
    public func keysByOperator(project raw: String) async throws -> [APIKey] {
        let (project, organization) = try await operatorProject(raw)
        var all: [APIKey] = []
        var after: APIKeyID?
        repeat {
            let page = try await keys.keys(in: organization.id, project: project.id, after: after, limit: 100)
            all += page.items
            after = page.hasMore ? page.items.last?.id : nil
        } while after != nil
        return all
    }

    /// Revokes any key from the command line.
    public func revokeByOperator(_ raw: String) async throws -> APIKey {
        try await revoke(try await operatorKey(raw), actor: .operator)
    }

    /// Changes any key's name, permissions or allowed IP ranges from the command line, by the
    /// rules the API applies.
    public func updateByOperator(_ raw: String, change: Change) async throws -> APIKey {
        try await update(try await operatorKey(raw), change: change, actor: .operator)
    }

    /// Disables any key from the command line until it is enabled again.
    public func disableByOperator(_ raw: String) async throws -> APIKey {
        try await disable(try await operatorKey(raw), actor: .operator)
    }

    /// Enables a disabled key again from the command line; a revoked or expired one stays so.
    public func enableByOperator(_ raw: String) async throws -> APIKey {
        try await enable(try await operatorKey(raw), actor: .operator)
    }

    /// The key with this id, in any organization.
    private func operatorKey(_ raw: String) async throws -> APIKey {
        guard let id = APIKeyID(raw), let key = try await keys.key(id) else { throw Self.keyNotFound(raw) }
        return key
    }
}
