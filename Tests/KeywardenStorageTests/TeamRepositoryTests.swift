import Foundation
import KeywardenCore
import KeywardenStorage
import Testing

@Suite("TeamRepository contract")
struct TeamRepositoryTests {
    /// Ada's account, and Grace's, whom the test adds to Ada's organization as `role`.
    func twoPeople(_ database: DatabaseClient, graceAs role: OrganizationRole?) async throws -> (NewAccount, NewAccount)
    {
        let accounts = SQLAccountRepository(database: database)
        let ada = try makeAccount(email: "ada@example.com")
        let grace = try makeAccount(email: "grace@example.com")
        try await accounts.createAccount(ada)
        try await accounts.createAccount(grace)
        if let role {
            try await database.withConnection { db in
                try await db.raw(
                    """
                    INSERT INTO organization_members (organization_id, user_id, role, added_at)
                    VALUES (\(bind: ada.organization.id.rawValue), \(bind: grace.user.id.rawValue),
                            \(bind: role.rawValue), \(bind: Int64(1_750_000_001_000)))
                    """
                ).run()
            }
        }
        return (ada, grace)
    }

    func key(
        of owner: NewAccount, in account: NewAccount, project: ProjectID?, kind: APIKeyFormat.Kind = .project
    )
        -> APIKey
    {
        let value = APIKeyFormat().generate(kind)
        return APIKey(
            id: .generate(), kind: kind, organizationID: account.organization.id, projectID: project, name: "k",
            owner: .user(owner.user.id), permissions: .all, digest: APIKeyIndex.digest(value),
            redactedValue: APIKeyFormat().redacted(value), createdAt: epoch)
    }

