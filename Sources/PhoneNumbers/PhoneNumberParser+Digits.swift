/// The digits of a candidate number: normalized, then split into calling code and national number.
extension PhoneNumberParser {
    /// Where a calling code came from (libphonenumber's `CountryCodeSource`).
    enum CountryCodeSource {
        case withPlusSign, withIDD, fromDefaultCountry
    }

    /// `_normalize`: keypad letters when there are three or more ASCII letters, else digits only.
    func normalize(_ number: some Collection<Unicode.Scalar>) -> [UInt8] {
        let letters = number.count { PhoneCharacters.isASCIILetter($0) }
        if letters >= 3 && !number.contains("\n") {
            return number.compactMap { PhoneCharacters.keypadDigit($0).map { $0 + 48 } }
        }
        return number.compactMap { PhoneCharacters.digitValue($0).map { $0 + 48 } }
    }

    /// `_maybe_extract_country_code`.
    func extractCountryCode(
        _ number: [Unicode.Scalar], metadata: PhoneMetadata?
    ) throws(PhoneNumberParseError)
        -> (Int, [UInt8])
    {
        guard !number.isEmpty else { return (0, []) }
        var source = CountryCodeSource.fromDefaultCountry
        var full: [UInt8]
        let plusCount = number.prefix { PhoneCharacters.isPlusSign($0) }.count
        if plusCount > 0 {
            source = .withPlusSign
            full = normalize(number[plusCount...])
        } else {
            full = normalize(number)
            if let idd = metadata?.internationalPrefix, let end = idd.prefixMatchLength(full[...]) {
                // A zero right after the prefix means it was not one (no calling code starts with 0).
                if end >= full.count || full[end] != UInt8(ascii: "0") {
                    source = .withIDD
                    full = Array(full[end...])
                }
            }
        }
        if source != .fromDefaultCountry {
            guard full.count > Self.minimumNationalLength else { throw .tooShortAfterIDD }
            if let (code, rest) = leadingCountryCode(full) { return (code, rest) }
            throw .invalidCountryCode
        }
        if let metadata {
            let code = Array(String(metadata.countryCode).utf8)
            if full.starts(with: code) {
                let (potential, _) = stripNationalPrefix(Array(full[code.count...]), metadata: metadata)
                let general = metadata.general?.pattern
                let fullMatches = general?.matchesWhole(full[...]) ?? false
                let potentialMatches = general?.matchesWhole(potential[...]) ?? false
                if (!fullMatches && potentialMatches) || Self.testLength(full[...], metadata: metadata) == .tooLong {
                    return (metadata.countryCode, potential)
                }
            }
        }
        return (0, [])
    }

    /// `_extract_country_code`: the first one to three digits that are a calling code.
    func leadingCountryCode(_ digits: [UInt8]) -> (Int, [UInt8])? {
        guard let first = digits.first, first != UInt8(ascii: "0") else { return nil }
        var code = 0
        for length in 1...min(3, digits.count) {
            code = code * 10 + Int(digits[length - 1] - 48)
            if store.regionsByCallingCode[code] != nil { return (code, Array(digits[length...])) }
        }
        return nil
    }

    /// `_maybe_strip_national_prefix_carrier_code`, without the carrier code nobody here needs.
    func stripNationalPrefix(_ number: [UInt8], metadata: PhoneMetadata) -> ([UInt8], Bool) {
        guard !number.isEmpty, let prefix = metadata.nationalPrefixForParsing,
            let match = prefix.captures(number[...], whole: false)
        else { return (number, false) }
        let general = metadata.general?.pattern
        let originalIsViable = general?.matchesWhole(number[...]) ?? false
        let lastGroup = match.groups.last ?? nil
        if let rule = metadata.nationalPrefixTransformRule, !rule.isEmpty, lastGroup != nil {
            var transformed = Self.expand(rule, groups: match.groups, in: number)
            transformed += number[match.end...]
            if originalIsViable && !(general?.matchesWhole(transformed[...]) ?? false) { return (number, false) }
            return (transformed, true)
        }
        let rest = Array(number[match.end...])
        if originalIsViable && !(general?.matchesWhole(rest[...]) ?? false) { return (number, false) }
        return (rest, true)
    }

    /// A Python replacement template (`\1`...`\9`) filled with captured digits.
    static func expand(_ template: String, groups: [Range<Int>?], in digits: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        var iterator = template.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "\\"), let next = iterator.next() {
                if next >= 49 && next <= 57 {
                    let group = Int(next - 49)
                    if group < groups.count, let range = groups[group] {
                        result +=
                            digits[(digits.startIndex + range.lowerBound)..<(digits.startIndex + range.upperBound)]
                    }
                } else {
                    result.append(next)
                }
            } else {
                result.append(byte)
            }
        }
        return result
    }
}
