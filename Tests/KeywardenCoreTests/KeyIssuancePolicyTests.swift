import Foundation
import KeywardenCore
import Testing

@Suite("Key issuance policy")
struct KeyIssuancePolicyTests {
    let enforcement = KeyIssuancePolicy.defaultEnforcementDate

    func organization(_ status: OrganizationVerification.Status) -> Organization {
        Organization(
            id: .generate(), name: "Org", isPersonal: false, createdAt: enforcement,
            verification: OrganizationVerification(status: status))
    }

    /// A question about the creating person that the policy must not ask.
    func unexpectedQuestion() async throws -> Bool {
        Issue.record("the policy asked whether the person verified")
        return true
    }

    @Test func anUnverifiedOrganizationIsRefusedFromTheEnforcementDateOn() async throws {
        let policy = KeyIssuancePolicy()
        let unverified = organization(.unverified)
        let before = await refusal {
            try await policy.authorize(
                organization: unverified, userHasVerified: false, now: enforcement.addingTimeInterval(-1))
        }
        #expect(before == nil)
        let error = await refusalError {
            try await policy.authorize(organization: unverified, userHasVerified: false, now: enforcement)
        }
        #expect(refusalCode(of: error) == "phone_verification_required")
        #expect(error?.kind == .forbidden)
        #expect(error?.message.contains("POST /v1/organization/phone_verifications") == true)
        #expect(error?.message.contains("Keys created before 2024-11-05 keep working.") == true)
    }

    @Test func verifiedAndExemptOrganizationsMayCreateKeysWithoutAQuestionAboutThePerson() async throws {
        let policy = KeyIssuancePolicy()
        for status in [OrganizationVerification.Status.verified, .exempt] {
            let code = await refusal {
                try await policy.authorize(
                    organization: organization(status), userHasVerified: try await unexpectedQuestion(),
                    now: enforcement)
            }
            #expect(code == nil, "\(status)")
        }
    }

    @Test func theOrganizationScopeNeverAsksAboutThePerson() async throws {
        let code = await refusal {
            try await KeyIssuancePolicy(scope: .organization).authorize(
                organization: organization(.unverified), userHasVerified: try await unexpectedQuestion(),
                now: enforcement)
        }
        #expect(code == "phone_verification_required")
    }

    @Test func nothingIsAskedBeforeTheEnforcementDate() async throws {
        for scope in [KeyIssuancePolicy.Scope.organization, .user] {
            let code = await refusal {
                try await KeyIssuancePolicy(scope: scope).authorize(
                    organization: organization(.unverified), userHasVerified: try await unexpectedQuestion(),
                    now: enforcement.addingTimeInterval(-86_400))
            }
            #expect(code == nil, "\(scope)")
        }
    }

    @Test func theUserScopeCountsTheCreatorsOwnVerificationOnly() async throws {
        let policy = KeyIssuancePolicy(scope: .user)
        // A verified organization is not enough: the person must have verified themselves.
        let verifiedOnly = await refusal {
            try await policy.authorize(organization: organization(.verified), userHasVerified: false, now: enforcement)
        }
        #expect(verifiedOnly == "phone_verification_required")
        // And a person who has verified may create keys even in an unverified organization.
        for status in [OrganizationVerification.Status.verified, .unverified] {
            let code = await refusal {
                try await policy.authorize(organization: organization(status), userHasVerified: true, now: enforcement)
            }
            #expect(code == nil, "\(status)")
        }
        // An exempt organization needs nobody's verification.
        let exempt = await refusal {
            try await policy.authorize(
                organization: organization(.exempt), userHasVerified: try await unexpectedQuestion(),
                now: enforcement)
        }
        #expect(exempt == nil)
    }

    @Test func keysMadeBeforeTheEnforcementDateAreLegacy() {
        let policy = KeyIssuancePolicy()
        #expect(policy.isLegacy(createdAt: enforcement.addingTimeInterval(-0.001)))
        #expect(!policy.isLegacy(createdAt: enforcement))
        let later = KeyIssuancePolicy(enforcementDate: enforcement.addingTimeInterval(3600))
        #expect(later.isLegacy(createdAt: enforcement))
        #expect(KeyIssuancePolicy.defaultEnforcementDate == Date(timeIntervalSince1970: 1_730_764_800))
    }
}