    @Test(arguments: Backend.available)
    func projectRolesComeWithMembershipsAndProjectMembersAreListed(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let (ada, grace) = try await twoPeople(database, graceAs: .reader)
            let teams = SQLTeamRepository(database: database)
            let project = ada.defaultProject
            #expect(try await teams.setProjectRole(.viewer, of: grace.user.id, in: project, at: epoch) == .added)
            #expect(
                try await teams.setProjectRole(.member, of: grace.user.id, in: project, at: epoch)
                    == .changed(previousRole: .viewer))
            let memberships = try await SQLAccountRepository(database: database).memberships(of: grace.user.id)
            #expect(memberships.map(\.organization.id) == [grace.organization.id, ada.organization.id])
            #expect(memberships.first?.projectRoles == [:])
            #expect(memberships.last?.projectRoles == [project.id: .member])
            let listed = try await teams.projectMembers(of: project.id)
            #expect(listed == [ProjectMember(user: grace.user, role: .member, addedAt: epoch)])
            #expect(try await teams.member(grace.user.id, of: ada.organization.id)?.role == .reader)
            #expect(try await teams.member(grace.user.id, of: .generate()) == nil)
            let stranger = try makeAccount(email: "stranger@example.com")
            try await SQLAccountRepository(database: database).createAccount(stranger)
            #expect(
                try await teams.setProjectRole(.owner, of: stranger.user.id, in: project, at: epoch)
                    == .notOrganizationMember)
            let found = try await SQLProjectRepository(database: database)
                .projects([project.id, grace.defaultProject.id], in: ada.organization.id)
            #expect(found == [project])
        }
    }

    @Test(arguments: Backend.available)
    func theLastOwnerStaysAndAnotherCanStepDown(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let (ada, grace) = try await twoPeople(database, graceAs: .reader)
            let teams = SQLTeamRepository(database: database)
            let organization = ada.organization.id
            #expect(try await teams.changeRole(of: ada.user.id, in: organization, to: .reader, at: epoch) == .lastOwner)
            #expect(try await teams.removeMember(ada.user.id, from: organization, at: epoch) == .lastOwner)
            #expect(try await teams.removeMember(.generate(), from: organization, at: epoch) == .notMember)
            #expect(
                try await teams.changeRole(of: grace.user.id, in: organization, to: .owner, at: epoch)
                    == .changed(previousRole: .reader, revokedKeys: []))
            #expect(
                try await teams.changeRole(of: ada.user.id, in: organization, to: .reader, at: epoch)
                    == .changed(previousRole: .owner, revokedKeys: []))
            #expect(try await teams.member(ada.user.id, of: organization)?.role == .reader)
        }
    }

    @Test(arguments: Backend.available)
    func losingAccessRevokesExactlyTheKeysThePersonCanNoLongerReach(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let (ada, grace) = try await twoPeople(database, graceAs: .owner)
            let teams = SQLTeamRepository(database: database)
            let keys = SQLAPIKeyRepository(database: database)
            let organization = ada.organization.id
            let side = Project(
                id: .generate(), organizationID: organization, name: "Side", isDefault: false, createdAt: epoch)
            try await SQLProjectRepository(database: database).create(side)
            _ = try await teams.setProjectRole(.member, of: grace.user.id, in: side, at: epoch)
            let inDefault = key(of: grace, in: ada, project: ada.defaultProject.id)
            let inSide = key(of: grace, in: ada, project: side.id)
            let admin = key(of: grace, in: ada, project: nil, kind: .admin)
            let adas = key(of: ada, in: ada, project: ada.defaultProject.id)
            let ownOrganization = key(of: grace, in: grace, project: grace.defaultProject.id)
            for key in [inDefault, inSide, admin, adas, ownOrganization] { try await keys.create(key) }
            let later = epoch.addingTimeInterval(60)

            // Demoted: admin keys and the default project's key go; the side project's stays.
            guard
                case .changed(.owner, let demoted) = try await teams.changeRole(
                    of: grace.user.id, in: organization, to: .reader, at: later)
            else { Issue.record("not changed"); return }
            #expect(Set(demoted.map(\.id)) == [inDefault.id, admin.id])
            #expect(demoted.allSatisfy { $0.revokedAt == later })

            // Removed from the side project: its key goes.
            guard
                case .removed(.member, let fromSide) = try await teams.removeProjectMember(
                    grace.user.id, from: side, at: later)
            else { Issue.record("not removed"); return }
            #expect(fromSide.map(\.id) == [inSide.id])
            #expect(try await teams.projectMembers(of: side.id).isEmpty)
            #expect(try await teams.removeProjectMember(grace.user.id, from: side, at: later) == .notProjectMember)

            // Removed from the organization: nothing of hers is left there; her own keys elsewhere stay.
            _ = try await teams.setProjectRole(.viewer, of: grace.user.id, in: side, at: later)
            guard
                case .changed(.reader, let removed) = try await teams.removeMember(
                    grace.user.id, from: organization, at: later)
            else { Issue.record("not removed"); return }
            #expect(removed.isEmpty)
            #expect(try await teams.projectMembers(of: side.id).isEmpty)
            #expect(try await keys.key(adas.id)?.revokedAt == nil)
            #expect(try await keys.key(ownOrganization.id)?.revokedAt == nil)
            let changed = try await keys.keys(changedSince: Date().addingTimeInterval(-60)).map(\.id)
            #expect(Set(changed).isSuperset(of: [inDefault.id, admin.id, inSide.id]))
        }
    }

    @Test(arguments: Backend.available)
    func aFurtherOrganizationIsWrittenWithItsOwnerAndDefaultProject(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let ada = try makeAccount(email: "ada@example.com")
            try await SQLAccountRepository(database: database).createAccount(ada)
            let organization = Organization(
                id: .generate(), name: "Engines", isPersonal: false, createdAt: epoch.addingTimeInterval(5))
            let project = Project(
                id: .generate(), organizationID: organization.id, name: "Default project", isDefault: true,
                createdAt: organization.createdAt)
            try await SQLTeamRepository(database: database)
                .createOrganization(organization, owner: ada.user.id, defaultProject: project)
            let memberships = try await SQLAccountRepository(database: database).memberships(of: ada.user.id)
            #expect(memberships.map(\.organization) == [ada.organization, organization])
            #expect(memberships.last?.role == .owner)
            #expect(
                try await SQLProjectRepository(database: database).project(project.id, in: organization.id) == project)
        }
    }
}
