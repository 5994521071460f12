import Foundation
import Logging
import PhoneNumbers

/// Sending codes: the first send of a verification, resends after a doubling cooldown, and the
/// provider's delivery reports. Each send is reserved against the throttle first and given back
/// if the provider fails.
extension PhoneVerificationService {
    /// Checks the number against every rule, then sends a code.
    ///
    /// - Parameter humanCheckResponse: the CAPTCHA widget's response token, which
    ///   ``humanCheck`` requires when a CAPTCHA provider is configured.
    ///   - path: the way the person came, recorded in the audit log with the approval.
    public func start(
        phoneNumber raw: String, country rawCountry: String?, channel: String?, humanCheckResponse: String? = nil,
        path: VerificationPath = .phone, by requester: Requester
    )
        async throws -> PhoneVerification
    {
        var country = Self.statsCountry(rawCountry)
        do {
            return try await startChecked(
                phoneNumber: raw, country: rawCountry, channel: channel, humanCheckResponse: humanCheckResponse,
                path: path, by: requester, region: &country)
        } catch let refusal as DomainError {
            if Self.countedRefusals.contains(refusal.code) {
                await count(.refused(reason: refusal.code.rawValue), country: country)
            }
            throw refusal
        }
    }

    /// ``start(phoneNumber:country:channel:humanCheckResponse:path:by:)`` itself; `region` is
    /// set to the number's country once it is known, for counting a refusal.
    private func startChecked(
        phoneNumber raw: String, country rawCountry: String?, channel rawChannel: String?, humanCheckResponse: String?,
        path: VerificationPath, by requester: Requester, region: inout String
    ) async throws -> PhoneVerification {
        try requester.membership.require(.verifyPhone)
        try emailConfirmation.check(requester.user)
        var channel = MessageChannel.sms
        if let rawChannel {
            guard let chosen = MessageChannel(rawValue: rawChannel) else { throw DomainError.unsupportedChannel }
            channel = chosen
        }
        // A refusal is counted under the number's own country whenever the number can be read;
        // a blocked range or a channel not offered is refused before any paid line-type lookup.
        if let readable = try? PhoneNumbers.parse(
            raw.trimmingWhitespace(), defaultRegion: try? defaultRegion(rawCountry)),
            let readRegion = readable.region
        {
            region = readRegion
            if readable.isValid {
                try await throttle.checkBlocked(readable.e164)
                if channel == .whatsapp, !policy.channels(for: readRegion).contains(.whatsapp) {
                    throw DomainError.whatsappNotOffered(readRegion)
                }
            }
        }
        let number = try await acceptableNumber(raw, country: rawCountry)
        region = number.region ?? region
        if channel == .whatsapp, !policy.channels(for: number.region ?? "").contains(.whatsapp) {
            throw DomainError.whatsappNotOffered(number.region ?? "that country")
        }
        let e164 = number.e164
        let digest = secrets.phoneDigest(e164)
        let now = clock.now()
        try await requireRoomForOrganization(requester.organization, phoneDigest: digest)
        try await humanCheck.require(humanCheckResponse, clientAddress: requester.clientAddress)
        if let pending = try await verifications.pendingVerification(
            in: requester.organization, phoneDigest: digest, at: now)
        {
            // Asking again for a number with a live code sends that code again, cooldown permitting.
            if pending.channel == channel { return try await resend(pending, by: requester, now: now) }
            // Switching channel starts afresh, but no sooner than a resend could have gone.
            guard now >= pending.nextResendAt else {
                throw DomainError.resendTooSoon(
                    wait: max(1, Int(pending.nextResendAt.timeIntervalSince(now).rounded(.up))))
            }
        }
        let prefix = throttle.prefix(of: number)
        try await throttle.checkPrefix(prefix, e164: e164, now: now)
        let reservation = try await throttle.reserve(
            phoneDigest: digest, organization: requester.organization, clientAddress: requester.clientAddress, now: now)

        let id = PhoneVerificationID.generate()
        let verification: PhoneVerification
        var code: String?
        do {
            // Nothing was sent if storing the verification fails: the reserved send is given back.
            var codeDigest: String?
            var sealedCode: String?
            if case .local = delivery {
                let fresh = VerificationSecrets.generateCode(length: policy.codeLength)
                code = fresh
                codeDigest = secrets.codeDigest(fresh, verification: id)
                sealedCode = try secrets.seal(fresh, verification: id)
            }
            verification = PhoneVerification(
                id: id, organizationID: requester.organization, userID: requester.user.id, phoneDigest: digest,
                sealedPhoneNumber: try secrets.sealNumber(e164, verification: id), maskedPhoneNumber: number.masked,
                country: number.region ?? "", status: .pending,
                codeDigest: codeDigest, sealedCode: sealedCode, attempts: 0, sends: 0, createdAt: now,
                expiresAt: now.addingTimeInterval(policy.codeLifetime), lastSentAt: now, nextResendAt: now,
                path: path, channel: channel)
            try await verifications.cancelPending(in: requester.organization, except: nil, at: now)
            try await verifications.create(verification)
        } catch {
            try? await throttle.release(reservation)
            throw error
        }

        let receipt: SMSReceipt
        do {
            receipt = try await send(code: code, to: e164, verification: id, channel: channel)
        } catch {
            try await throttle.release(reservation)
            try await verifications.finish(id, as: .failed, at: now)
            try await record(
                .phoneVerificationFailed, verification, actor: requester.actor, now: now,
                extra: ["reason": "provider_unavailable", "channel": channel.rawValue])
            throw providerFailure(error)
        }
        try await verifications.recordSend(
            id, at: now, nextResendAt: now.addingTimeInterval(policy.resendCooldown),
            providerMessageID: receipt.providerMessageID, delivery: receipt.delivery)
        try await throttle.recordPrefixSend(prefix, now: now)
        await count(.started, country: verification.country)
        await count(.sent(channel: channel.rawValue), country: verification.country)
        try await record(
            .phoneVerificationStarted, verification, actor: requester.actor, now: now,
            extra: ["line_type": number.type.rawValue, "path": path.rawValue, "channel": channel.rawValue])
        logger.info(
            "phone verification started",
            metadata: [
                "verification_id": .string(id.rawValue), "phone_number": .string(number.masked),
                "channel": .string(channel.rawValue),
            ])
        return try await reload(id, in: requester.organization)
    }

