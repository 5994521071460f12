import Foundation
import KeywardenCore
import Testing

@Suite("Members, owners and the keys of people who lose access")
struct TeamServiceTests {
    @Test func theLastOwnerCanNeitherLeaveNorBeRemovedNorDemoted() async throws {
        let bench = TeamBench()
        let ada = try await bench.signUp("ada@example.com")
        let grace = try await bench.signUp("grace@example.com")
        try await bench.addReader(grace, to: ada, projectRole: .member)
        let owner = try await bench.membership(in: ada)
        let id = ada.user.id.rawValue
        let teams = bench.teams
        let actor = bench.actor(ada)
        let leave = await refusal { try await teams.removeMember(id, from: owner, by: ada.user, actor: actor) }
        #expect(leave == "last_owner")
        let demote = await refusal { try await teams.changeRole(of: id, to: "reader", in: owner, actor: actor) }
        #expect(demote == "last_owner")
        #expect(try await bench.membership(in: ada).role == .owner)

        // With a second owner, the first may step down and then leave.
        _ = try await teams.changeRole(of: grace.user.id.rawValue, to: "owner", in: owner, actor: actor)
        let demoted = try await teams.changeRole(of: id, to: "reader", in: owner, actor: actor)
        #expect(demoted.role == .reader)
        let stillMember = try await bench.membership(in: ada)
        try await teams.removeMember(id, from: stillMember, by: ada.user, actor: actor)
        // Left with no organization, she gets a new personal one.
        let left = try await bench.repositories.accounts.memberships(of: ada.user.id)
        #expect(left.map(\.organization.id) != [ada.organization.id])
        #expect(left.map(\.organization.isPersonal) == [true])
        let graceNow = try await bench.membership(in: ada, of: grace)
        let lastOne = await refusal {
            try await teams.removeMember(grace.user.id.rawValue, from: graceNow, by: grace.user, actor: actor)
        }
        #expect(lastOne == "last_owner")
        let types = await bench.keys.auditTypes(of: ada)
        #expect(types.suffix(3) == ["user.updated", "user.updated", "user.deleted"])
    }

