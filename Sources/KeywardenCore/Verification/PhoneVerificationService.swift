import Foundation
import Logging
import PhoneNumbers

/// Starts, checks and resends phone verifications under the policy, the caps and the
/// per-number organization limit. Every refusal happens before any SMS is sent.
public struct PhoneVerificationService: Sendable {
    let verifications: any PhoneVerificationRepository
    let audit: any AuditLogRepository
    let throttle: SendThrottle
    let secrets: VerificationSecrets
    let delivery: CodeDelivery
    let lineTypes: LineTypeLookup
    let policy: VerificationPolicy
    let clock: Clock
    let logger: Logger

    /// Creates the service.
    public init(
        verifications: any PhoneVerificationRepository, audit: any AuditLogRepository,
        counters: any RateCounterRepository, secrets: VerificationSecrets, delivery: CodeDelivery,
        lineTypes: LineTypeLookup, policy: VerificationPolicy, clock: Clock, logger: Logger
    ) {
        self.verifications = verifications
        self.audit = audit
        self.throttle = SendThrottle(counters: counters, policy: policy, logger: logger)
        self.secrets = secrets
        self.delivery = delivery
        self.lineTypes = lineTypes
        self.policy = policy
        self.clock = clock
        self.logger = logger
    }

    /// Checks allowed per code.
    public var maxChecks: Int { policy.maxChecks }

    /// Who asks: an owner of the organization, from an address.
    public struct Requester: Sendable {
        public var membership: Membership
        public var user: User
        public var clientAddress: String?

        /// Creates a requester.
        public init(membership: Membership, user: User, clientAddress: String?) {
            self.membership = membership
            self.user = user
            self.clientAddress = clientAddress
        }

        var actor: AuditActor { .session(user, ipAddress: clientAddress) }
        var organization: OrganizationID { membership.organization.id }
    }

    // MARK: Start

    /// Checks the number against every rule, then sends a code.
    public func start(
        phoneNumber raw: String, country rawCountry: String?, channel: String?, by requester: Requester
    )
        async throws -> PhoneVerification
    {
        try requester.membership.requireOwner(to: "verify a phone number")
        if let channel, channel != "sms" {
            throw DomainError.invalidField("channel", "The only channel is 'sms'.")
        }
        let number = try await acceptableNumber(raw, country: rawCountry)
        let e164 = number.e164
        let digest = secrets.phoneDigest(e164)
        let now = clock.now()
        let others = try await verifications.organizationsVerified(
            withPhoneDigest: digest, excluding: requester.organization)
        guard others < policy.maxOrganizationsPerPhone else { throw Self.phoneLimitReached }
        if let pending = try await verifications.pendingVerification(
            in: requester.organization, phoneDigest: digest, at: now)
        {
            // Asking again for a number with a live code sends that code again, cooldown permitting.
            return try await resend(pending, by: requester, now: now)
        }
        let prefix = Self.prefix(of: number, digits: policy.prefixGuard.prefixDigits)
        try await throttle.checkPrefix(prefix, now: now)
        let reservation = try await throttle.reserve(
            phoneDigest: digest, organization: requester.organization, clientAddress: requester.clientAddress, now: now)

        let id = PhoneVerificationID.generate()
        var codeDigest: String?
        var sealedCode: String?
        var code: String?
        if case .local = delivery {
            let fresh = VerificationSecrets.generateCode(length: policy.codeLength)
            code = fresh
            codeDigest = secrets.codeDigest(fresh, verification: id)
            sealedCode = try secrets.seal(fresh, verification: id)
        }
        let verification = PhoneVerification(
            id: id, organizationID: requester.organization, userID: requester.user.id, phoneDigest: digest,
            sealedPhoneNumber: try secrets.sealNumber(e164, verification: id), maskedPhoneNumber: number.masked,
            country: number.region ?? "", status: .pending,
            codeDigest: codeDigest, sealedCode: sealedCode, attempts: 0, sends: 0, createdAt: now,
            expiresAt: now.addingTimeInterval(policy.codeLifetime), lastSentAt: now, nextResendAt: now)
        try await verifications.cancelPending(in: requester.organization, except: nil, at: now)
        try await verifications.create(verification)

        let receipt: SMSReceipt
        do {
            receipt = try await send(code: code, to: e164, verification: id)
        } catch {
            try await verifications.finish(id, as: .failed, at: now)
            try await throttle.release(reservation)
            try await record(
                "phone_verification.failed", verification, actor: requester.actor, now: now,
                extra: ["reason": "provider_unavailable"])
            throw providerFailure(error)
        }
        try await verifications.recordSend(
            id, at: now, nextResendAt: now.addingTimeInterval(policy.resendCooldown),
            providerMessageID: receipt.providerMessageID, delivery: receipt.delivery)
        try await throttle.recordPrefixSend(prefix, now: now)
        try await record(
            "phone_verification.started", verification, actor: requester.actor, now: now,
            extra: ["line_type": number.type.rawValue])
        logger.info(
            "phone verification started",
            metadata: ["verification_id": .string(id.rawValue), "phone_number": .string(number.masked)])
        return try await reload(id, in: requester.organization)
    }

