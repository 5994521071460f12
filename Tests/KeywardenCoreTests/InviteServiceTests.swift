import Foundation
import KeywardenCore
import Testing

@Suite("Invites: sending, expiry and acceptance")
struct InviteServiceTests {
    @Test func anAcceptedInviteJoinsTheOrganizationAndItsProjectsAndConfirmsTheEmail() async throws {
        let bench = TeamBench()
        let ada = try await bench.signUp("ada@example.com")
        let side = try await bench.project(named: "Side", in: ada)
        let invite = try await bench.invite(
            "Grace@Example.com", to: ada, projects: [RequestedGrant(projectID: side.id.rawValue, role: "owner")])
        #expect(invite.email.value == "grace@example.com")
        #expect(invite.status(at: bench.keys.time.now) == .pending)
        #expect(invite.expiresAt == bench.keys.time.now.addingTimeInterval(7 * 86_400))
        let mail = try #require(bench.mail.sent.last)
        #expect(mail.to.value == "grace@example.com")
        #expect(mail.text.contains("Personal"))
        #expect(mail.text.contains("ada@example.com"))
        #expect(mail.text.contains("https://keywarden.example/invite?token="))
        let token = try #require(bench.mail.token(to: "grace@example.com"))
        #expect(token.count >= 43)

        let grace = try await bench.signUp("grace@example.com")
        #expect(grace.user.emailConfirmedAt == nil)
        let preview = try await bench.invites.preview(token: token)
        #expect(preview.organization.id == ada.organization.id)
        #expect(preview.inviter?.id == ada.user.id)
        let (accepted, membership) = try await bench.invites.accept(
            token: token, by: grace.user, actor: bench.actor(grace))
        #expect(accepted.acceptedAt == bench.keys.time.now)
        #expect(membership.role == .reader)
        #expect(membership.projectRoles == [side.id: .owner])
        #expect(try await bench.repositories.accounts.user(id: grace.user.id)?.emailConfirmedAt == bench.keys.time.now)
        let types = await bench.keys.auditTypes(of: ada)
        #expect(types == ["invite.sent", "invite.accepted", "user.added"])
        let again = await refusal { try await bench.invites.accept(token: token, by: grace.user, actor: .system) }
        #expect(again == "invite_not_pending")
    }

    @Test func aReaderInvitedToNoProjectJoinsTheDefaultProjectAsAMember() async throws {
        let bench = TeamBench()
        let ada = try await bench.signUp("ada@example.com")
        let invite = try await bench.invite("grace@example.com", to: ada)
        #expect(invite.projects == [InviteGrant(projectID: ada.defaultProject.id, role: .member)])
        let owners = try await bench.invite("alan@example.com", to: ada, role: "owner")
        #expect(owners.projects.isEmpty)
    }

    @Test func anInviteForAnotherAddressIsRefusedWithoutNamingTheAddress() async throws {
        let bench = TeamBench()
        let ada = try await bench.signUp("ada@example.com")
        _ = try await bench.invite("grace@example.com", to: ada)
        let token = try #require(bench.mail.token(to: "grace@example.com"))
        let mallory = try await bench.signUp("mallory@example.com")
        let error = await refusalError {
            try await bench.invites.accept(token: token, by: mallory.user, actor: bench.actor(mallory))
        }
        #expect(error?.code == .inviteEmailMismatch)
        #expect(error?.message.contains("grace") == false)
        #expect(try await bench.repositories.accounts.memberships(of: mallory.user.id).count == 1)
    }

    @Test func anInviteExpiresAfterItsLifetimeAndASecondSendGivesANewLinkThatWorks() async throws {
        let bench = TeamBench()
        let ada = try await bench.signUp("ada@example.com")
        let grace = try await bench.signUp("grace@example.com")
        let invite = try await bench.invite("grace@example.com", to: ada)
        let first = try #require(bench.mail.token(to: "grace@example.com"))
        bench.keys.time.advance(by: 7 * 86_400)
        #expect(invite.status(at: bench.keys.time.now) == .expired)
        let expired = await refusal { try await bench.invites.accept(token: first, by: grace.user, actor: .system) }
        #expect(expired == "invite_expired")

        let owner = try await bench.membership(in: ada)
        let renewed = try await bench.invites.resend(
            invite.id.rawValue, in: owner, by: ada.user, actor: bench.actor(ada))
        #expect(renewed.status(at: bench.keys.time.now) == .pending)
        let second = try #require(bench.mail.token(to: "grace@example.com"))
        #expect(second != first)
        let old = await refusal { try await bench.invites.accept(token: first, by: grace.user, actor: .system) }
        #expect(old == "invite_not_found")
        _ = try await bench.invites.accept(token: second, by: grace.user, actor: bench.actor(grace))
        #expect(try await bench.membership(in: ada, of: grace).role == .reader)
    }