    /// The refusals the console's insights count: what the policy and the guards refuse, and a
    /// provider that failed; not a person's own slips (a resend too soon, a missing field).
    static let countedRefusals: Set<DomainError.Code> = [
        .invalidPhoneNumber, .unsupportedCountry, .phoneLineTypeNotAllowed, .phoneNumberLimitReached,
        .tooManyVerificationRequests, .phonePrefixBlocked, .captchaFailed, .smsProviderUnavailable,
    ]

    /// The country a refusal is counted under before the number is read: the form's country when
    /// it is one the metadata knows, or `ZZ` (unknown).
    static func statsCountry(_ rawCountry: String?) -> String {
        let code = (rawCountry ?? "").trimmingWhitespace().uppercased()
        guard code.utf8.count == 2, PhoneNumbers.regions.contains(where: { $0.code == code }) else { return "ZZ" }
        return code
    }

    /// Counts an event for the console's insights; a failure to count never fails the request.
    func count(_ event: VerificationEvent, country: String) async {
        guard let stats else { return }
        do {
            try await stats.count(event, country: country.isEmpty ? "ZZ" : country, at: clock.now())
        } catch {
            logger.warning("verification event not counted", metadata: ["event": .string(event.name)])
        }
    }

    /// Sends the same code again once the cooldown has passed; the cooldown doubles each time.
    public func resend(id rawID: String, by requester: Requester) async throws -> PhoneVerification {
        try requester.membership.require(.verifyPhone)
        let verification = try await pendingVerification(rawID, in: requester.organization)
        return try await resend(verification, by: requester, now: clock.now())
    }

    /// Sends a pending verification's code again, if its cooldown has passed at `now`.
    func resend(
        _ verification: PhoneVerification, by requester: Requester, now: Date
    ) async throws
        -> PhoneVerification
    {
        guard now >= verification.nextResendAt else {
            let wait = max(1, Int(verification.nextResendAt.timeIntervalSince(now).rounded(.up)))
            throw DomainError.resendTooSoon(wait: wait)
        }
        // The operator may have stopped offering WhatsApp since the first code went.
        if verification.channel == .whatsapp, !policy.channels(for: verification.country).contains(.whatsapp) {
            throw DomainError.whatsappNotOffered(verification.country)
        }
        let e164 = try number(of: verification)
        let prefix = throttle.prefix(ofE164: e164)
        try await throttle.checkPrefix(prefix, e164: e164, now: now)
        let reservation = try await throttle.reserve(
            phoneDigest: verification.phoneDigest, organization: requester.organization,
            clientAddress: requester.clientAddress, now: now)
        let receipt: SMSReceipt
        do {
            let code = try verification.sealedCode.map { try secrets.open($0, verification: verification.id) }
            receipt = try await send(code: code, to: e164, verification: verification.id, channel: verification.channel)
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
        await count(.sent(channel: verification.channel.rawValue), country: verification.country)
        try await record(
            .phoneVerificationResent, verification, actor: requester.actor, now: now,
            extra: ["channel": verification.channel.rawValue])
        return try await reload(verification.id, in: requester.organization)
    }

    /// Records a delivery report from the provider.
    public func recordDelivery(providerMessageID: String, status: PhoneVerification.Delivery) async throws {
        try await verifications.updateDelivery(providerMessageID: providerMessageID, delivery: status)
    }

    /// The E.164 number of a pending verification, opened from its seal.
    func number(of verification: PhoneVerification) throws -> String {
        guard let sealed = verification.sealedPhoneNumber else {
            throw DomainError.verificationNotPending(verification.status)
        }
        return try secrets.openNumber(sealed, verification: verification.id)
    }

    /// Hands a code to the local sender as a text message, or asks the remote verifier to send one.
    func send(
        code: String?, to e164: String, verification: PhoneVerificationID, channel: MessageChannel
    ) async throws -> SMSReceipt {
        switch delivery {
        case .local(let sender):
            let minutes = Int(policy.codeLifetime / 60)
            let body =
                "Your Keywarden verification code is \(code ?? ""). It expires in \(minutes) minutes. Do not share it."
            return try await sender.send(
                SMSMessage(to: e164, body: body, verificationID: verification, channel: channel, code: code ?? ""))
        case .remote(let verifier):
            return try await verifier.start(e164, channel)
        }
    }

    /// A provider's error as the refusal to give: a refusal passes through; anything else is
    /// logged and becomes `sms_provider_unavailable`.
    func providerFailure(_ error: any Error) -> DomainError {
        if let domain = error as? DomainError { return domain }
        logger.error("SMS provider failed", metadata: ["error": .string("\(error)")])
        return DomainError.smsProviderUnavailable
    }
}