    /// Parses and vets a number: valid, from an allowed country, of an allowed line type.
    func acceptableNumber(_ raw: String, country rawCountry: String?) async throws -> PhoneNumber {
        let text = raw.trimmingWhitespace()
        guard !text.isEmpty else { throw DomainError.missingField("phone_number") }
        var country: String?
        if let rawCountry, !rawCountry.isEmpty {
            let code = rawCountry.trimmingWhitespace().uppercased()
            guard code.count == 2, code.unicodeScalars.allSatisfy({ $0.value >= 65 && $0.value <= 90 }) else {
                throw DomainError.invalidField(
                    "country",
                    "'country' is a two-letter ISO 3166 code such as US or GB; GET /v1/phone/countries lists them.")
            }
            guard PhoneNumbers.regions.contains(where: { $0.code == code }) else {
                throw Self.unsupportedCountry(code, param: "country")
            }
            country = code
        }
        let number: PhoneNumber
        do {
            number = try PhoneNumbers.parse(text, defaultRegion: country)
        } catch {
            throw Self.invalidNumber(error)
        }
        guard number.isValid else {
            throw DomainError(
                .invalidRequest, code: "invalid_phone_number",
                message: "This is not a valid phone number. Check the digits and the country.", param: "phone_number")
        }
        let region = number.region ?? ""
        if let allowed = policy.allowedCountries, !allowed.contains(region) {
            throw Self.unsupportedCountry(region, param: "phone_number")
        }
        var type = number.type
        do {
            type = try await lineTypes.lookup(number) ?? type
        } catch {
            logger.warning(
                "line-type lookup failed; using the offline answer",
                metadata: ["provider": .string(lineTypes.name), "error": .string("\(error)")])
        }
        guard policy.allows(type) else {
            throw DomainError(
                .invalidRequest, code: "phone_line_type_not_allowed",
                message: "\(Self.describe(type)) numbers cannot be used for verification. Use a mobile number.",
                param: "phone_number")
        }
        return number
    }

    // MARK: Check

