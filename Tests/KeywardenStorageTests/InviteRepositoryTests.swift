import Foundation
import KeywardenCore
import KeywardenStorage
import Testing

@Suite("InviteRepository contract")
struct InviteRepositoryTests {
    func makeInvite(
        _ account: NewAccount, email: String, role: OrganizationRole = .reader, at date: Date = epoch
    )
        throws -> Invite
    {
        Invite(
            id: .generate(), organizationID: account.organization.id, email: try EmailAddress(normalizing: email),
            role: role, projects: [InviteGrant(projectID: account.defaultProject.id, role: .viewer)],
            invitedBy: account.user.id, invitedAt: date, expiresAt: date.addingTimeInterval(3600))
    }

    @Test(arguments: Backend.available)
    func invitesReadBackByIdAndTokenAndANewOneReplacesThePending(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let ada = try makeAccount(email: "ada@example.com")
            try await SQLAccountRepository(database: database).createAccount(ada)
            let invites = SQLInviteRepository(database: database)
            let first = try makeInvite(ada, email: "grace@example.com")
            #expect(try await invites.create(first, tokenDigest: "digest-1").isEmpty)
            #expect(try await invites.invite(first.id, in: ada.organization.id) == first)
            #expect(try await invites.invite(first.id, in: .generate()) == nil)
            #expect(try await invites.invite(tokenDigest: "digest-1") == first)
            #expect(try await invites.invite(tokenDigest: "digest-2") == nil)

            let second = try makeInvite(ada, email: "grace@example.com", role: .owner, at: epoch.addingTimeInterval(1))
            #expect(try await invites.create(second, tokenDigest: "digest-2") == [first.id])
            #expect(try await invites.invite(tokenDigest: "digest-1") == nil)
            let other = try makeInvite(ada, email: "alan@example.com", at: epoch.addingTimeInterval(2))
            _ = try await invites.create(other, tokenDigest: "digest-3")
            let page = try await invites.invites(in: ada.organization.id, after: nil, limit: 1)
            #expect(page.items == [second])
            #expect(page.hasMore)
            let rest = try await invites.invites(in: ada.organization.id, after: second.id, limit: 5)
            #expect(rest.items == [other])
            await #expect(throws: DomainError.self) {
                try await invites.invites(in: ada.organization.id, after: first.id, limit: 5)
            }
        }
    }

    @Test(arguments: Backend.available)
    func acceptingAddsTheMembershipAndProjectsOnceAndOnlyUnderTheCurrentToken(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let accounts = SQLAccountRepository(database: database)
            let ada = try makeAccount(email: "ada@example.com")
            let grace = try makeAccount(email: "grace@example.com")
            try await accounts.createAccount(ada)
            try await accounts.createAccount(grace)
            let invites = SQLInviteRepository(database: database)
            let invite = try makeInvite(ada, email: "grace@example.com")
            _ = try await invites.create(invite, tokenDigest: "old")
            let renewed = try #require(
                try await invites.renew(
                    invite.id, in: ada.organization.id, tokenDigest: "new", expiresAt: epoch.addingTimeInterval(7200)))
            #expect(renewed.expiresAt == epoch.addingTimeInterval(7200))
            let at = epoch.addingTimeInterval(10)
            #expect(try await invites.accept(invite.id, tokenDigest: "old", by: grace.user.id, at: at) == .notPending)
            let expired = epoch.addingTimeInterval(7200)
            #expect(
                try await invites.accept(invite.id, tokenDigest: "new", by: grace.user.id, at: expired) == .notPending)

            guard
                case .accepted(let accepted) = try await invites.accept(
                    invite.id, tokenDigest: "new", by: grace.user.id, at: at)
            else { Issue.record("not accepted"); return }
            #expect(accepted.acceptedAt == at)
            let membership = try #require(
                try await accounts.memberships(of: grace.user.id).first { $0.organization.id == ada.organization.id })
            #expect(membership.role == .reader)
            #expect(membership.addedAt == at)
            #expect(membership.projectRoles == [ada.defaultProject.id: .viewer])
            #expect(try await invites.accept(invite.id, tokenDigest: "new", by: grace.user.id, at: at) == .notPending)
            #expect(try await invites.revoke(invite.id, in: ada.organization.id, at: at)?.revokedAt == nil)
            #expect(
                try await invites.renew(invite.id, in: ada.organization.id, tokenDigest: "x", expiresAt: expired)
                    == nil)

            let again = try makeInvite(ada, email: "grace@example.com", at: at)
            _ = try await invites.create(again, tokenDigest: "again")
            #expect(
                try await invites.accept(again.id, tokenDigest: "again", by: grace.user.id, at: at) == .alreadyMember)
            let revoked = try await invites.revoke(again.id, in: ada.organization.id, at: at)
            #expect(revoked?.revokedAt == at)
            #expect(try await invites.invite(again.id, in: ada.organization.id) == nil)
        }
    }
}
