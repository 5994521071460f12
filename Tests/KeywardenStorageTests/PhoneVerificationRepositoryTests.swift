import Foundation
import KeywardenCore
import KeywardenStorage
import Testing

@Suite("PhoneVerificationRepository contract")
struct PhoneVerificationRepositoryTests {
    func makeVerification(
        _ account: NewAccount, digest: String = "digest-1", at date: Date = epoch
    )
        -> PhoneVerification
    {
        PhoneVerification(
            id: .generate(), organizationID: account.organization.id, userID: account.user.id, phoneDigest: digest,
            sealedPhoneNumber: "+12015550123", maskedPhoneNumber: "+• •••-•••-••23", country: "US", status: .pending,
            codeDigest: "code-digest", sealedCode: "sealed", attempts: 0, sends: 0, createdAt: date,
            expiresAt: date.addingTimeInterval(600), lastSentAt: date, nextResendAt: date)
    }

    func seed(_ database: DatabaseClient, email: String = "ada@example.com") async throws -> NewAccount {
        let account = try makeAccount(email: email)
        try await SQLAccountRepository(database: database).createAccount(account)
        return account
    }

    @Test(arguments: Backend.available)
    func createdVerificationReadsBackWhole(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try await seed(database)
            let repository = SQLPhoneVerificationRepository(database: database)
            let verification = makeVerification(account)
            try await repository.create(verification)
            let read = try await repository.verification(verification.id, in: account.organization.id)
            #expect(read == verification)
            let elsewhere = try await repository.verification(verification.id, in: .generate())
            #expect(elsewhere == nil)
            let pending = try await repository.pendingVerification(
                in: account.organization.id, phoneDigest: "digest-1", at: epoch)
            #expect(pending?.id == verification.id)
        }
    }

    @Test(arguments: Backend.available)
    func aVerificationKeepsTheChannelItsCodeWentBy(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try await seed(database)
            let repository = SQLPhoneVerificationRepository(database: database)
            var verification = makeVerification(account)
            verification.channel = .whatsapp
            try await repository.create(verification)
            #expect(
                try await repository.verification(verification.id, in: account.organization.id)?.channel == .whatsapp)
            let expired = try await repository.expirePending(at: epoch.addingTimeInterval(601))
            #expect(expired.map(\.channel) == [.whatsapp])
        }
    }

    @Test(arguments: Backend.available)
    func checksAreCountedUpToTheBudgetOnly(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try await seed(database)
            let repository = SQLPhoneVerificationRepository(database: database)
            let verification = makeVerification(account)
            try await repository.create(verification)
            var counts: [CheckRecording] = []
            for _ in 0..<4 { counts.append(try await repository.recordCheck(verification.id, maxChecks: 3)) }
            #expect(counts == [.counted(attempts: 1), .counted(attempts: 2), .counted(attempts: 3), .outOfChecks])
        }
    }

    @Test(arguments: Backend.available)
    func aCheckOfAnApprovedVerificationSaysItIsApprovedNotOutOfChecks(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try await seed(database)
            let repository = SQLPhoneVerificationRepository(database: database)
            let verification = makeVerification(account)
            try await repository.create(verification)
            #expect(try await repository.recordCheck(verification.id, maxChecks: 5) == .counted(attempts: 1))
            #expect(
                try await repository.approve(verification, at: epoch, maxOrganizationsPerPhone: 2)
                    == .approved(replaced: false))
            #expect(try await repository.recordCheck(verification.id, maxChecks: 5) == .notPending(.approved))
            let other = makeVerification(account)
            try await repository.create(other)
            #expect(try await repository.finish(other.id, as: .expired, at: epoch))
            #expect(try await repository.recordCheck(other.id, maxChecks: 5) == .notPending(.expired))
        }
    }

    @Test(arguments: Backend.available)
    func finishingErasesTheNumberAndHappensOnce(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try await seed(database)
            let repository = SQLPhoneVerificationRepository(database: database)
            let verification = makeVerification(account)
            try await repository.create(verification)
            #expect(try await repository.finish(verification.id, as: .canceled, at: epoch))
            #expect(!(try await repository.finish(verification.id, as: .expired, at: epoch)))
            let read = try await repository.verification(verification.id, in: account.organization.id)
            #expect(read?.status == .canceled)
            #expect(read?.sealedPhoneNumber == nil)
            #expect(read?.sealedCode == nil)
        }
    }

    @Test(arguments: Backend.available)
    func approvalVerifiesTheOrganizationOnceAndHonoursThePhoneLimit(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLPhoneVerificationRepository(database: database)
            let accounts = [
                try await seed(database, email: "a@example.com"), try await seed(database, email: "b@example.com"),
                try await seed(database, email: "c@example.com"),
            ]
            var outcomes: [ApprovalOutcome] = []
            for account in accounts {
                let verification = makeVerification(account)
                try await repository.create(verification)
                outcomes.append(try await repository.approve(verification, at: epoch, maxOrganizationsPerPhone: 2))
                if account.user.email.value == "a@example.com" {
                    let again = try await repository.approve(verification, at: epoch, maxOrganizationsPerPhone: 2)
                    #expect(again == .notPending)
                }
            }
            #expect(outcomes == [.approved(replaced: false), .approved(replaced: false), .phoneLimitReached])
            #expect(
                try await repository.organizationsVerified(withPhoneDigest: "digest-1", excluding: .generate()) == 2)
            let organization = try await SQLAccountRepository(database: database).memberships(of: accounts[0].user.id)
                .first?.organization
            #expect(organization?.verification.status == .verified)
            #expect(organization?.verification.maskedPhoneNumber == "+• •••-•••-••23")

            let replacement = makeVerification(accounts[0], digest: "digest-2")
            try await repository.create(replacement)
            let replaced = try await repository.approve(replacement, at: epoch, maxOrganizationsPerPhone: 2)
            #expect(replaced == .approved(replaced: true))
            #expect(
                try await repository.organizationsVerified(withPhoneDigest: "digest-1", excluding: .generate()) == 1)

            try await repository.resetVerification(of: accounts[0].organization.id)
            #expect(
                try await repository.organizationsVerified(withPhoneDigest: "digest-2", excluding: .generate()) == 0)
        }
    }

    @Test(arguments: Backend.available)
    func concurrentApprovalsOfOneNumberStayWithinTheLimit(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLPhoneVerificationRepository(database: database)
            var verifications: [PhoneVerification] = []
            for index in 0..<6 {
                let account = try await seed(database, email: "owner\(index)@example.com")
                let verification = makeVerification(account)
                try await repository.create(verification)
                verifications.append(verification)
            }
            let approved = try await withThrowingTaskGroup(of: Bool.self) { group in
                for verification in verifications {
                    group.addTask {
                        try await repository.approve(verification, at: epoch, maxOrganizationsPerPhone: 2)
                            == .approved(replaced: false)
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(approved == 2)
        }
    }

    @Test(arguments: Backend.available)
    func expiryEndsOnlyLapsedPendingVerifications(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try await seed(database)
            let repository = SQLPhoneVerificationRepository(database: database)
            let old = makeVerification(account, at: epoch)
            let fresh = makeVerification(account, digest: "digest-2", at: epoch.addingTimeInterval(500))
            try await repository.create(old)
            try await repository.create(fresh)
            let expired = try await repository.expirePending(at: epoch.addingTimeInterval(700))
            #expect(expired.map(\.id) == [old.id])
            #expect(expired.first?.status == .expired)
            #expect(expired.first?.sealedPhoneNumber == nil)
            try await repository.recordSend(
                fresh.id, at: epoch, nextResendAt: epoch.addingTimeInterval(30), providerMessageID: "SM1",
                delivery: .queued)
            try await repository.updateDelivery(providerMessageID: "SM1", delivery: .delivered)
            let delivered = try await repository.verification(providerMessageID: "SM1")
            #expect(delivered?.delivery == .delivered)
            #expect(delivered?.sends == 1)
            try await repository.cancelPending(in: account.organization.id, except: nil, at: epoch)
            #expect(try await repository.verification(fresh.id, in: account.organization.id)?.status == .canceled)
        }
    }
}