    @Test func aNewInviteReplacesAPendingOneAndMembersCannotBeInvitedAgain() async throws {
        let bench = TeamBench()
        let ada = try await bench.signUp("ada@example.com")
        let first = try await bench.invite("grace@example.com", to: ada)
        let firstToken = try #require(bench.mail.token(to: "grace@example.com"))
        let second = try await bench.invite("grace@example.com", to: ada, role: "owner")
        let owner = try await bench.membership(in: ada)
        let listed = try await bench.invites.invites(in: owner, after: nil, limit: nil)
        #expect(listed.items.map(\.id) == [second.id])
        #expect(await refusal { try await bench.invites.invite(first.id.rawValue, in: owner) } == "invite_not_found")
        let grace = try await bench.signUp("grace@example.com")
        let stale = await refusal { try await bench.invites.accept(token: firstToken, by: grace.user, actor: .system) }
        #expect(stale == "invite_not_found")
        let token = try #require(bench.mail.token(to: "grace@example.com"))
        _ = try await bench.invites.accept(token: token, by: grace.user, actor: bench.actor(grace))
        #expect(try await bench.membership(in: ada, of: grace).role == .owner)
        let again = await refusal { try await bench.invite("GRACE@example.com", to: ada) }
        #expect(again == "already_member")
        let revokeAccepted = await refusal {
            try await bench.invites.revoke(second.id.rawValue, in: owner, actor: .system)
        }
        #expect(revokeAccepted == "invite_not_pending")
    }

    @Test func onlyOwnersInviteAndARevokedInviteNoLongerWorks() async throws {
        let bench = TeamBench()
        let ada = try await bench.signUp("ada@example.com")
        let grace = try await bench.signUp("grace@example.com")
        try await bench.addReader(grace, to: ada, projectRole: .owner)
        let reader = try await bench.membership(in: ada, of: grace)
        let refused = await refusal {
            try await bench.invites.invite(
                email: "alan@example.com", role: "reader", projects: [], in: reader, by: grace.user,
                actor: bench.actor(grace))
        }
        #expect(refused == "insufficient_permissions")
        #expect(bench.mail.sent.isEmpty)
        let bad = await refusal {
            try await bench.invite(
                "alan@example.com", to: ada, projects: [RequestedGrant(projectID: "proj_missing", role: "member")])
        }
        #expect(bad == "project_not_found")

        let invite = try await bench.invite("alan@example.com", to: ada)
        let token = try #require(bench.mail.token(to: "alan@example.com"))
        let owner = try await bench.membership(in: ada)
        _ = try await bench.invites.revoke(invite.id.rawValue, in: owner, actor: bench.actor(ada))
        let alan = try await bench.signUp("alan@example.com")
        let revoked = await refusal { try await bench.invites.accept(token: token, by: alan.user, actor: .system) }
        #expect(revoked == "invite_not_found")
        #expect(await bench.keys.auditTypes(of: ada).suffix(2) == ["invite.sent", "invite.deleted"])
    }

    @Test func aFailedEmailLeavesNoInviteBehind() async throws {
        let bench = TeamBench()
        let ada = try await bench.signUp("ada@example.com")
        let broken = InviteService(
            invites: bench.repositories.invites, accounts: bench.repositories.accounts,
            projects: bench.repositories.projects, audit: bench.repositories.audit,
            email: EmailSender(name: "down") { _ in throw CancellationError() }, settings: InviteSettings(),
            clock: bench.keys.time.clock)
        let owner = try await bench.membership(in: ada)
        let failed = await refusal {
            try await broken.invite(
                email: "grace@example.com", role: "reader", projects: [], in: owner, by: ada.user, actor: .system)
        }
        #expect(failed == "email_provider_unavailable")
        #expect(try await bench.invites.invites(in: owner, after: nil, limit: nil).items.isEmpty)
    }
}