@Suite("Key issuance through the key service")
struct KeyIssuanceServiceTests {
    @Test func anUnverifiedOrganizationCannotCreateAKeyAfterTheEnforcementDate() async throws {
        let bench = KeyBench()
        let ada = try await bench.signUp()
        let code = await refusal { try await bench.createKey(in: ada) }
        #expect(code == "phone_verification_required")
        #expect(await bench.storedKeys().isEmpty)
        #expect(await bench.auditTypes(of: ada).isEmpty)
        #expect(bench.service.index.count == 0)
    }

    @Test func everyPathThatCreatesAKeyAsksThePolicy() async throws {
        let bench = KeyBench()
        let ada = try await bench.signUp()
        // Keys made before the enforcement date are imported without any verification.
        let legacy = try await bench.importLegacyKey(into: ada)
        #expect(legacy.legacy)
        let membership = try await bench.membership(in: ada)
        let project = ada.defaultProject.id.rawValue
        let actor = AuditActor.session(ada.user, ipAddress: nil)
        let service = bench.service
        let request = try bench.keyRequest()
        let recent = APIKeyService.ImportedKey(
            name: "recent", value: nil, sha256: String(repeating: "a", count: 64), createdAt: bench.time.now)
        var codes: [String?] = []
        codes.append(
            await refusal {
                try await service.createProjectKey(
                    project: project, request: request, membership: membership, user: ada.user, actor: actor)
            })
        codes.append(
            await refusal {
                try await service.createServiceAccount(
                    project: project, name: "bot", membership: membership, user: ada.user, actor: actor)
            })
        codes.append(
            await refusal {
                try await service.createAdminKey(name: "ops", membership: membership, user: ada.user, actor: actor)
            })
        codes.append(await refusal { try await service.createWithKey(legacy, request: request) })
        codes.append(
            await refusal {
                try await service.rotate(
                    project: project, key: legacy.id.rawValue, gracePeriod: nil, idempotencyKey: nil,
                    membership: membership, user: ada.user, actor: actor)
            })
        codes.append(await refusal { try await service.createByOperator(project: project, request: request) })
        codes.append(await refusal { try await service.importKeys([recent], project: project) })
        #expect(codes == Array(repeating: "phone_verification_required", count: 7))
        #expect(await bench.storedKeys() == [legacy])
    }

    @Test func keysCreatedBeforeTheEnforcementDateKeepWorkingAfterIt() async throws {
        let bench = KeyBench(at: KeyBench.enforcement.addingTimeInterval(-3600))
        let ada = try await bench.signUp()
        let early = try await bench.createKey(in: ada)
        #expect(early.key.legacy)
        let legacy = try await bench.importLegacyKey(into: ada)

        bench.time.advance(by: 7200)
        #expect(bench.service.index.authenticate(early.value, now: bench.time.now) == .valid(early.key))
        #expect(bench.service.index.authenticate(KeyBench.legacyValue, now: bench.time.now) == .valid(legacy))
        let late = await refusal { try await bench.createKey(in: ada) }
        #expect(late == "phone_verification_required")
    }