@Suite("AuditLogRepository contract")
struct AuditLogRepositoryTests {
    @Test(arguments: Backend.available)
    func eventsListNewestFirstFilteredAndPaged(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let audit = SQLAuditLogRepository(database: database)
            let actor = AuditActor.session(account.user, ipAddress: "203.0.113.1")
            var events: [AuditEvent] = []
            for (offset, type) in [
                AuditEventType.phoneVerificationStarted, .phoneVerificationApproved, .projectCreated,
            ].enumerated() {
                let event = AuditEvent(
                    organizationID: account.organization.id, type: type,
                    effectiveAt: epoch.addingTimeInterval(TimeInterval(offset)), actor: actor,
                    details: ["index": "\(offset)"])
                try await audit.append(event)
                events.append(event)
            }
            let all = try await audit.events(
                in: account.organization.id, types: nil, from: nil, until: nil, after: nil, limit: 10)
            #expect(all.items == events.reversed())
            let page = try await audit.events(
                in: account.organization.id, types: nil, from: nil, until: nil, after: nil, limit: 2)
            #expect(page.hasMore)
            let rest = try await audit.events(
                in: account.organization.id, types: nil, from: nil, until: nil, after: page.items.last?.id, limit: 2)
            #expect(rest.items == [events[0]])
            let filtered = try await audit.events(
                in: account.organization.id, types: [.phoneVerificationStarted, .projectCreated], from: nil,
                until: nil, after: nil, limit: 10)
            #expect(filtered.items.map(\.type) == [.projectCreated, .phoneVerificationStarted])
            let other = try await audit.events(
                in: .generate(), types: nil, from: nil, until: nil, after: nil, limit: 10)
            #expect(other.items.isEmpty)
        }
    }

    @Test(arguments: Backend.available)
    func anEventOfATypeThisVersionDoesNotKnowIsLeftOutOfThePageNotFailingIt(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let audit = SQLAuditLogRepository(database: database)
            let known = AuditEvent(
                organizationID: account.organization.id, type: .projectCreated, effectiveAt: epoch,
                actor: .operator, details: [:])
            try await audit.append(known)
            // As a newer version sharing the database would write it.
            try await database.withConnection { db in
                try await db.raw(
                    """
                    INSERT INTO audit_logs (id, organization_id, type, effective_at, actor, details)
                    VALUES (\(bind: AuditEventID.generate().rawValue), \(bind: account.organization.id.rawValue),
                            'project.transferred', \(bind: Int64(epoch.timeIntervalSince1970 * 1000) + 1000),
                            '{"type":"operator"}', '{}')
                    """
                ).run()
            }
            let first = try await audit.events(
                in: account.organization.id, types: nil, from: nil, until: nil, after: nil, limit: 1)
            #expect(first.items.isEmpty)
            #expect(first.hasMore)
            let all = try await audit.events(
                in: account.organization.id, types: nil, from: nil, until: nil, after: nil, limit: 10)
            #expect(all.items == [known])
        }
    }

    @Test(arguments: Backend.available)
    func eventsAreKeptFromTheStartInclusiveUntilTheEndExclusiveAndPageWithinThem(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let account = try makeAccount()
            try await SQLAccountRepository(database: database).createAccount(account)
            let audit = SQLAuditLogRepository(database: database)
            // One event a second, and one a millisecond before the end.
            var ids: [AuditEventID] = []
            for offset in [0, 1, 2, 2.999, 3] {
                let event = AuditEvent(
                    organizationID: account.organization.id, type: .projectCreated,
                    effectiveAt: epoch.addingTimeInterval(offset), actor: .operator, details: [:])
                try await audit.append(event)
                ids.append(event.id)
            }
            let organization = account.organization.id
            let start = epoch.addingTimeInterval(1)
            let end = epoch.addingTimeInterval(3)
            let within = try await audit.events(
                in: organization, types: nil, from: start, until: end, after: nil, limit: 10)
            #expect(within.items.map(\.id) == [ids[3], ids[2], ids[1]])
            let fromOnly = try await audit.events(
                in: organization, types: nil, from: end, until: nil, after: nil, limit: 10)
            #expect(fromOnly.items.map(\.id) == [ids[4]])
            let untilOnly = try await audit.events(
                in: organization, types: nil, from: nil, until: start, after: nil, limit: 10)
            #expect(untilOnly.items.map(\.id) == [ids[0]])
            let first = try await audit.events(
                in: organization, types: nil, from: start, until: end, after: nil, limit: 2)
            #expect(first.items.map(\.id) == [ids[3], ids[2]])
            #expect(first.hasMore)
            let rest = try await audit.events(
                in: organization, types: nil, from: start, until: end, after: first.items.last?.id, limit: 2)
            #expect(rest.items.map(\.id) == [ids[1]])
            #expect(!rest.hasMore)
            let otherType = try await audit.events(
                in: organization, types: [.loginSucceeded], from: start, until: end, after: nil, limit: 10)
            #expect(otherType.items.isEmpty)
        }
    }
}
