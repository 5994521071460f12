import Foundation
import KeywardenCore
import Logging
import Testing

/// Numbers used below: a US number (fixed line or mobile: allowed), a British mobile, a British
/// landline and a US toll-free number.
enum TestNumbers {
    static let us = "+1 201 555 0123"
    static let usE164 = "+12015550123"
    static let usMasked = "+• •••-•••-••23"
    static let britishMobile = "+44 7400 123456"
    static let britishLandline = "+44 20 7946 0018"
    static let usTollFree = "+1 800 253 0000"
}

/// A logger that keeps the engine's warnings (paused prefixes, failed lookups) out of test output.
let quietLogger: Logger = {
    var logger = Logger(label: "keywarden.core-tests")
    logger.logLevel = .critical
    return logger
}()

/// The verification engine over in-memory storage, with a recording SMS sender and a clock the
/// test moves.
struct VerificationBench {
    typealias Requester = PhoneVerificationService.Requester

    /// Where the clock starts: 100 seconds into a day, so into its 10-minute and hourly windows too.
    static let opening = Date(timeIntervalSince1970: 1_750_032_100)

    let repositories: InMemoryRepositories
    let time: ManualClock
    let sms: RecordingSMS
    let engine: PhoneVerificationService
    /// The operator's prefix rules and the guard's recorded pauses.
    let prefixRules = InMemoryPrefixGuard()
    /// Counted starts, sends, approvals and refusals.
    let stats = InMemoryVerificationStats()

    /// A bench with the default policy changed by `configure`; codes go through `delivery`, or
    /// the recording sender `sms` when it is `nil`.
    init(
        lineTypes: LineTypeLookup = .offline, delivery: CodeDelivery? = nil,
        policy configure: (inout VerificationPolicy) -> Void = { _ in }
    ) {
        var policy = VerificationPolicy()
        configure(&policy)
        let repositories = InMemoryRepositories()
        let time = ManualClock(Self.opening)
        let sms = RecordingSMS()
        self.repositories = repositories
        self.time = time
        self.sms = sms
        engine = PhoneVerificationService(
            verifications: repositories.verifications, audit: repositories.audit, counters: repositories.counters,
            secrets: VerificationSecrets(serverSecret: "keywarden-core-tests-secret"),
            delivery: delivery ?? sms.delivery, lineTypes: lineTypes, policy: policy, clock: time.clock,
            logger: quietLogger, stats: stats, prefixRules: prefixRules)
    }

    /// Signs a person up and returns them as the owner of their personal organization.
    func owner(_ email: String = "ada@example.com") async throws -> Requester {
        let account = try await repositories.signUp(email, at: time.now)
        return try await requester(account.user, in: account.organization.id)
    }

    /// The person as a member of the organization, with their membership as it stands now.
    func requester(_ user: User, in organization: OrganizationID) async throws -> Requester {
        Requester(
            membership: try await repositories.membership(of: user.id, in: organization), user: user,
            clientAddress: "203.0.113.9")
    }

    /// Starts a verification of `number`, written in international form.
    func start(_ requester: Requester, number: String = TestNumbers.us) async throws -> PhoneVerification {
        try await engine.start(phoneNumber: number, country: nil, channel: "sms", by: requester)
    }

    /// Checks a code.
    func check(
        _ verification: PhoneVerification, code: String, by requester: Requester
    ) async throws -> PhoneVerification {
        try await engine.check(id: verification.id.rawValue, code: code, by: requester)
    }

    /// Asks for the code again.
    func resend(_ verification: PhoneVerification, by requester: Requester) async throws -> PhoneVerification {
        try await engine.resend(id: verification.id.rawValue, by: requester)
    }

    /// The code in the latest message for the verification.
    func code(for verification: PhoneVerification) throws -> String {
        try #require(sms.code(for: verification.id))
    }

    /// A code that is not the right one.
    func wrongCode(for verification: PhoneVerification) throws -> String {
        try code(for: verification) == "000000" ? "111111" : "000000"
    }

    /// Starts a verification of `number` for the requester's organization and approves it.
    @discardableResult
    func verify(_ requester: Requester, number: String = TestNumbers.us) async throws -> PhoneVerification {
        let started = try await start(requester, number: number)
        return try await check(started, code: try code(for: started), by: requester)
    }

    /// The verification as storage holds it now.
    func stored(_ verification: PhoneVerification) async throws -> PhoneVerification {
        try #require(
            try await repositories.verifications.verification(verification.id, in: verification.organizationID))
    }

    /// The requester's organization as storage holds it now.
    func organization(of requester: Requester) async throws -> Organization {
        try #require(try await repositories.accounts.organization(id: requester.membership.organization.id))
    }

    /// Every verification of the requester's organization, oldest first.
    func verifications(of requester: Requester) async -> [PhoneVerification] {
        await repositories.database.verifications(in: requester.membership.organization.id)
    }

    /// The audit events written for the requester's organization, oldest first.
    func auditEvents(of requester: Requester) async -> [AuditEvent] {
        await repositories.database.auditEvents(in: requester.membership.organization.id)
    }
}
