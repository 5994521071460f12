import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenServer
import SQLKit
import Testing

/// Numbers used below: a US number (fixed line or mobile: allowed), a British mobile, a British
/// landline and a US toll-free number.
enum Numbers {
    static let us = "(201) 555-0123"
    static let usE164 = "+12015550123"
    static let britishMobile = "+44 7400 123456"
    static let britishLandline = "+44 20 7946 0018"
    static let usTollFree = "+1 800 253 0000"
}

extension TestAPI {
    func startVerification(
        _ token: String, number: String = Numbers.us, country: String? = "US", channel: String? = nil
    ) async throws
        -> TestResponse
    {
        let countryField = country.map { #","country":"\#($0)""# } ?? ""
        let channelField = channel.map { #","channel":"\#($0)""# } ?? ""
        return try await request(
            .post, "/v1/organization/phone_verifications", token: token,
            json: #"{"phone_number":"\#(number)"\#(countryField)\#(channelField)}"#)
    }

    /// Asks for the code of verification `id` again.
    func resendVerification(_ token: String, _ id: String) async throws -> TestResponse {
        try await request(.post, "/v1/organization/phone_verifications/\(id)/resend", token: token)
    }

    func check(_ token: String, _ id: String, code: String) async throws -> TestResponse {
        try await request(
            .post, "/v1/organization/phone_verifications/\(id)/check", token: token, json: #"{"code":"\#(code)"}"#)
    }

    /// Signs up and verifies a number end to end; returns the session token.
    func verifiedOrganization(_ email: String, number: String, outbox: TestOutbox) async throws -> String {
        let token = try await self.token(email)
        let started = try await startVerification(token, number: number, country: nil)
        let id = try #require(started.string("id"), "\(String(decoding: started.body, as: UTF8.self))")
        let code = try #require(outbox.code(for: id))
        let approved = try await check(token, id, code: code)
        #expect(approved.string("status") == "approved")
        return token
    }
}

@Suite("Phone verification API")
struct PhoneVerificationAPITests {
    @Test func ownerVerifiesTheOrganizationEndToEnd() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            let token = try await api.token()
            let before = try await api.request(.get, "/v1/organization", token: token)
            #expect(before.string("verification.status") == "unverified")

            let started = try await api.startVerification(token)
            #expect(started.status == .created)
            #expect(started.string("object") == "organization.phone_verification")
            #expect(started.string("status") == "pending")
            #expect(started.string("phone_number") == "+• •••-•••-••23")
            #expect(started.value("attempts_remaining") as? Int == 5)
            let createdAt = try #require(started.value("created_at") as? Int)
            #expect(started.value("expires_at") as? Int == createdAt + 600)
            // Rounded up: a client is never told it may resend before it can.
            let resendAt = try #require(started.value("resend_available_at") as? Int)
            #expect((createdAt + 30...createdAt + 31).contains(resendAt))
            let id = try #require(started.string("id"))
            #expect(outbox.sent.count == 1)
            #expect(outbox.sent.first?.to == Numbers.usE164)
            let code = try #require(outbox.code(for: id))

            let approved = try await api.check(token, id, code: code)
            #expect(approved.status == .ok)
            #expect(approved.string("status") == "approved")

            let after = try await api.request(.get, "/v1/organization", token: token)
            #expect(after.string("verification.status") == "verified")
            #expect(after.string("verification.method") == "phone")
            #expect(after.string("verification.phone_number") == "+• •••-•••-••23")
            #expect(after.value("verification.verified_at") is Int)

            let audit = try await api.request(.get, "/v1/organization/audit_logs", token: token)
            let types = (audit.value("data") as? [[String: Any]])?.compactMap { $0["type"] as? String }
            #expect(types == ["phone_verification.approved", "phone_verification.started"])
            for body in [started.body, approved.body, after.body, audit.body] {
                let text = String(decoding: body, as: UTF8.self)
                #expect(!text.contains("2015550123"))
                #expect(!text.contains(code))
            }
        }
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        let name: String
        let number: String
        let country: String?
        let code: String
        let status: HTTPResponse.Status
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = [
        .init(name: "not a number", number: "hello", country: "US", code: "invalid_phone_number", status: .badRequest),
        .init(
            name: "invalid digits", number: "12345", country: "US", code: "invalid_phone_number", status: .badRequest),
        .init(
            name: "no country code", number: "2015550123", country: nil, code: "invalid_phone_number",
            status: .badRequest),
        .init(
            name: "unknown country", number: "2015550123", country: "XX", code: "unsupported_country",
            status: .badRequest),
        .init(
            name: "landline", number: Numbers.britishLandline, country: nil, code: "phone_line_type_not_allowed",
            status: .badRequest),
        .init(
            name: "toll free", number: Numbers.usTollFree, country: nil, code: "phone_line_type_not_allowed",
            status: .badRequest),
        .init(name: "empty", number: "  ", country: "US", code: "missing_required_parameter", status: .badRequest),
    ]

    @Test(arguments: refusals)
    func unacceptableNumbersAreRefusedBeforeAnySMS(_ refusal: Refusal) async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            let token = try await api.token()
            let response = try await api.startVerification(token, number: refusal.number, country: refusal.country)
            #expect(response.status == refusal.status)
            #expect(response.string("error.code") == refusal.code)
            #expect(response.string("error.message")?.isEmpty == false)
            #expect(outbox.sent.isEmpty)
        }
    }

    @Test func countriesOutsideTheAllowedListAreRefused() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: { $0.verification.allowedCountries = ["US"] }) { api, _ in
            let token = try await api.token()
            let refused = try await api.startVerification(token, number: Numbers.britishMobile, country: nil)
            #expect(refused.string("error.code") == "unsupported_country")
            #expect(outbox.sent.isEmpty)
            let countries = try await api.request(.get, "/v1/phone/countries")
            let codes = (countries.value("data") as? [[String: Any]])?.compactMap { $0["code"] as? String }
            #expect(codes == ["US"])
        }
    }

    @Test func countryListHasNamesAndCallingCodes() async throws {
        try await withApp { api, _ in
            let countries = try await api.request(.get, "/v1/phone/countries")
            let data = try #require(countries.value("data") as? [[String: Any]])
            #expect(data.count > 240)
            let britain = data.first { $0["code"] as? String == "GB" }
            #expect(britain?["name"] as? String == "United Kingdom")
            #expect(britain?["calling_code"] as? String == "+44")
        }
    }

    /// The `channels` of each country of a `GET /v1/phone/countries` answer, by code.
    static func channels(_ response: TestResponse) throws -> [String: [String]] {
        let data = try #require(response.value("data") as? [[String: Any]])
        var channels: [String: [String]] = [:]
        for country in data {
            if let code = country["code"] as? String { channels[code] = country["channels"] as? [String] ?? [] }
        }
        return channels
    }

    @Test func countriesListTheChannelsTheirNumbersMayGetCodesBy() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            let everywhere = try Self.channels(try await api.request(.get, "/v1/phone/countries"))
            #expect(everywhere.count > 240)
            #expect(everywhere.values.allSatisfy { $0 == ["sms"] })
            let token = try await api.token()
            let started = try await api.startVerification(token)
            #expect(started.string("channel") == "sms")
            #expect(outbox.sent.first?.channel == .sms)
        }
        try await withApp(configure: { $0.verification.whatsappCountries = ["GB", "BR"] }) { api, _ in
            let offered = try Self.channels(try await api.request(.get, "/v1/phone/countries"))
            #expect(offered["GB"] == ["sms", "whatsapp"])
            #expect(offered["BR"] == ["sms", "whatsapp"])
            #expect(offered["US"] == ["sms"])
        }
    }

    @Test func wrongCodesCountDownToMaxAttempts() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            let token = try await api.token()
            let id = try #require(try await api.startVerification(token).string("id"))
            let code = try #require(outbox.code(for: id))
            let wrong = code == "000000" ? "111111" : "000000"
            for remaining in (1...4).reversed() {
                let response = try await api.check(token, id, code: wrong)
                #expect(response.status == .badRequest)
                #expect(response.string("error.code") == "incorrect_code")
                #expect(response.string("error.message")?.contains("\(remaining) attempt") == true)
            }
            let last = try await api.check(token, id, code: wrong)
            #expect(last.status == .tooManyRequests)
            #expect(last.string("error.code") == "max_attempts_reached")
            let tooLate = try await api.check(token, id, code: code)
            #expect(tooLate.string("error.code") == "max_attempts_reached")
            let status = try await api.request(.get, "/v1/organization/phone_verifications/\(id)", token: token)
            #expect(status.string("status") == "max_attempts_reached")
            #expect(status.value("attempts_remaining") as? Int == 0)
        }
    }

    @Test func malformedCodeIsRefusedWithoutUsingAnAttempt() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            let token = try await api.token()
            let id = try #require(try await api.startVerification(token).string("id"))
            let response = try await api.check(token, id, code: "12ab")
            #expect(response.status == .badRequest)
            #expect(response.string("error.param") == "code")
            let status = try await api.request(.get, "/v1/organization/phone_verifications/\(id)", token: token)
            #expect(status.value("attempts_remaining") as? Int == 5)
        }
    }

    @Test func readersCannotVerify() async throws {
        try await withApp { api, services in
            let owner = try await api.signUp("ada@example.com")
            let organization = try #require(owner.string("organization.id"))
            let reader = try await api.signUp("grace@example.com")
            let readerID = try #require(reader.string("user.id"))
            try await services.addReader(readerID, to: organization)
            var headers = HTTPFields()
            headers[.init("Keywarden-Organization")!] = organization
            let response = try await api.request(
                .post, "/v1/organization/phone_verifications", token: reader.string("session_token"),
                json: #"{"phone_number":"\#(Numbers.us)","country":"US"}"#, headers: headers)
            #expect(response.status == .forbidden)
            #expect(response.string("error.code") == "insufficient_permissions")
        }
    }

    @Test func aThirdOrganizationCannotUseANumberTwoAlreadyVerified() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            let first = try await api.verifiedOrganization("a@example.com", number: Numbers.usE164, outbox: outbox)
            _ = try await api.verifiedOrganization("b@example.com", number: Numbers.usE164, outbox: outbox)
            let third = try await api.token("c@example.com")
            let sentBefore = outbox.sent.count
            let refused = try await api.startVerification(third)
            #expect(refused.status == .conflict)
            #expect(refused.string("error.code") == "phone_number_limit_reached")
            #expect(refused.string("error.message")?.contains("maximum number of organizations") == true)
            #expect(!String(decoding: refused.body, as: UTF8.self).contains("a@example.com"))
            #expect(outbox.sent.count == sentBefore)

            // The first organization moves to another number; the old one frees up.
            let moved = try await api.startVerification(first, number: Numbers.britishMobile, country: nil)
            let movedID = try #require(moved.string("id"))
            let replaced = try await api.check(first, movedID, code: try #require(outbox.code(for: movedID)))
            #expect(replaced.string("status") == "approved")
            let audit = try await api.request(
                .get, "/v1/organization/audit_logs?event_types[]=organization.verification_replaced", token: first)
            #expect((audit.value("data") as? [Any])?.count == 1)

            let retry = try await api.startVerification(third)
            #expect(retry.status == .created)
            let retryID = try #require(retry.string("id"))
            let approved = try await api.check(third, retryID, code: try #require(outbox.code(for: retryID)))
            #expect(approved.string("status") == "approved")
        }
    }

    @Test func resendRepeatsTheCodeAfterADoublingCooldown() async throws {
        let outbox = TestOutbox()
        let time = ManualClock()
        try await withApp(clock: time.clock, outbox: outbox) { api, _ in
            let token = try await api.token()
            let id = try #require(try await api.startVerification(token).string("id"))
            let code = try #require(outbox.code(for: id))
            let early = try await api.request(.post, "/v1/organization/phone_verifications/\(id)/resend", token: token)
            #expect(early.status == .tooManyRequests)
            #expect(early.string("error.code") == "resend_too_soon")
            #expect(early.headers[.retryAfter] == "30")

            time.advance(by: 31)
            let resent = try await api.request(.post, "/v1/organization/phone_verifications/\(id)/resend", token: token)
            #expect(resent.status == .ok)
            #expect(outbox.sent.count == 2)
            #expect(outbox.code(for: id) == code)
            let again = try await api.request(.post, "/v1/organization/phone_verifications/\(id)/resend", token: token)
            #expect(again.headers[.retryAfter] == "60")

            // Starting again for the same number is a resend, not a second verification.
            time.advance(by: 61)
            let restarted = try await api.startVerification(token)
            #expect(restarted.status == .ok)
            #expect(restarted.string("id") == id)
            #expect(outbox.sent.count == 3)
        }
    }

    @Test func expiredCodesAreRefusedAndTheNumberErased() async throws {
        let outbox = TestOutbox()
        let time = ManualClock()
        try await withApp(clock: time.clock, outbox: outbox) { api, services in
            let token = try await api.token()
            let id = try #require(try await api.startVerification(token).string("id"))
            let code = try #require(outbox.code(for: id))
            time.advance(by: 601)
            let late = try await api.check(token, id, code: code)
            #expect(late.status == .gone)
            #expect(late.string("error.code") == "verification_expired")
            let stored = try await services.database.withConnection { db in
                try await db.raw("SELECT phone_number, sealed_code, status FROM phone_verifications").first()
            }
            #expect(try stored?.decode(column: "phone_number", as: String?.self) == nil)
            #expect(try stored?.decode(column: "sealed_code", as: String?.self) == nil)
            #expect(try stored?.decode(column: "status", as: String.self) == "expired")
        }
    }

    @Test func sweeperExpiresForgottenVerifications() async throws {
        let outbox = TestOutbox()
        let time = ManualClock()
        try await withApp(clock: time.clock, outbox: outbox) { api, services in
            let token = try await api.token()
            _ = try await api.startVerification(token)
            #expect(try await services.verifications.expireStale() == 0)
            time.advance(by: 601)
            #expect(try await services.verifications.expireStale() == 1)
            let audit = try await api.request(
                .get, "/v1/organization/audit_logs?event_types[]=phone_verification.expired", token: token)
            #expect((audit.value("data") as? [Any])?.count == 1)
        }
    }

    @Test func providerFailureIsRetryableAndUsesUpNoCap() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: { $0.verification.sendsPerNumberPer10Minutes = 1 }) { api, _ in
            let token = try await api.token()
            outbox.failing.withLock { $0 = true }
            for _ in 0..<3 {
                let failed = try await api.startVerification(token)
                #expect(failed.status == .serviceUnavailable)
                #expect(failed.string("error.code") == "sms_provider_unavailable")
                #expect(failed.headers[.retryAfter] != nil)
            }
            outbox.failing.withLock { $0 = false }
            let started = try await api.startVerification(token)
            #expect(started.status == .created)
        }
    }

    @Test func sendCapsHoldPerNumberAndOrganization() async throws {
        let outbox = TestOutbox()
        let time = ManualClock()
        try await withApp(
            clock: time.clock, outbox: outbox, configure: { $0.verification.sendsPerOrganizationPerDay = 3 }
        ) {
            api, _ in
            let token = try await api.token()
            let numbers = ["+1 201 555 0101", "+1 201 555 0102", "+1 201 555 0103", "+1 201 555 0104"]
            for number in numbers.prefix(3) {
                #expect(try await api.startVerification(token, number: number, country: nil).status == .created)
            }
            let capped = try await api.startVerification(token, number: numbers[3], country: nil)
            #expect(capped.status == .tooManyRequests)
            #expect(capped.string("error.code") == "too_many_verification_requests")
            #expect(capped.headers[.retryAfter].flatMap { Int($0) } != nil)
            #expect(outbox.sent.count == 3)
        }
    }

    @Test func aPrefixWithManySendsAndNoApprovalsIsPaused() async throws {
        let outbox = TestOutbox()
        let logs = CapturedLogs()
        try await withApp(
            outbox: outbox, logger: logs.logger,
            configure: {
                $0.verification.prefixGuard.minimumSends = 3
                $0.verification.sendsPerOrganizationPerDay = 100
            }
        ) { api, _ in
            for index in 0..<3 {
                let token = try await api.token("user\(index)@example.com")
                let response = try await api.startVerification(
                    token, number: "+1 201 555 01\(10 + index)", country: nil)
                #expect(response.status == .created)
            }
            let token = try await api.token("late@example.com")
            let paused = try await api.startVerification(token, number: "+1 201 555 0199", country: nil)
            #expect(paused.status == .tooManyRequests)
            #expect(paused.string("error.code") == "too_many_verification_requests")
            #expect(outbox.sent.count == 3)
            #expect(logs.all.contains { $0.contains("number prefix paused") && $0.contains("+1201") })
            // Another prefix is unaffected.
            let other = try await api.startVerification(token, number: Numbers.britishMobile, country: nil)
            #expect(other.status == .created)
        }
    }

    @Test func auditLogFiltersByTypeAndPages() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox) { api, _ in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let first = try await api.request(.get, "/v1/organization/audit_logs?limit=1", token: token)
            #expect(first.value("has_more") as? Bool == true)
            let firstEvent = try #require((first.value("data") as? [[String: Any]])?.first)
            #expect(firstEvent["object"] as? String == "organization.audit_log")
            #expect((firstEvent["actor"] as? [String: Any])?["type"] as? String == "session")
            let details = firstEvent["phone_verification.approved"] as? [String: Any]
            #expect(details?["phone_number"] as? String == "+• •••-•••-••23")
            let after = try #require(first.string("last_id"))
            let second = try await api.request(.get, "/v1/organization/audit_logs?limit=1&after=\(after)", token: token)
            let secondType = (second.value("data") as? [[String: Any]])?.first?["type"] as? String
            #expect(secondType == "phone_verification.started")
            let filtered = try await api.request(
                .get, "/v1/organization/audit_logs?event_types[]=phone_verification.started", token: token)
            #expect((filtered.value("data") as? [Any])?.count == 1)
        }
    }
}