    /// Compares a code: the attempt is counted first, in its own statement, then compared in
    /// constant time; the right code approves the verification once.
    public func check(
        id rawID: String, code rawCode: String, by requester: Requester
    ) async throws
        -> PhoneVerification
    {
        try requester.membership.requireOwner(to: "verify a phone number")
        let verification = try await pendingVerification(rawID, in: requester.organization)
        let code = rawCode.trimmingWhitespace()
        guard code.utf8.count == policy.codeLength, code.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            throw DomainError.invalidField(
                "code", "The code is the \(policy.codeLength) digits from the text message.")
        }
        let now = clock.now()
        let attempts: Int
        switch try await verifications.recordCheck(verification.id, maxChecks: policy.maxChecks) {
        case .counted(let count): attempts = count
        case .outOfChecks: throw Self.maxAttemptsReached
        case .notPending(let status) where status == .maxAttemptsReached: throw Self.maxAttemptsReached
        case .notPending(let status): throw Self.notPending(status)
        }
        let matches: Bool
        switch delivery {
        case .local:
            matches = secrets.codeMatches(
                code, verification: verification.id, digest: verification.codeDigest ?? "")
        case .remote(let verifier):
            do {
                matches = try await verifier.check(try number(of: verification), code)
            } catch {
                throw providerFailure(error)
            }
        }
        if matches {
            switch try await verifications.approve(
                verification, at: now, maxOrganizationsPerPhone: policy.maxOrganizationsPerPhone)
            {
            case .approved(let replaced):
                try await record("phone_verification.approved", verification, actor: requester.actor, now: now)
                if replaced {
                    try await record(
                        "organization.verification_replaced", verification, actor: requester.actor, now: now)
                }
                try await throttle.recordPrefixApproval(
                    Self.prefix(ofE164: (try? number(of: verification)) ?? "", digits: policy.prefixGuard.prefixDigits),
                    now: now)
                logger.info(
                    "phone verification approved", metadata: ["verification_id": .string(verification.id.rawValue)])
                return try await reload(verification.id, in: requester.organization)
            case .notPending:
                throw Self.notPending(.approved)
            case .phoneLimitReached:
                try await verifications.finish(verification.id, as: .failed, at: now)
                try await record(
                    "phone_verification.failed", verification, actor: requester.actor, now: now,
                    extra: ["reason": "phone_number_limit_reached"])
                throw Self.phoneLimitReached
            }
        }
        let remaining = policy.maxChecks - attempts
        if remaining <= 0 {
            if try await verifications.finish(verification.id, as: .maxAttemptsReached, at: now) {
                try await record(
                    "phone_verification.failed", verification, actor: requester.actor, now: now,
                    extra: ["reason": "max_attempts_reached"])
            }
            throw Self.maxAttemptsReached
        }
        throw DomainError(
            .invalidRequest, code: "incorrect_code",
            message: "Incorrect code. You have \(remaining) attempt\(remaining == 1 ? "" : "s") left.", param: "code")
    }

    // MARK: Resend

    /// Sends the same code again once the cooldown has passed; the cooldown doubles each time.
    public func resend(id rawID: String, by requester: Requester) async throws -> PhoneVerification {
        try requester.membership.requireOwner(to: "verify a phone number")
        let verification = try await pendingVerification(rawID, in: requester.organization)
        return try await resend(verification, by: requester, now: clock.now())
    }

    func resend(
        _ verification: PhoneVerification, by requester: Requester, now: Date
    ) async throws
        -> PhoneVerification
    {
        guard now >= verification.nextResendAt else {
            let wait = max(1, Int(verification.nextResendAt.timeIntervalSince(now).rounded(.up)))
            throw DomainError(
                .rateLimited, code: "resend_too_soon",
                message: "A code was sent moments ago. You can ask for it again in \(wait) seconds.",
                retryAfterSeconds: wait)
        }
        let e164 = try number(of: verification)
        let prefix = Self.prefix(ofE164: e164, digits: policy.prefixGuard.prefixDigits)
        try await throttle.checkPrefix(prefix, now: now)
        let reservation = try await throttle.reserve(
            phoneDigest: verification.phoneDigest, organization: requester.organization,
            clientAddress: requester.clientAddress, now: now)
        let receipt: SMSReceipt
        do {
            let code = try verification.sealedCode.map { try secrets.open($0, verification: verification.id) }
            receipt = try await send(code: code, to: e164, verification: verification.id)
        } catch {
            try await throttle.release(reservation)
            throw providerFailure(error)
        }
        // The exponent is capped so the doubling stays finite whatever the send caps allow.
        let cooldown = policy.resendCooldown * pow(2, Double(min(verification.sends, 20)))
        try await verifications.recordSend(
            verification.id, at: now, nextResendAt: now.addingTimeInterval(cooldown),
            providerMessageID: receipt.providerMessageID, delivery: receipt.delivery)
        try await throttle.recordPrefixSend(prefix, now: now)
        try await record("phone_verification.resent", verification, actor: requester.actor, now: now)
        return try await reload(verification.id, in: requester.organization)
    }

    /// The E.164 number of a pending verification, opened from its seal.
    func number(of verification: PhoneVerification) throws -> String {
        guard let sealed = verification.sealedPhoneNumber else { throw Self.notPending(verification.status) }
        return try secrets.openNumber(sealed, verification: verification.id)
    }

    // MARK: Reading and upkeep

    /// A verification of the caller's organization, expired first if its time is up.
    public func verification(id rawID: String, in membership: Membership) async throws -> PhoneVerification {
        guard let id = PhoneVerificationID(rawID),
            var verification = try await verifications.verification(id, in: membership.organization.id)
        else { throw Self.verificationNotFound(rawID) }
        if verification.status == .pending, clock.now() >= verification.expiresAt {
            try await expire(verification)
            verification = try await reload(id, in: membership.organization.id)
        }
        return verification
    }

    /// Ends every pending verification whose code has expired; returns how many.
    @discardableResult
    public func expireStale() async throws -> Int {
        let now = clock.now()
        let expired = try await verifications.expirePending(at: now)
        for verification in expired {
            try await record("phone_verification.expired", verification, actor: .system, now: now)
        }
        return expired.count
    }

    /// Records a delivery report from the provider.
    public func recordDelivery(providerMessageID: String, status: PhoneVerification.Delivery) async throws {
        try await verifications.updateDelivery(providerMessageID: providerMessageID, delivery: status)
    }

    // MARK: Helpers

    private func pendingVerification(
        _ rawID: String, in organization: OrganizationID
    ) async throws
        -> PhoneVerification
    {
        guard let id = PhoneVerificationID(rawID),
            let verification = try await verifications.verification(id, in: organization)
        else { throw Self.verificationNotFound(rawID) }
        switch verification.status {
        case .pending:
            if clock.now() >= verification.expiresAt {
                try await expire(verification)
                throw Self.expired
            }
            return verification
        case .expired: throw Self.expired
        case .maxAttemptsReached: throw Self.maxAttemptsReached
        case .approved, .canceled, .failed: throw Self.notPending(verification.status)
        }
    }

    private func expire(_ verification: PhoneVerification) async throws {
        if try await verifications.finish(verification.id, as: .expired, at: clock.now()) {
            try await record("phone_verification.expired", verification, actor: .system, now: clock.now())
        }
    }

    private func reload(_ id: PhoneVerificationID, in organization: OrganizationID) async throws -> PhoneVerification {
        guard let verification = try await verifications.verification(id, in: organization) else {
            throw Self.verificationNotFound(id.rawValue)
        }
        return verification
    }

    private func send(code: String?, to e164: String, verification: PhoneVerificationID) async throws -> SMSReceipt {
        switch delivery {
        case .local(let sender):
            let minutes = Int(policy.codeLifetime / 60)
            let body =
                "Your Keywarden verification code is \(code ?? ""). It expires in \(minutes) minutes. Do not share it."
            return try await sender.send(SMSMessage(to: e164, body: body, verificationID: verification))
        case .remote(let verifier):
            return try await verifier.start(e164)
        }
    }

    private func providerFailure(_ error: any Error) -> DomainError {
        if let domain = error as? DomainError { return domain }
        logger.error("SMS provider failed", metadata: ["error": .string("\(error)")])
        return DomainError(
            .unavailable, code: "sms_provider_unavailable",
            message: "We could not send the code just now. Nothing was used up; try again in a minute.",
            retryAfterSeconds: 30)
    }

    private func record(
        _ type: String, _ verification: PhoneVerification, actor: AuditActor, now: Date, extra: [String: String] = [:]
    ) async throws {
        var details = [
            "verification_id": verification.id.rawValue, "phone_number": verification.maskedPhoneNumber,
            "country": verification.country,
        ]
        details.merge(extra) { $1 }
        try await audit.append(
            AuditEvent(
                organizationID: verification.organizationID, type: type, effectiveAt: now, actor: actor,
                details: details))
    }

    /// `+` and calling code and the first digits of the national number: the unit the SMS-pumping
    /// guard counts in.
    static func prefix(of number: PhoneNumber, digits: Int) -> String {
        "+\(number.countryCode)" + number.nationalNumber.prefix(digits)
    }

    static func prefix(ofE164 e164: String, digits: Int) -> String {
        guard let number = try? PhoneNumbers.parse(e164, defaultRegion: nil) else { return e164 }
        return prefix(of: number, digits: digits)
    }

    static func describe(_ type: PhoneNumberType) -> String {
        switch type {
        case .voip: "VoIP"
        case .tollFree: "Toll-free"
        case .premiumRate: "Premium-rate"
        case .sharedCost: "Shared-cost"
        case .uan: "Universal access"
        case .pager: "Pager"
        case .voicemail: "Voicemail"
        case .personalNumber: "Personal"
        case .fixedLine: "Landline"
        case .mobile: "Mobile"
        case .fixedLineOrMobile: "These"
        case .unknown: "Unrecognized"
        }
    }

    // MARK: Refusals

    static func invalidNumber(_ error: PhoneNumberParseError) -> DomainError {
        let message =
            switch error {
            case .invalidCountryCode: "Include the country code (such as +1) or choose the country."
            case .notANumber: "Enter a phone number, such as +1 201 555 0123."
            case .tooShortAfterIDD, .tooShortNSN: "This phone number is too short."
            case .tooLong: "This phone number is too long."
            }
        return DomainError(.invalidRequest, code: "invalid_phone_number", message: message, param: "phone_number")
    }

    static func unsupportedCountry(_ country: String, param: String) -> DomainError {
        DomainError(
            .invalidRequest, code: "unsupported_country",
            message:
                "Phone numbers from \(country.isEmpty ? "this country" : country) cannot be used for verification here.",
            param: param)
    }

    static let phoneLimitReached = DomainError(
        .conflict, code: "phone_number_limit_reached",
        message: "This phone number has already verified the maximum number of organizations. Use another number.",
        param: "phone_number")

    static let maxAttemptsReached = DomainError(
        .rateLimited, code: "max_attempts_reached",
        message: "Too many incorrect codes for this verification. Start a new one.")

    static let expired = DomainError(
        .gone, code: "verification_expired", message: "This code has expired. Start a new verification.")

    static func notPending(_ status: PhoneVerification.Status) -> DomainError {
        DomainError(
            .conflict, code: "verification_not_pending",
            message: status == .approved
                ? "This verification is already approved."
                : "This verification was \(status.rawValue). Start a new one.")
    }

    static func verificationNotFound(_ id: String) -> DomainError {
        DomainError(
            .notFound, code: "verification_not_found",
            message: "No phone verification with id '\(id)' exists in this organization.", param: "verification_id")
    }
}