    @Test func aVerifiedOrganizationCreatesKeysOnEveryPath() async throws {
        let bench = KeyBench()
        let ada = try await bench.signUp()
        try await bench.verify(ada)
        let membership = try await bench.membership(in: ada)
        #expect(membership.organization.verification.status == .verified)
        let project = ada.defaultProject.id.rawValue
        let actor = AuditActor.session(ada.user, ipAddress: nil)
        let service = bench.service
        let now = bench.time.now

        let issued = try await bench.createKey(
            in: ada, request: try bench.keyRequest(permissions: .readOnly, expiresIn: 3600))
        #expect(issued.value.hasPrefix("sk-proj-"))
        #expect(issued.key.kind == .project)
        #expect(issued.key.projectID == ada.defaultProject.id)
        #expect(issued.key.owner == .user(ada.user.id))
        #expect(issued.key.permissions == .readOnly)
        #expect(issued.key.createdAt == now)
        #expect(issued.key.expiresAt == now.addingTimeInterval(3600))
        #expect(!issued.key.legacy)
        #expect(issued.key.redactedValue == "sk-proj-..." + issued.value.suffix(4))
        #expect(issued.key.digest == APIKeyIndex.digest(issued.value))
        #expect(try await bench.repositories.keys.key(issued.key.id, in: ada.organization.id) == issued.key)
        #expect(service.index.authenticate(issued.value, now: now) == .valid(issued.key))

        let (account, accountKey) = try await service.createServiceAccount(
            project: project, name: "bot", membership: membership, user: ada.user, actor: actor)
        #expect(account.projectID == ada.defaultProject.id)
        #expect(accountKey.value.hasPrefix("sk-svcacct-"))
        #expect(accountKey.key.owner == .serviceAccount(account.id))

        let admin = try await service.createAdminKey(name: "ops", membership: membership, user: ada.user, actor: actor)
        #expect(admin.value.hasPrefix("sk-admin-"))
        #expect(admin.key.projectID == nil)

        let byKey = try await service.createWithKey(accountKey.key, request: try bench.keyRequest())
        #expect(byKey.key.kind == .serviceAccount)
        #expect(byKey.key.owner == .serviceAccount(account.id))
        #expect(byKey.key.projectID == ada.defaultProject.id)

        let byOperator = try await service.createByOperator(project: project, request: try bench.keyRequest())
        #expect(byOperator.key.owner == .user(ada.user.id))
        #expect(await bench.storedKeys().count == 5)
    }

    @Test func anExemptOrganizationCreatesKeysUnderEitherScope() async throws {
        for scope in [KeyIssuancePolicy.Scope.organization, .user] {
            let bench = KeyBench(scope: scope)
            let ada = try await bench.signUp()
            try await bench.exempt(ada)
            let issued = try await bench.createKey(in: ada)
            #expect(!issued.key.legacy, "\(scope)")
        }
    }

    @Test func underTheUserScopeOnlyAPersonWhoVerifiedMayCreateKeys() async throws {
        let bench = KeyBench(scope: .user)
        let ada = try await bench.signUp("ada@example.com")
        let grace = try await bench.signUp("grace@example.com")
        try await bench.add(grace, to: ada, as: .owner)
        try await bench.verify(ada)
        #expect(try await bench.createKey(in: ada).key.owner == .user(ada.user.id))
        let refused = await refusal { try await bench.createKey(in: ada, as: grace.user) }
        #expect(refused == "phone_verification_required")

        // Grace verifies her own organization: her verification counts wherever she creates keys,
        // even in an organization that is not verified.
        try await bench.verify(grace)
        #expect(try await bench.createKey(in: ada, as: grace.user).key.owner == .user(grace.user.id))
        let alan = try await bench.signUp("alan@example.com")
        try await bench.add(grace, to: alan, as: .owner)
        #expect(try await bench.createKey(in: alan, as: grace.user).key.organizationID == alan.organization.id)
        let alanHimself = await refusal { try await bench.createKey(in: alan) }
        #expect(alanHimself == "phone_verification_required")
    }

    @Test func underTheUserScopeAServiceAccountsKeyCannotCreateKeys() async throws {
        let bench = KeyBench(scope: .user)
        let ada = try await bench.signUp()
        try await bench.verify(ada)
        let (_, botKey) = try await bench.service.createServiceAccount(
            project: ada.defaultProject.id.rawValue, name: "bot", membership: try await bench.membership(in: ada),
            user: ada.user, actor: .session(ada.user, ipAddress: nil))
        // No person created it, so nobody's verification counts.
        let request = try bench.keyRequest()
        let refused = await refusal { try await bench.service.createWithKey(botKey.key, request: request) }
        #expect(refused == "phone_verification_required")
        let adasKey = try await bench.createKey(in: ada)
        let byAdasKey = try await bench.service.createWithKey(adasKey.key, request: request)
        #expect(byAdasKey.key.owner == .user(ada.user.id))
    }
}
