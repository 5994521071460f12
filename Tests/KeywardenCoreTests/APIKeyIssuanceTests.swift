import Foundation
import KeywardenCore
import Testing

@Suite("Key creation rules in the key service")
struct APIKeyIssuanceTests {
    @Test func projectViewersCannotChangeKeysAndAreToldSoBeforeThePolicy() async throws {
        let bench = KeyBench()
        let ada = try await bench.signUp("ada@example.com")
        let grace = try await bench.signUp("grace@example.com")
        let legacy = try await bench.importLegacyKey(into: ada)
        try await bench.add(grace, to: ada, as: .reader)
        try await bench.repositories.database.addProjectMember(
            grace.user.id, to: ada.defaultProject.id, role: .viewer, at: bench.time.now)
        let reader = try await bench.membership(in: ada, of: grace.user)
        let project = ada.defaultProject.id.rawValue
        let actor = AuditActor.session(grace.user, ipAddress: nil)
        let service = bench.service
        let request = try bench.keyRequest()
        // Ada's organization is unverified, yet a viewer is told about the role, not the phone.
        var codes: [String?] = []
        codes.append(
            await refusal {
                try await service.createProjectKey(
                    project: project, request: request, membership: reader, user: grace.user, actor: actor)
            })
        codes.append(
            await refusal {
                try await service.createServiceAccount(
                    project: project, name: "bot", membership: reader, user: grace.user, actor: actor)
            })
        codes.append(
            await refusal {
                try await service.createAdminKey(name: "ops", membership: reader, user: grace.user, actor: actor)
            })
        codes.append(
            await refusal {
                try await service.rotate(
                    project: project, key: legacy.id.rawValue, gracePeriod: nil, idempotencyKey: nil,
                    membership: reader, user: grace.user, actor: actor)
            })
        codes.append(
            await refusal {
                try await service.deleteProjectKey(
                    project: project, key: legacy.id.rawValue, membership: reader, user: grace.user, actor: actor)
            })
        #expect(codes == Array(repeating: "insufficient_permissions", count: 5))
        #expect(await bench.storedKeys() == [legacy])
        // Reading is open to viewers.
        let listed = try await service.projectKeys(project: project, membership: reader, after: nil, limit: nil)
        #expect(listed.items == [legacy])
    }

    @Test func onlyKeysWithAllPermissionsInAProjectCreateKeys() async throws {
        let bench = KeyBench()
        let ada = try await bench.signUp()
        try await bench.verify(ada)
        let readOnly = try await bench.createKey(in: ada, request: try bench.keyRequest(permissions: .readOnly))
        let restricted = try await bench.createKey(
            in: ada, request: try bench.keyRequest(permissions: .restricted(["model.request"])))
        let admin = try await bench.service.createAdminKey(
            name: "ops", membership: try await bench.membership(in: ada), user: ada.user,
            actor: .session(ada.user, ipAddress: nil))
        let request = try bench.keyRequest()
        for caller in [readOnly.key, restricted.key, admin.key] {
            let code = await refusal { try await bench.service.createWithKey(caller, request: request) }
            #expect(code == "insufficient_permissions", "\(caller.kind) \(caller.permissions.name)")
        }
        #expect(await bench.storedKeys().count == 3)
    }

    @Test func anArchivedProjectTakesNoNewKeysWhateverTheOrganizationsStanding() async throws {
        let bench = KeyBench()
        let ada = try await bench.signUp()
        let archived = Project(
            id: .generate(), organizationID: ada.organization.id, name: "Old", isDefault: false,
            createdAt: bench.time.now)
        try await bench.repositories.projects.create(archived)
        _ = try await bench.repositories.projects.archive(archived.id, in: ada.organization.id, at: bench.time.now)
        let project = archived.id.rawValue
        let actor = AuditActor.session(ada.user, ipAddress: nil)
        let service = bench.service
        let request = try bench.keyRequest()
        let old = APIKeyService.ImportedKey(
            name: "old", value: KeyBench.legacyValue, sha256: nil, createdAt: KeyBench.legacyDate)

        // Unverified: the archive is the reason given, not the verification.
        let unverified = try await bench.membership(in: ada)
        var beforeVerifying: [String?] = []
        beforeVerifying.append(
            await refusal {
                try await service.createProjectKey(
                    project: project, request: request, membership: unverified, user: ada.user, actor: actor)
            })
        beforeVerifying.append(
            await refusal {
                try await service.createServiceAccount(
                    project: project, name: "bot", membership: unverified, user: ada.user, actor: actor)
            })
        #expect(beforeVerifying == ["project_archived", "project_archived"])

        try await bench.verify(ada)
        let verified = try await bench.membership(in: ada)
        var afterVerifying: [String?] = []
        afterVerifying.append(
            await refusal {
                try await service.createProjectKey(
                    project: project, request: request, membership: verified, user: ada.user, actor: actor)
            })
        afterVerifying.append(
            await refusal {
                try await service.createServiceAccount(
                    project: project, name: "bot", membership: verified, user: ada.user, actor: actor)
            })
        // The command line does not tell archived projects from missing ones.
        afterVerifying.append(await refusal { try await service.createByOperator(project: project, request: request) })
        afterVerifying.append(await refusal { try await service.importKeys([old], project: project) })
        #expect(afterVerifying == ["project_archived", "project_archived", "project_not_found", "project_not_found"])
        #expect(await bench.storedKeys().isEmpty)
    }

