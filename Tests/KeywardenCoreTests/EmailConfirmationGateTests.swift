import Foundation
import KeywardenCore
import Synchronization
import Testing

@Suite("Key creation and phone verification wait for a confirmed email")
struct EmailConfirmationGateTests {
    /// The key service with the rule on, over `bench`'s storage.
    func keys(_ bench: KeyBench, rule: EmailConfirmationRule) -> APIKeyService {
        let repositories = bench.repositories
        return APIKeyService(
            keys: repositories.keys, projects: repositories.projects, accounts: repositories.accounts,
            verifications: repositories.verifications, audit: repositories.audit,
            index: APIKeyIndex(format: APIKeyFormat()), policy: KeyIssuancePolicy(),
            serverSecret: "keywarden-core-tests-secret", clock: bench.time.clock, emailConfirmation: rule)
    }

    @Test func everyWayAPersonMakesKeysIsRefusedUntilTheyConfirm() async throws {
        let bench = KeyBench()
        let ada = try await bench.signUp()
        try await bench.verify(ada)
        let legacy = try await bench.importLegacyKey(into: ada)
        let service = keys(bench, rule: EmailConfirmationRule(isRequired: true))
        let membership = try await bench.membership(in: ada)
        let project = ada.defaultProject.id.rawValue
        let actor = AuditActor.session(ada.user, ipAddress: nil)
        let request = try bench.keyRequest()
        let user = ada.user
        var refusals: [DomainError?] = []
        refusals.append(
            await refusalError {
                try await service.createProjectKey(
                    project: project, request: request, membership: membership, user: user, actor: actor)
            })
        refusals.append(
            await refusalError {
                try await service.createServiceAccount(
                    project: project, name: "bot", membership: membership, user: user, actor: actor)
            })
        refusals.append(
            await refusalError {
                try await service.createAdminKey(name: "ops", membership: membership, user: user, actor: actor)
            })
        refusals.append(
            await refusalError {
                try await service.rotate(
                    project: project, key: legacy.id.rawValue, gracePeriod: nil, idempotencyKey: nil,
                    membership: membership, user: user, actor: actor)
            })
        #expect(refusals.map { refusalCode(of: $0) } == Array(repeating: "email_not_confirmed", count: 4))
        #expect(refusals.allSatisfy { $0?.kind == .forbidden })
        #expect(refusals.first??.message.contains("ada@example.com") == true)
        #expect(await bench.storedKeys() == [legacy])

        var confirmed = user
        confirmed.emailConfirmedAt = bench.time.now
        _ = try await service.createProjectKey(
            project: project, request: request, membership: membership, user: confirmed, actor: actor)
    }

    @Test func keysMakingKeysAndTheRuleSwitchedOffAreNotAsked() async throws {
        let bench = KeyBench()
        let ada = try await bench.signUp()
        try await bench.verify(ada)
        let membership = try await bench.membership(in: ada)
        let off = keys(bench, rule: .notRequired)
        let issued = try await off.createProjectKey(
            project: ada.defaultProject.id.rawValue, request: try bench.keyRequest(), membership: membership,
            user: ada.user, actor: .session(ada.user, ipAddress: nil))
        let on = keys(bench, rule: EmailConfirmationRule(isRequired: true))
        _ = try await on.createWithKey(issued.key, request: try bench.keyRequest("made by a key"))
    }

    @Test func startingAPhoneVerificationIsRefusedUntilTheAddressIsConfirmed() async throws {
        let bench = VerificationBench()
        let engine = PhoneVerificationService(
            verifications: bench.repositories.verifications, audit: bench.repositories.audit,
            counters: bench.repositories.counters,
            secrets: VerificationSecrets(serverSecret: "keywarden-core-tests-secret"), delivery: bench.sms.delivery,
            lineTypes: .offline, policy: VerificationPolicy(), clock: bench.time.clock, logger: quietLogger,
            emailConfirmation: EmailConfirmationRule(isRequired: true))
        var requester = try await bench.owner()
        let code = await refusal {
            try await engine.start(phoneNumber: TestNumbers.us, country: nil, channel: "sms", by: requester)
        }
        #expect(code == "email_not_confirmed")
        #expect(bench.sms.sent.isEmpty)

        requester.user.emailConfirmedAt = bench.time.now
        _ = try await engine.start(phoneNumber: TestNumbers.us, country: nil, channel: "sms", by: requester)
        #expect(bench.sms.sent.count == 1)
    }

    @Test func aRequiredCaptchaGuardsStartingAPhoneVerification() async throws {
        let bench = VerificationBench()
        let provider = StubHumanCheck(.fail)
        let engine = PhoneVerificationService(
            verifications: bench.repositories.verifications, audit: bench.repositories.audit,
            counters: bench.repositories.counters,
            secrets: VerificationSecrets(serverSecret: "keywarden-core-tests-secret"), delivery: bench.sms.delivery,
            lineTypes: .offline, policy: VerificationPolicy(), clock: bench.time.clock, logger: quietLogger,
            humanCheck: provider.check)
        let requester = try await bench.owner()
        func start(_ response: String?) async -> String? {
            await refusal {
                try await engine.start(
                    phoneNumber: TestNumbers.us, country: nil, channel: "sms", humanCheckResponse: response,
                    by: requester)
            }
        }
        #expect(await start(nil) == "captcha_failed")
        #expect(await start("token") == "captcha_failed")
        provider.answer.withLock { $0 = .unreachable }
        #expect(await start("token") == "captcha_unavailable")
        #expect(bench.sms.sent.isEmpty)
        provider.answer.withLock { $0 = .pass }
        #expect(await start("token") == nil)
        #expect(provider.questions.last == "token 203.0.113.9")
        #expect(bench.sms.sent.count == 1)
    }
}
