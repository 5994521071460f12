import Foundation
import KeywardenCore
import KeywardenServer
import KeywardenStorage
import SQLKit
import Synchronization
import Testing

@Suite("Phone verification under concurrency")
struct PhoneVerificationConcurrencyTests {
    /// A new owner with a personal organization.
    func owner(
        _ email: String, in services: KeywardenServices, address: String = "203.0.113.9"
    ) async throws
        -> PhoneVerificationService.Requester
    {
        let account = try await services.signUpConfirmed(email)
        return PhoneVerificationService.Requester(
            membership: Membership(organization: account.organization, role: .owner, addedAt: Date()),
            user: account.user, clientAddress: address)
    }

    @Test func twentySimultaneousChecksCompareAtMostFiveCodes() async throws {
        let outbox = TestOutbox()
        try await withServices(outbox: outbox) { services in
            let requester = try await owner("ada@example.com", in: services)
            let verification = try await services.verifications.start(
                phoneNumber: Numbers.us, country: "US", channel: "sms", by: requester)
            let code = try #require(outbox.code(for: verification.id.rawValue))
            let wrong = code == "000000" ? "111111" : "000000"
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        do {
                            _ = try await services.verifications.check(
                                id: verification.id.rawValue, code: wrong, by: requester)
                            return "approved"
                        } catch let error as DomainError {
                            return error.code.rawValue
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            // Four wrong codes were compared and refused; the fifth comparison used up the budget;
            // the other fifteen never reached a comparison.
            #expect(outcomes.filter { $0 == "incorrect_code" }.count == 4)
            #expect(outcomes.filter { $0 == "max_attempts_reached" }.count == 16)
            let attempts = try await services.database.withConnection { db in
                try await db.raw("SELECT attempts FROM phone_verifications").first()?.decode(
                    column: "attempts", as: Int64.self)
            }
            #expect(attempts == 5)
        }
    }

    /// Phone verification over `repository` and the services' other parts, sending to `outbox`.
    func verifications(
        over repository: any PhoneVerificationRepository, _ services: KeywardenServices, outbox: TestOutbox
    ) -> PhoneVerificationService {
        PhoneVerificationService(
            verifications: repository, audit: services.audit, counters: services.counters,
            secrets: VerificationSecrets(serverSecret: testSecret), delivery: .local(outbox.sender),
            lineTypes: .offline, policy: services.configuration.verification, clock: .live, logger: quietLogger)
    }

    /// Two owners' tabs send the right code at once; `order` arranges the repository's gates so
    /// the race runs one way every time. One approves; the other is told it is already approved.
    func raceTwoCorrectChecks(
        order: @Sendable (inout GatedVerificationRepository) -> Void
    ) async throws {
        let outbox = TestOutbox()
        try await withServices(outbox: outbox) { services in
            var gated = GatedVerificationRepository(base: SQLPhoneVerificationRepository(database: services.database))
            order(&gated)
            let engine = verifications(over: gated, services, outbox: outbox)
            let requester = try await owner("ada@example.com", in: services)
            let verification = try await engine.start(
                phoneNumber: Numbers.us, country: "US", channel: nil, by: requester)
            let code = try #require(outbox.code(for: verification.id.rawValue))
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        do {
                            return try await engine.check(
                                id: verification.id.rawValue, code: code, by: requester
                            ).status.rawValue
                        } catch let error as DomainError {
                            return error.code.rawValue + ": " + error.message
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(
                outcomes.sorted() == ["approved", "verification_not_pending: This verification is already approved."])
            let approvals = try await services.audit.events(
                in: requester.membership.organization.id, types: [.phoneVerificationApproved], from: nil, until: nil,
                after: nil, limit: 10)
            #expect(approvals.items.count == 1)
        }
    }

    @Test func aCorrectCheckCountedAfterAnotherApprovedIsToldItIsAlreadyApproved() async throws {
        let bothRead = Latch()
        let approved = Latch()
        try await raceTwoCorrectChecks { gated in
            // Both checks have read the verification as pending; the second is counted only
            // once the first has approved it.
            gated.beforeRecordCheck = { arrival in
                if arrival == 0 {
                    await bothRead.wait()
                } else {
                    bothRead.open()
                    await approved.wait()
                }
            }
            gated.afterApprove = { _ in approved.open() }
        }
    }

    @Test func twoCorrectChecksCountedBeforeEitherApprovesApproveOnce() async throws {
        let bothCounted = Latch()
        let counted = Mutex(0)
        try await raceTwoCorrectChecks { gated in
            gated.afterRecordCheck = { _ in
                if counted.withLock({ count in
                    count += 1
                    return count
                }) == 2 {
                    bothCounted.open()
                }
            }
            gated.beforeApprove = { _ in await bothCounted.wait() }
        }
    }

    @Test func tenSimultaneousStartsForOneNumberNeverExceedTheCap() async throws {
        let outbox = TestOutbox()
        try await withServices(outbox: outbox) { services in
            var requesters: [PhoneVerificationService.Requester] = []
            for index in 0..<10 {
                requesters.append(try await owner("owner\(index)@example.com", in: services))
            }
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for requester in requesters {
                    group.addTask {
                        do {
                            _ = try await services.verifications.start(
                                phoneNumber: Numbers.usE164, country: nil, channel: nil, by: requester)
                            return "sent"
                        } catch let error as DomainError {
                            return error.code.rawValue
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            // The per-number cap is 5 sends per 10 minutes.
            #expect(outcomes.filter { $0 == "sent" }.count == 5)
            #expect(outcomes.filter { $0 == "too_many_verification_requests" }.count == 5)
            #expect(outbox.sent.count == 5)
        }
    }

    @Test func noCodeOrFullNumberReachesLogsBodiesOrTheAuditLog() async throws {
        let outbox = TestOutbox()
        let logs = CapturedLogs()
        try await withApp(outbox: outbox, logger: logs.logger) { api, services in
            let token = try await api.token()
            let started = try await api.startVerification(token)
            let id = try #require(started.string("id"))
            let code = try #require(outbox.code(for: id))
            let wrong = try await api.check(token, id, code: code == "999999" ? "888888" : "999999")
            let approved = try await api.check(token, id, code: code)
            let organization = try await api.request(.get, "/v1/organization", token: token)
            let audit = try await api.request(.get, "/v1/organization/audit_logs", token: token)
            let refused = try await api.startVerification(token, number: Numbers.britishLandline, country: nil)

            let secrets = [code, "2015550123", "+12015550123", "201) 555-0123", "7946 0018", testSecret, token]
            let bodies = [started, wrong, approved, organization, audit, refused].map {
                String(decoding: $0.body, as: UTF8.self)
            }
            let stored = try await services.database.withConnection { db in
                try await db.raw("SELECT actor, details FROM audit_logs").all().map {
                    (try $0.decode(column: "actor", as: String.self))
                        + (try $0.decode(column: "details", as: String.self))
                }
            }
            #expect(!logs.all.isEmpty)
            for secret in secrets {
                let leaking = logs.all.filter { $0.contains(secret) }
                #expect(leaking.isEmpty, "log lines hold a secret: \(leaking)")
                #expect(!bodies.contains { $0.contains(secret) }, "response body holds a secret")
                #expect(!stored.contains { $0.contains(secret) }, "audit log holds a secret")
            }
        }
    }
}