    @Test func readersCannotChangeOrRemoveOthersButMayLeave() async throws {
        let bench = TeamBench()
        let ada = try await bench.signUp("ada@example.com")
        let grace = try await bench.signUp("grace@example.com")
        try await bench.addReader(grace, to: ada, projectRole: .owner)
        let reader = try await bench.membership(in: ada, of: grace)
        let teams = bench.teams
        let actor = bench.actor(grace)
        let adaID = ada.user.id.rawValue
        #expect(
            await refusal { try await teams.changeRole(of: adaID, to: "reader", in: reader, actor: actor) }
                == "insufficient_permissions")
        #expect(
            await refusal { try await teams.removeMember(adaID, from: reader, by: grace.user, actor: actor) }
                == "insufficient_permissions")
        #expect(try await teams.member(adaID, in: reader).role == .owner)
        try await teams.removeMember(grace.user.id.rawValue, from: reader, by: grace.user, actor: actor)
        #expect(
            try await bench.repositories.accounts.memberships(of: grace.user.id).map(\.organization.id) == [
                grace.organization.id
            ])
        #expect(await refusal { try await teams.member("user_nobody", in: reader) } == "user_not_found")
    }

    @Test func aRemovedMembersKeysStopAtOnceAndOthersKeepWorking() async throws {
        let bench = TeamBench()
        let ada = try await bench.signUp("ada@example.com")
        let grace = try await bench.signUp("grace@example.com")
        try await bench.keys.verify(ada)
        try await bench.addReader(grace, to: ada, projectRole: .member)
        let gracesKey = try await bench.key(in: ada, ownedBy: grace)
        let adasKey = try await bench.key(in: ada, ownedBy: ada)
        #expect(bench.works(gracesKey))

        let owner = try await bench.membership(in: ada)
        try await bench.teams.removeMember(
            grace.user.id.rawValue, from: owner, by: ada.user, actor: bench.actor(ada))
        #expect(!bench.works(gracesKey))
        #expect(bench.works(adasKey))
        let stored = try #require(try await bench.repositories.keys.key(gracesKey.key.id))
        #expect(stored.revokedAt == bench.keys.time.now)
        let events = await bench.repositories.database.auditEvents(in: ada.organization.id)
        let deleted = try #require(events.first { $0.type == .apiKeyDeleted })
        #expect(deleted.details["reason"] == "owner_lost_access")
        #expect(deleted.details["id"] == gracesKey.key.id.rawValue)
        #expect(events.last?.type == .userDeleted)
    }

    @Test func aDemotedOwnerLosesAdminKeysAndKeysOfProjectsTheyWereNotAddedTo() async throws {
        let bench = TeamBench()
        let ada = try await bench.signUp("ada@example.com")
        let grace = try await bench.signUp("grace@example.com")
        try await bench.keys.verify(ada)
        try await bench.keys.add(grace, to: ada, as: .owner)
        let side = try await bench.project(named: "Side", in: ada)
        try await bench.repositories.database.addProjectMember(
            grace.user.id, to: side.id, role: .member, at: bench.keys.time.now)
        let inDefault = try await bench.key(in: ada, ownedBy: grace)
        let graceAsOwner = try await bench.membership(in: ada, of: grace)
        let inSide = try await bench.keys.service.createProjectKey(
            project: side.id.rawValue, request: try bench.keys.keyRequest(), membership: graceAsOwner,
            user: grace.user, actor: bench.actor(grace))
        let admin = try await bench.keys.service.createAdminKey(
            name: "ops", membership: graceAsOwner, user: grace.user, actor: bench.actor(grace))

        _ = try await bench.teams.changeRole(
            of: grace.user.id.rawValue, to: "reader", in: try await bench.membership(in: ada),
            actor: bench.actor(ada))
        #expect(!bench.works(inDefault))
        #expect(!bench.works(admin))
        #expect(bench.works(inSide))
    }

    @Test func removingSomeoneFromAProjectStopsTheirKeysThereUnlessTheyOwnTheOrganization() async throws {
        let bench = TeamBench()
        let ada = try await bench.signUp("ada@example.com")
        let grace = try await bench.signUp("grace@example.com")
        let alan = try await bench.signUp("alan@example.com")
        try await bench.keys.verify(ada)
        try await bench.addReader(grace, to: ada, projectRole: .member)
        try await bench.keys.add(alan, to: ada, as: .owner)
        try await bench.repositories.database.addProjectMember(
            alan.user.id, to: ada.defaultProject.id, role: .viewer, at: bench.keys.time.now)
        let gracesKey = try await bench.key(in: ada, ownedBy: grace)
        let alansKey = try await bench.key(in: ada, ownedBy: alan)
        let owner = try await bench.membership(in: ada)
        let project = ada.defaultProject.id.rawValue
        for person in [grace, alan] {
            try await bench.teams.removeProjectMember(
                project: project, user: person.user.id.rawValue, in: owner, actor: bench.actor(ada))
        }
        #expect(!bench.works(gracesKey))
        #expect(bench.works(alansKey))
        #expect(try await bench.teams.projectMembers(project: project, in: owner).isEmpty)
        let reader = try await bench.membership(in: ada, of: grace)
        #expect(reader.role(in: ada.defaultProject.id) == nil)
        let hidden = await refusal {
            try await bench.keys.service.projectKeys(project: project, membership: reader, after: nil, limit: nil)
        }
        #expect(hidden == "project_not_found")
    }

    @Test func projectUsersMustBelongToTheOrganizationAndOnlyProjectOwnersChangeThem() async throws {
        let bench = TeamBench()
        let ada = try await bench.signUp("ada@example.com")
        let grace = try await bench.signUp("grace@example.com")
        let stranger = try await bench.signUp("stranger@example.com")
        try await bench.addReader(grace, to: ada, projectRole: nil)
        let owner = try await bench.membership(in: ada)
        let project = ada.defaultProject.id.rawValue
        let teams = bench.teams
        let actor = bench.actor(ada)
        #expect(
            await refusal {
                try await teams.addProjectMember(
                    project: project, user: stranger.user.id.rawValue, role: "member", in: owner, actor: actor)
            } == "user_not_found")
        let added = try await teams.addProjectMember(
            project: project, user: grace.user.id.rawValue, role: "viewer", in: owner, actor: actor)
        #expect(added.role == .viewer)
        #expect(
            await refusal {
                try await teams.addProjectMember(
                    project: project, user: grace.user.id.rawValue, role: "owner", in: owner, actor: actor)
            } == "already_member")
        let viewer = try await bench.membership(in: ada, of: grace)
        #expect(
            await refusal {
                try await teams.changeProjectRole(
                    project: project, user: grace.user.id.rawValue, role: "owner", in: viewer, actor: actor)
            } == "insufficient_permissions")
        let changed = try await teams.changeProjectRole(
            project: project, user: grace.user.id.rawValue, role: "member", in: owner, actor: actor)
        #expect(changed.role == .member)
        #expect(
            await refusal {
                try await teams.changeProjectRole(
                    project: project, user: grace.user.id.rawValue, role: "admin", in: owner, actor: actor)
            } == "invalid_value")
        let types = await bench.keys.auditTypes(of: ada)
        #expect(types.suffix(2) == ["project.user.added", "project.user.updated"])
    }

    @Test func aFurtherOrganizationHasItsCreatorAsOwnerAndADefaultProject() async throws {
        let bench = TeamBench()
        let ada = try await bench.signUp("ada@example.com")
        // Memberships list in the order they began; a second later keeps that order unambiguous.
        bench.keys.time.advance(by: 1)
        let (organization, project) = try await bench.teams.createOrganization(
            name: "  Analytical Engines  ", by: ada.user, actor: bench.actor(ada))
        #expect(organization.name == "Analytical Engines")
        #expect(!organization.isPersonal)
        #expect(project.isDefault)
        let memberships = try await bench.repositories.accounts.memberships(of: ada.user.id)
        #expect(memberships.map(\.organization.id) == [ada.organization.id, organization.id])
        #expect(memberships.last?.role == .owner)
        let types = await bench.repositories.database.auditEvents(in: organization.id).map(\.type)
        #expect(types == [.organizationCreated])
        let unnamed = await refusal {
            try await bench.teams.createOrganization(name: " ", by: ada.user, actor: .system)
        }
        #expect(unnamed == "missing_required_parameter")
    }
}