    @Test func creatingAKeyWritesOneAuditEventThatHoldsNoSecret() async throws {
        let bench = KeyBench()
        let ada = try await bench.signUp()
        try await bench.verify(ada)
        let actor = AuditActor.session(ada.user, ipAddress: "203.0.113.7")
        let issued = try await bench.createKey(in: ada, actor: actor)
        let events = await bench.repositories.database.auditEvents(in: ada.organization.id)
        #expect(events.map(\.type.rawValue) == ["api_key.created"])
        let event = try #require(events.first)
        #expect(event.actor == actor)
        #expect(event.effectiveAt == bench.time.now)
        #expect(
            event.details == [
                "id": issued.key.id.rawValue, "name": "ci", "redacted_value": issued.key.redactedValue,
                "project_id": ada.defaultProject.id.rawValue,
            ])
        #expect(!event.details.values.contains(issued.value))

        let membership = try await bench.membership(in: ada)
        let admin = try await bench.service.createAdminKey(
            name: "ops", membership: membership, user: ada.user, actor: actor)
        let (bot, _) = try await bench.service.createServiceAccount(
            project: ada.defaultProject.id.rawValue, name: "bot", membership: membership, user: ada.user, actor: actor)
        let all = await bench.repositories.database.auditEvents(in: ada.organization.id)
        #expect(
            all.map(\.type.rawValue) == [
                "api_key.created", "admin_api_key.created", "service_account.created", "api_key.created",
            ])
        #expect(
            all[1].details == ["id": admin.key.id.rawValue, "name": "ops", "redacted_value": admin.key.redactedValue])
        #expect(all[2].details == ["id": bot.id.rawValue, "project_id": ada.defaultProject.id.rawValue])
    }

    @Test func importedKeysKeepTheirDatesAndOnlyRecentOnesAskThePolicy() async throws {
        let bench = KeyBench()
        let ada = try await bench.signUp()
        let legacy = try await bench.importLegacyKey(into: ada)
        #expect(legacy.createdAt == KeyBench.legacyDate)
        #expect(legacy.legacy)
        #expect(legacy.owner == .serviceAccount(ServiceAccountID(unchecked: "svc_imported")))
        let event = try #require(await bench.repositories.database.auditEvents(in: ada.organization.id).first)
        #expect(event.type.rawValue == "api_key.created")
        #expect(event.actor == .operator)
        #expect(event.details["imported"] == "true")

        // Once the organization is verified, a recent import passes the policy like any new key.
        try await bench.verify(ada)
        let recent = try await bench.service.importKeys(
            [.init(name: "recent", value: nil, sha256: String(repeating: "b", count: 64), createdAt: bench.time.now)],
            project: ada.defaultProject.id.rawValue)
        #expect(recent.map(\.legacy) == [false])
    }

    @Test func rotationIssuesThroughThePolicyAndARetryReturnsTheSameKey() async throws {
        let bench = KeyBench()
        let ada = try await bench.signUp()
        try await bench.verify(ada)
        let old = try await bench.createKey(in: ada)
        let membership = try await bench.membership(in: ada)
        func rotate() async throws -> IssuedAPIKey {
            try await bench.service.rotate(
                project: ada.defaultProject.id.rawValue, key: old.key.id.rawValue, gracePeriod: 60,
                idempotencyKey: "rotate-1", membership: membership, user: ada.user,
                actor: .session(ada.user, ipAddress: nil))
        }
        let rotated = try await rotate()
        #expect(rotated.key.rotatedFrom == old.key.id)
        #expect(!rotated.key.legacy)
        #expect(try await bench.repositories.keys.key(old.key.id)?.expiresAt == bench.time.now.addingTimeInterval(60))
        let retried = try await rotate()
        #expect(retried.value == rotated.value)
        #expect(retried.key.id == rotated.key.id)
        #expect(await bench.auditTypes(of: ada) == ["api_key.created", "api_key.rotated"])
    }
}
