import Logging
import PhoneNumbers

/// Screening a number before any code is sent: it must parse, be valid, come from an allowed
/// country, be of an allowed line type, and not have verified too many organizations already.
extension PhoneVerificationService {
    /// Parses and vets a number: valid, from an allowed country, of an allowed line type.
    func acceptableNumber(_ raw: String, country rawCountry: String?) async throws -> PhoneNumber {
        let text = raw.trimmingWhitespace()
        guard !text.isEmpty else { throw DomainError.missingField("phone_number") }
        let country = try defaultRegion(rawCountry)
        let number: PhoneNumber
        do {
            number = try PhoneNumbers.parse(text, defaultRegion: country)
        } catch {
            throw DomainError.unreadablePhoneNumber(error)
        }
        guard number.isValid else { throw DomainError.invalidPhoneNumber }
        let region = number.region ?? ""
        if let allowed = policy.allowedCountries, !allowed.contains(region) {
            throw DomainError.unsupportedCountry(region, param: "phone_number")
        }
        var type = number.type
        do {
            type = try await lineTypes.lookup(number) ?? type
        } catch {
            logger.warning(
                "line-type lookup failed; using the offline answer",
                metadata: ["provider": .string(lineTypes.name), "error": .string("\(error)")])
        }
        guard policy.allows(type) else { throw DomainError.lineTypeNotAllowed(type) }
        return number
    }

    /// The region a number without a calling code is read in: the `country` field as an ISO code
    /// the parser knows, or `nil` when the field is absent or empty.
    func defaultRegion(_ rawCountry: String?) throws -> String? {
        guard let rawCountry, !rawCountry.isEmpty else { return nil }
        let code = rawCountry.trimmingWhitespace().uppercased()
        guard code.count == 2, code.unicodeScalars.allSatisfy({ $0.value >= 65 && $0.value <= 90 }) else {
            throw DomainError.malformedCountry
        }
        guard PhoneNumbers.regions.contains(where: { $0.code == code }) else {
            throw DomainError.unsupportedCountry(code, param: "country")
        }
        return code
    }

    /// Refuses a number that has already verified as many other organizations as one number may.
    func requireRoomForOrganization(_ organization: OrganizationID, phoneDigest digest: String) async throws {
        let others = try await verifications.organizationsVerified(withPhoneDigest: digest, excluding: organization)
        guard others < policy.maxOrganizationsPerPhone else { throw DomainError.phoneLimitReached }
    }
}
