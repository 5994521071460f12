import Foundation
import KeywardenCore
import PhoneNumbers

extension VerificationPolicy {
    /// Reads the phone-verification settings.
    public init(reading settings: SettingsReader) throws {
        self.init()
        if let seconds = try settings.integer(.verificationCodeLifetime, in: 60...86_400) {
            codeLifetime = TimeInterval(seconds)
        }
        if let checks = try settings.integer(.verificationMaxChecks, in: 1...20) { maxChecks = checks }
        if let seconds = try settings.integer(.verificationResendCooldown, in: 0...3600) {
            resendCooldown = TimeInterval(seconds)
        }
        if let limit = try settings.integer(.maxOrganizationsPerPhone, in: 1...1000) {
            maxOrganizationsPerPhone = limit
        }
        let caps: [(Setting, WritableKeyPath<VerificationPolicy, Int>)] = [
            (.smsSendsPerNumberPer10Minutes, \.sendsPerNumberPer10Minutes),
            (.smsSendsPerNumberPerDay, \.sendsPerNumberPerDay),
            (.smsSendsPerOrganizationPerDay, \.sendsPerOrganizationPerDay),
            (.smsSendsPerAddressPerHour, \.sendsPerClientAddressPerHour),
        ]
        for (setting, path) in caps {
            if let limit = try settings.integer(setting, in: 1...100_000) { self[keyPath: path] = limit }
        }
        if let list = settings.text(.allowedCountries) {
            let codes = Set(
                list.split(separator: ",").map { $0.trimmingWhitespace().uppercased() }.filter { !$0.isEmpty })
            let known = Set(PhoneNumbers.regions.map(\.code))
            if let unknown = codes.subtracting(known).sorted().first {
                throw ConfigurationError(.allowedCountries, "unknown country code '\(unknown)'")
            }
            allowedCountries = codes.isEmpty ? nil : codes
        }
        if let list = settings.text(.whatsappCountries) {
            whatsappCountries = try Self.whatsappCountryCodes(in: list, allowed: allowedCountries)
        }
        if let list = settings.text(.blockedLineTypes) {
            var types: Set<PhoneNumberType> = []
            for name in list.split(separator: ",").map({ $0.trimmingWhitespace() }) where !name.isEmpty {
                guard let type = PhoneNumberType(rawValue: name) else {
                    throw ConfigurationError(.blockedLineTypes, "unknown line type '\(name)'")
                }
                types.insert(type)
            }
            blockedLineTypes = types
        }
    }
}

extension VerificationPolicy {
    /// The `whatsapp_countries` list: ISO codes separated by commas or spaces, each a country the
    /// phone metadata knows and, when `allowed_countries` is set, one of those.
    static func whatsappCountryCodes(in list: String, allowed: Set<String>?) throws -> Set<String> {
        let codes = Set(list.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map { $0.uppercased() })
        let known = Set(PhoneNumbers.regions.map(\.code))
        if let unknown = codes.subtracting(known).sorted().first {
            throw ConfigurationError(.whatsappCountries, "unknown country code '\(unknown)'")
        }
        if let allowed, let refused = codes.subtracting(allowed).sorted().first {
            throw ConfigurationError(
                .whatsappCountries, "'\(refused)' is not in allowed_countries, so its numbers cannot be verified")
        }
        return codes
    }
}
