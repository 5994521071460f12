import Foundation
import KeywardenCore
import KeywardenStorage
import Testing

@Suite("SupportRequestRepository contract")
struct SupportRequestRepositoryTests {
    func stored(_ email: String, at date: Date = epoch, on database: DatabaseClient) async throws -> NewAccount {
        let account = try makeAccount(email: email, at: date)
        try await SQLAccountRepository(database: database).createAccount(account)
        return account
    }

    func request(
        _ account: NewAccount, reason: SupportReason = .noMobilePhone, at date: Date = epoch
    ) -> SupportRequest {
        SupportRequest(
            id: .generate(), organizationID: account.organization.id, userID: account.user.id,
            email: account.user.email.value, reason: reason, details: "I only have a landline.", status: .open,
            createdAt: date)
    }

    @Test(arguments: Backend.available)
    func onlyOneOpenRequestPerOrganization(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLSupportRequestRepository(database: database)
            let ada = try await stored("ada@example.com", on: database)
            let bob = try await stored("bob@example.com", on: database)
            let first = request(ada)
            #expect(try await repository.create(first))
            #expect(try await repository.request(first.id) == first)
            #expect(!(try await repository.create(request(ada, at: epoch.addingTimeInterval(1)))))
            #expect(try await repository.create(request(bob)))

            // Once the open one is decided, the organization may ask again.
            _ = try await repository.decline(first.id, reason: "No.", by: "op@example.com", at: epoch)
            let second = request(ada, at: epoch.addingTimeInterval(2))
            #expect(try await repository.create(second))
            #expect(
                try await repository.requests(in: ada.organization.id, limit: 10).map(\.id) == [second.id, first.id])
            #expect(try await repository.request(.generate()) == nil)
        }
    }

    @Test(arguments: Backend.available)
    func aDecisionAndItsAuditEntriesAreWrittenTogetherOnce(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLSupportRequestRepository(database: database)
            let console = SQLConsoleRepository(database: database)
            let audit = SQLAuditLogRepository(database: database)
            let ada = try await stored("ada@example.com", on: database)
            let organization = ada.organization.id
            func event(_ type: AuditEventType) -> AuditEvent {
                AuditEvent(
                    organizationID: organization, type: type, effectiveAt: epoch,
                    actor: AuditActor(type: "operator", email: "op@example.com"), details: [:])
            }
            func logged() async throws -> [AuditEventType] {
                try await audit.events(in: organization, types: nil, from: nil, until: nil, after: nil, limit: 50)
                    .items.map(\.type)
            }
            let filed = request(ada)
            #expect(try await repository.create(filed))
            let approved = event(.supportRequestApproved)
            let decision = try await repository.approve(
                filed.id, by: "op@example.com", at: epoch, recording: [approved])
            guard case .decided = decision else {
                Issue.record("the open request was not decided: \(decision)")
                return
            }
            // Deciding again writes nothing.
            #expect(
                try await repository.approve(filed.id, by: "op@example.com", at: epoch, recording: [approved])
                    == .notOpen(.approved))
            #expect(
                try await repository.decline(
                    filed.id, reason: "No.", by: "op@example.com", at: epoch,
                    recording: [event(.supportRequestDeclined)]) == .notOpen(.approved))
            #expect(try await logged() == [.supportRequestApproved])

            #expect(
                try await console.suspend(
                    organization, reason: "Spam.", at: epoch, recording: [event(.organizationSuspended)]))
            #expect(
                !(try await console.suspend(
                    organization, reason: "Again.", at: epoch, recording: [event(.organizationSuspended)])))
            #expect(try await console.unsuspend(organization, recording: [event(.organizationUnsuspended)]))
            #expect(!(try await console.unsuspend(organization, recording: [event(.organizationUnsuspended)])))
            #expect(
                try await logged().sorted { $0.rawValue < $1.rawValue }
                    == [.organizationSuspended, .organizationUnsuspended, .supportRequestApproved])
        }
    }

    @Test(arguments: Backend.available)
    func twoOwnersFilingAtOnceStoreOneRequest(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLSupportRequestRepository(database: database)
            let ada = try await stored("ada@example.com", on: database)
            let requests = (0..<8).map { request(ada, at: epoch.addingTimeInterval(Double($0))) }
            let created = try await withThrowingTaskGroup(of: Bool.self) { group in
                for filed in requests { group.addTask { try await repository.create(filed) } }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(created == 1)
            #expect(try await repository.requests(in: ada.organization.id, limit: 10).count == 1)
        }
    }

    @Test(arguments: Backend.available)
    func approvingMakesTheOrganizationExemptWithTheOperator(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLSupportRequestRepository(database: database)
            let accounts = SQLAccountRepository(database: database)
            let ada = try await stored("ada@example.com", on: database)
            let filed = request(ada)
            #expect(try await repository.create(filed))
            let decidedAt = epoch.addingTimeInterval(60)
            var approved = filed
            approved.status = .approved
            approved.decidedAt = decidedAt
            approved.decidedBy = "op@example.com"
            #expect(try await repository.approve(filed.id, by: "op@example.com", at: decidedAt) == .decided(approved))
            #expect(try await repository.request(filed.id) == approved)
            let organization = try #require(try await accounts.organization(id: ada.organization.id))
            #expect(
                organization.verification
                    == OrganizationVerification(
                        status: .exempt, method: "support", verifiedAt: decidedAt, approvedBy: "op@example.com"))

            // Resetting the verification forgets who granted the exemption.
            try await SQLPhoneVerificationRepository(database: database).resetVerification(of: ada.organization.id)
            #expect(try await accounts.organization(id: ada.organization.id)?.verification == .unverified)
        }
    }

    @Test(arguments: Backend.available)
    func approvingKeepsAPhoneVerificationThatCameFirst(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLSupportRequestRepository(database: database)
            let ada = try await stored("ada@example.com", on: database)
            let filed = request(ada)
            #expect(try await repository.create(filed))
            let phones = SQLPhoneVerificationRepository(database: database)
            let verification = PhoneVerification(
                id: .generate(), organizationID: ada.organization.id, userID: ada.user.id, phoneDigest: "digest-1",
                sealedPhoneNumber: "sealed", maskedPhoneNumber: "+• •••-•••-••23", country: "US", status: .pending,
                codeDigest: "code-digest", sealedCode: "sealed", attempts: 0, sends: 1, createdAt: epoch,
                expiresAt: epoch.addingTimeInterval(600), lastSentAt: epoch, nextResendAt: epoch)
            try await phones.create(verification)
            _ = try await phones.approve(verification, at: epoch, maxOrganizationsPerPhone: 3)

            guard case .decided = try await repository.approve(filed.id, by: "op@example.com", at: epoch) else {
                Issue.record("the open request was not approved")
                return
            }
            let organization = try #require(
                try await SQLAccountRepository(database: database).organization(id: ada.organization.id))
            #expect(organization.verification.status == .verified)
            #expect(organization.verification.method == "phone")
            #expect(organization.verification.approvedBy == nil)
        }
    }

    @Test(arguments: Backend.available)
    func approvingAnAppealLiftsTheSuspension(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLSupportRequestRepository(database: database)
            let console = SQLConsoleRepository(database: database)
            let ada = try await stored("ada@example.com", on: database)
            #expect(try await console.suspend(ada.organization.id, reason: "Spam.", at: epoch))
            let appeal = request(ada, reason: .suspensionAppeal)
            #expect(try await repository.create(appeal))
            guard case .decided(let decided) = try await repository.approve(appeal.id, by: "op@example.com", at: epoch)
            else {
                Issue.record("the appeal was not approved")
                return
            }
            #expect(decided.status == .approved)
            #expect(try await console.suspension(of: ada.organization.id) == nil)
            #expect(try await console.suspendedOrganizations().isEmpty)
            // An appeal lifts the suspension only: the organization is no more verified than before.
            let organization = try #require(
                try await SQLAccountRepository(database: database).organization(id: ada.organization.id))
            #expect(organization.verification == .unverified)
            #expect(organization.suspension == nil)
        }
    }

    @Test(arguments: Backend.available)
    func decidedRequestCannotBeDecidedAgain(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLSupportRequestRepository(database: database)
            let ada = try await stored("ada@example.com", on: database)
            let bob = try await stored("bob@example.com", on: database)
            let approved = request(ada)
            let declined = request(bob)
            #expect(try await repository.create(approved))
            #expect(try await repository.create(declined))

            guard case .decided = try await repository.approve(approved.id, by: "one@example.com", at: epoch) else {
                Issue.record("the open request was not approved")
                return
            }
            #expect(try await repository.approve(approved.id, by: "two@example.com", at: epoch) == .notOpen(.approved))
            #expect(
                try await repository.decline(approved.id, reason: "No.", by: "two@example.com", at: epoch)
                    == .notOpen(.approved))
            #expect(try await repository.request(approved.id)?.decidedBy == "one@example.com")

            guard
                case .decided(let decision) = try await repository.decline(
                    declined.id, reason: "Use a mobile number.", by: "one@example.com", at: epoch)
            else {
                Issue.record("the open request was not declined")
                return
            }
            #expect(decision.status == .declined)
            #expect(decision.declineReason == "Use a mobile number.")
            #expect(try await repository.approve(declined.id, by: "two@example.com", at: epoch) == .notOpen(.declined))
            let organization = try await SQLAccountRepository(database: database).organization(id: bob.organization.id)
            #expect(organization?.verification == .unverified)

            #expect(try await repository.approve(.generate(), by: "one@example.com", at: epoch) == .notFound)
            #expect(
                try await repository.decline(.generate(), reason: "No.", by: "one@example.com", at: epoch) == .notFound)
        }
    }

    @Test(arguments: Backend.available)
    func queueListsOpenRequestsOldestFirstAndDecidedOnesNewestFirst(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let repository = SQLSupportRequestRepository(database: database)
            var filed: [SupportRequest] = []
            for index in 0..<4 {
                let account = try await stored("user\(index)@example.com", on: database)
                let next = request(account, at: epoch.addingTimeInterval(Double(index)))
                #expect(try await repository.create(next))
                filed.append(next)
            }
            _ = try await repository.approve(filed[1].id, by: "op@example.com", at: epoch)
            _ = try await repository.decline(filed[3].id, reason: "No.", by: "op@example.com", at: epoch)

            let open = try await repository.queue(status: .open, after: nil, limit: 1)
            #expect(open.items.map(\.id) == [filed[0].id])
            #expect(open.hasMore)
            let rest = try await repository.queue(status: .open, after: filed[0].id, limit: 5)
            #expect(rest.items.map(\.id) == [filed[2].id])
            #expect(!rest.hasMore)

            let approved = try await repository.queue(status: .approved, after: nil, limit: 5)
            #expect(approved.items.map(\.id) == [filed[1].id])
            let everything = try await repository.queue(status: nil, after: nil, limit: 2)
            #expect(everything.items.map(\.id) == [filed[3].id, filed[2].id])
            #expect(everything.hasMore)
            let older = try await repository.queue(status: nil, after: filed[2].id, limit: 2)
            #expect(older.items.map(\.id) == [filed[1].id, filed[0].id])
            #expect(!older.hasMore)

            // A request decided since its page was listed still marks where the next page starts.
            _ = try await repository.approve(filed[0].id, by: "op@example.com", at: epoch)
            let onward = try await repository.queue(status: .open, after: filed[0].id, limit: 5)
            #expect(onward.items.map(\.id) == [filed[2].id])
            // A cursor that names no request is refused rather than starting over.
            await #expect(throws: DomainError.unknownCursor) {
                try await repository.queue(status: .open, after: SupportRequestID.generate(), limit: 5)
            }
        }
    }
}
