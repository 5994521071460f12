import Foundation
import KeywardenCore
import KeywardenStorage
import Testing

@Suite("ConsoleRepository contract")
struct ConsoleRepositoryTests {
    /// An account stored in the database, its organization renamed to `name` when given.
    func stored(
        _ email: String, name: String? = nil, at date: Date = epoch, on database: DatabaseClient
    ) async throws -> NewAccount {
        var account = try makeAccount(email: email, at: date)
        if let name { account.organization.name = name }
        try await SQLAccountRepository(database: database).createAccount(account)
        return account
    }

    /// Verifies the account's organization with a number of this digest and masked form.
    func verify(
        _ account: NewAccount, digest: String, masked: String = "+1 ••• ••• ••23", on database: DatabaseClient
    ) async throws {
        let repository = SQLPhoneVerificationRepository(database: database)
        let verification = PhoneVerification(
            id: .generate(), organizationID: account.organization.id, userID: account.user.id, phoneDigest: digest,
            sealedPhoneNumber: "sealed", maskedPhoneNumber: masked, country: "US", status: .pending,
            codeDigest: "code-digest", sealedCode: "sealed", attempts: 0, sends: 1, createdAt: epoch,
            expiresAt: epoch.addingTimeInterval(600), lastSentAt: epoch, nextResendAt: epoch)
        try await repository.create(verification)
        #expect(
            try await repository.approve(verification, at: epoch, maxOrganizationsPerPhone: 10)
                == .approved(replaced: false))
    }

    /// Saves a card of this fingerprint to the account's organization.
    func saveCard(_ account: NewAccount, digest: String, on database: DatabaseClient) async throws {
        let repository = SQLBillingRepository(database: database)
        let reference = UUID().uuidString
        let setup = BillingSetup(
            id: .generate(), organizationID: account.organization.id, userID: account.user.id,
            providerReference: reference, url: "https://pay.example/\(reference)", status: .open, createdAt: epoch,
            expiresAt: epoch.addingTimeInterval(3600))
        try await repository.createSetup(setup)
        let card = PaymentMethod(
            organizationID: account.organization.id, providerReference: "card-\(UUID().uuidString)", brand: "visa",
            last4: "4242", expMonth: 12, expYear: 2034, fingerprintDigest: digest, createdAt: epoch)
        guard
            case .saved = try await repository.completeSetup(
                setup.id, with: card, at: epoch, maxOrganizationsPerCard: 10)
        else {
            Issue.record("the card was not saved")
            return
        }
    }

    func key(_ account: NewAccount, kind: APIKeyFormat.Kind = .project, at date: Date) -> APIKey {
        let value = APIKeyFormat().generate(kind)
        return APIKey(
            id: .generate(), kind: kind, organizationID: account.organization.id,
            projectID: kind == .admin ? nil : account.defaultProject.id, name: "key", owner: .user(account.user.id),
            permissions: .all, digest: APIKeyIndex.digest(value), redactedValue: APIKeyFormat().redacted(value),
            createdAt: date)
    }

    @Test(arguments: Backend.available)
    func operatorsAreGrantedOnceAndRevoked(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let console = SQLConsoleRepository(database: database)
            let ada = try await stored("ada@example.com", on: database)
            let bob = try await stored("bob@example.com", on: database)
            #expect(!(try await console.isOperator(ada.user.id)))
            #expect(try await console.grantOperator(ada.user.id, at: epoch))
            #expect(!(try await console.grantOperator(ada.user.id, at: epoch)))
            #expect(try await console.grantOperator(bob.user.id, at: epoch))
            #expect(try await console.isOperator(ada.user.id))
            #expect(try await console.operators().map(\.id) == [ada.user.id, bob.user.id])
            #expect(try await console.revokeOperator(ada.user.id))
            #expect(!(try await console.revokeOperator(ada.user.id)))
            #expect(!(try await console.isOperator(ada.user.id)))
            #expect(try await console.operators() == [bob.user])
        }
    }

    @Test(arguments: Backend.available)
    func searchFindsByNameEmailIdAndLastDigits(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let console = SQLConsoleRepository(database: database)
            let ada = try await stored("ada@example.com", name: "Analytical Engines", at: epoch, on: database)
            let bob = try await stored(
                "bob@example.com", name: "Bobbins", at: epoch.addingTimeInterval(1), on: database)
            let carol = try await stored(
                "carol@example.com", name: "Carol's", at: epoch.addingTimeInterval(2), on: database)
            try await verify(carol, digest: "digest-carol", masked: "+1 ••• ••• ••42", on: database)

            func found(_ query: String) async throws -> [OrganizationID] {
                try await console.searchOrganizations(query, phoneDigest: nil, limit: 10).map(\.organization.id)
            }
            #expect(try await found("") == [carol.organization.id, bob.organization.id, ada.organization.id])
            #expect(try await found("ENGINES") == [ada.organization.id])
            #expect(try await found("bob@exa") == [bob.organization.id])
            #expect(try await found(ada.organization.id.rawValue) == [ada.organization.id])
            // The whole number is found by its digest; another digest finds nothing.
            #expect(
                try await console.searchOrganizations("+12015550142", phoneDigest: "digest-carol", limit: 10)
                    .map(\.organization.id) == [carol.organization.id])
            #expect(
                try await console.searchOrganizations("+12015550143", phoneDigest: "digest-other", limit: 10)
                    .isEmpty)
            #expect(try await found("42") == [carol.organization.id])
            #expect(try await found("2") == [carol.organization.id])
            // Only the last two digits are kept in the clear.
            #expect(try await found("142").isEmpty)
            #expect(try await found("nobody").isEmpty)
            #expect(
                try await console.searchOrganizations("", phoneDigest: nil, limit: 1).map(\.organization.id) == [
                    carol.organization.id
                ])

            // Pages go on after the last organization of the page before.
            let next = try await console.searchOrganizations(
                "", phoneDigest: nil, after: carol.organization.id, limit: 1)
            #expect(next.map(\.organization.id) == [bob.organization.id])
            let last = try await console.searchOrganizations(
                "example.com", phoneDigest: nil, after: bob.organization.id, limit: 5)
            #expect(last.map(\.organization.id) == [ada.organization.id])
            await #expect(throws: DomainError.unknownCursor) {
                try await console.searchOrganizations("", phoneDigest: nil, after: .generate(), limit: 5)
            }

            let summary = try #require(
                try await console.searchOrganizations("carol", phoneDigest: nil, limit: 10).first)
            #expect(summary.memberCount == 1)
            #expect(summary.organization.verification.maskedPhoneNumber == "+1 ••• ••• ••42")
            #expect(summary.suspension == nil)
        }
    }

    @Test(arguments: Backend.available)
    func likeWildcardsInASearchAreLiteral(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let console = SQLConsoleRepository(database: database)
            let percent = try await stored("one@example.com", name: "50% off", on: database)
            _ = try await stored("two@example.com", name: "500 off", on: database)
            let underscore = try await stored("three@example.com", name: "a_c", on: database)
            _ = try await stored("four@example.com", name: "abc", on: database)
            let bang = try await stored("five@example.com", name: "Wow!", on: database)

            func found(_ query: String) async throws -> [OrganizationID] {
                try await console.searchOrganizations(query, phoneDigest: nil, limit: 10).map(\.organization.id)
            }
            #expect(try await found("50%") == [percent.organization.id])
            #expect(try await found("%") == [percent.organization.id])
            #expect(try await found("a_c") == [underscore.organization.id])
            #expect(try await found("_") == [underscore.organization.id])
            #expect(try await found("w!") == [bang.organization.id])
        }
    }

    @Test(arguments: Backend.available)
    func suspensionIsSetOnceAndLiftedOnce(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let console = SQLConsoleRepository(database: database)
            let accounts = SQLAccountRepository(database: database)
            let ada = try await stored("ada@example.com", on: database)
            let bob = try await stored("bob@example.com", on: database)
            let id = ada.organization.id
            let suspension = Suspension(suspendedAt: epoch, reason: "Sending spam.")

            #expect(try await console.suspension(of: id) == nil)
            #expect(try await console.suspend(id, reason: "Sending spam.", at: epoch))
            #expect(!(try await console.suspend(id, reason: "Again.", at: epoch.addingTimeInterval(1))))
            #expect(try await console.suspension(of: id) == suspension)
            #expect(try await console.suspendedOrganizations() == [id: "Sending spam."])
            #expect(try await accounts.organization(id: id)?.suspension == suspension)
            #expect(try await accounts.memberships(of: ada.user.id).map(\.organization.suspension) == [suspension])
            #expect(try await accounts.organization(id: bob.organization.id)?.suspension == nil)
            #expect(
                try await console.searchOrganizations("ada", phoneDigest: nil, limit: 10).map(\.suspension) == [
                    suspension
                ])

            #expect(try await console.unsuspend(id))
            #expect(!(try await console.unsuspend(id)))
            #expect(try await console.suspension(of: id) == nil)
            #expect(try await console.suspendedOrganizations().isEmpty)
            #expect(try await accounts.organization(id: id)?.suspension == nil)
        }
    }

    @Test(arguments: Backend.available)
    func sharedNumbersAndCardsAreCountedInOtherOrganizations(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let console = SQLConsoleRepository(database: database)
            let ada = try await stored("ada@example.com", on: database)
            let bob = try await stored("bob@example.com", on: database)
            let carol = try await stored("carol@example.com", on: database)
            let dan = try await stored("dan@example.com", on: database)
            try await verify(ada, digest: "digest-1", on: database)
            try await verify(bob, digest: "digest-1", on: database)
            try await verify(carol, digest: "digest-2", on: database)
            #expect(try await console.organizationsSharingNumber(with: ada.organization.id) == 1)
            #expect(try await console.organizationsSharingNumber(with: carol.organization.id) == 0)
            #expect(try await console.organizationsSharingNumber(with: dan.organization.id) == 0)

            try await saveCard(ada, digest: "fp-1", on: database)
            try await saveCard(ada, digest: "fp-2", on: database)
            try await saveCard(bob, digest: "fp-1", on: database)
            try await saveCard(carol, digest: "fp-2", on: database)
            try await saveCard(carol, digest: "fp-1", on: database)
            #expect(try await console.organizationsSharingCard(with: ada.organization.id) == 2)
            #expect(try await console.organizationsSharingCard(with: bob.organization.id) == 2)
            #expect(try await console.organizationsSharingCard(with: dan.organization.id) == 0)
        }
    }

    @Test(arguments: Backend.available)
    func keysOfAnOrganizationAreListedNewestFirstRevokedOnesIncluded(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let console = SQLConsoleRepository(database: database)
            let keys = SQLAPIKeyRepository(database: database)
            let ada = try await stored("ada@example.com", on: database)
            let bob = try await stored("bob@example.com", on: database)
            let oldest = key(ada, at: epoch)
            let admin = key(ada, kind: .admin, at: epoch.addingTimeInterval(1))
            let newest = key(ada, at: epoch.addingTimeInterval(2))
            for made in [oldest, admin, newest, key(bob, at: epoch)] { try await keys.create(made) }
            let revoked = try #require(try await keys.revoke(newest.id, in: ada.organization.id, at: epoch))

            #expect(try await console.keys(of: ada.organization.id, limit: 10) == [revoked, admin, oldest])
            #expect(try await console.keys(of: ada.organization.id, limit: 2).map(\.id) == [newest.id, admin.id])
            #expect(try await console.keys(of: OrganizationID.generate(), limit: 10).isEmpty)
        }
    }

    @Test(arguments: Backend.available)
    func auditLogMergesConsoleEventsNewestFirstWithCursor(_ backend: Backend) async throws {
        try await withTestDatabase(backend) { database in
            let console = SQLConsoleRepository(database: database)
            let audit = SQLAuditLogRepository(database: database)
            let ada = try await stored("ada@example.com", on: database)
            let bob = try await stored("bob@example.com", on: database)
            let actor = AuditActor.console(ada.user, ipAddress: "192.0.2.1")
            func event(_ account: NewAccount, _ type: AuditEventType, at seconds: TimeInterval) -> AuditEvent {
                AuditEvent(
                    organizationID: account.organization.id, type: type, effectiveAt: epoch.addingTimeInterval(seconds),
                    actor: actor, details: ["n": "\(Int(seconds))"])
            }
            let adaFirst = event(ada, .organizationUpdated, at: 1)
            let bobFirst = event(bob, .organizationUpdated, at: 3)
            let adaSecond = event(ada, .organizationSuspended, at: 4)
            try await audit.append(adaFirst)
            try await console.appendConsoleEvent(
                type: "operator.granted", actor: .operator, details: ["email": "ada@example.com"],
                at: epoch.addingTimeInterval(2))
            try await audit.append(bobFirst)
            try await audit.append(adaSecond)
            try await console.appendConsoleEvent(
                type: "prefix_guard.rule_set", actor: actor, details: ["prefix": "+44"],
                at: epoch.addingTimeInterval(5))

            let first = try await console.auditEvents(organization: nil, types: nil, after: nil, limit: 2)
            #expect(first.items.map(\.type) == ["prefix_guard.rule_set", adaSecond.type.rawValue])
            #expect(first.hasMore)
            let newest = try #require(first.items.first)
            #expect(newest.organizationID == nil)
            #expect(newest.actor == actor)
            #expect(newest.details == ["prefix": "+44"])
            #expect(newest.effectiveAt == epoch.addingTimeInterval(5))
            #expect(first.items.last?.id == adaSecond.id)
            #expect(first.items.last?.organizationID == ada.organization.id)

            let second = try await console.auditEvents(organization: nil, types: nil, after: adaSecond.id, limit: 2)
            #expect(second.items.map(\.id).first == bobFirst.id)
            #expect(second.items.map(\.type) == [bobFirst.type.rawValue, "operator.granted"])
            #expect(second.hasMore)
            let granted = try #require(second.items.last)
            #expect(granted.actor == .operator)
            let third = try await console.auditEvents(organization: nil, types: nil, after: granted.id, limit: 2)
            #expect(third.items.map(\.id) == [adaFirst.id])
            #expect(!third.hasMore)

            // One organization's log holds its own events only.
            let adas = try await console.auditEvents(
                organization: ada.organization.id, types: nil, after: nil, limit: 5)
            #expect(adas.items.map(\.id) == [adaSecond.id, adaFirst.id])
            let older = try await console.auditEvents(
                organization: ada.organization.id, types: nil, after: adaSecond.id, limit: 5)
            #expect(older.items.map(\.id) == [adaFirst.id])

            let grants = try await console.auditEvents(
                organization: nil, types: ["operator.granted"], after: nil, limit: 5)
            #expect(grants.items.map(\.id) == [granted.id])
            let suspensions = try await console.auditEvents(
                organization: ada.organization.id, types: [adaSecond.type.rawValue, "operator.granted"], after: nil,
                limit: 5)
            #expect(suspensions.items.map(\.id) == [adaSecond.id])

            await #expect(throws: DomainError.unknownCursor) {
                try await console.auditEvents(organization: nil, types: nil, after: .generate(), limit: 5)
            }
            // The console's own events are not in an organization's log, so they are no cursor there.
            await #expect(throws: DomainError.unknownCursor) {
                try await console.auditEvents(
                    organization: ada.organization.id, types: nil, after: granted.id, limit: 5)
            }
        }
    }
}
