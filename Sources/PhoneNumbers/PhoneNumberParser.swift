/// Reads phone numbers as libphonenumber's `parse` does, step by step.
struct PhoneNumberParser {
    let store: PhoneMetadataStore

    static let maximumInputLength = 250
    static let minimumNationalLength = 2
    static let maximumNationalLength = 17

    static let phoneContextMarker = Array(";phone-context=".unicodeScalars)
    static let telPrefix = Array("tel:".unicodeScalars)
    static let subaddressMarker = Array(";isub=".unicodeScalars)

    enum CountryCodeSource {
        case withPlusSign, withIDD, fromDefaultCountry
    }

    func parse(_ input: String, defaultRegion: String?) throws(PhoneNumberParseError) -> PhoneNumber {
        try parseNoting(input, defaultRegion: defaultRegion).number
    }

    /// The number, and whether its calling code was the default region's because the input
    /// named none (libphonenumber's `FROM_DEFAULT_COUNTRY`).
    func parseNoting(
        _ input: String, defaultRegion: String?
    ) throws(PhoneNumberParseError) -> (number: PhoneNumber, codeFromDefaultRegion: Bool) {
        let scalars = Array(input.unicodeScalars)
        // Refused before any pattern runs, so long input costs nothing.
        guard scalars.count <= Self.maximumInputLength else { throw .tooLong }
        var number = try nationalNumberForParsing(scalars)
        guard isViable(number) else { throw .notANumber }
        if !(defaultRegion.map { store.callingCodeByRegion[$0] != nil } ?? false) {
            guard let first = number.first, PhoneCharacters.isPlusSign(first) else {
                throw .invalidCountryCode
            }
        }
        let extensionNumber: String?
        (extensionNumber, number) = stripExtension(number)
        var metadata = defaultRegion.flatMap { store.metadata(region: $0.uppercased()) }

        var countryCode: Int
        var national: [UInt8]
        var codeFromDefaultRegion = false
        do {
            (countryCode, national) = try extractCountryCode(number, metadata: metadata)
        } catch .invalidCountryCode {
            let plusCount = number.prefix { PhoneCharacters.isPlusSign($0) }.count
            guard plusCount > 0 else { throw .invalidCountryCode }
            (countryCode, national) = try extractCountryCode(Array(number[plusCount...]), metadata: metadata)
            if countryCode == 0 { throw .invalidCountryCode }
        }
        if countryCode != 0 {
            let numberRegion = store.regionsByCallingCode[countryCode]?.first ?? "ZZ"
            if numberRegion != defaultRegion {
                metadata = store.metadata(callingCode: countryCode, region: numberRegion)
            }
        } else {
            national += normalize(number)
            if let metadata {
                countryCode = metadata.countryCode
                codeFromDefaultRegion = true
            }
        }
        guard national.count >= Self.minimumNationalLength else { throw .tooShortNSN }
        if let metadata {
            let (potential, _) = stripNationalPrefix(national, metadata: metadata)
            switch Self.testLength(potential[...], metadata: metadata) {
            case .tooShort, .possibleLocalOnly, .invalidLength: break
            default: national = potential
            }
        }
        guard national.count >= Self.minimumNationalLength else { throw .tooShortNSN }
        guard national.count <= Self.maximumNationalLength else { throw .tooLong }
        return (
            PhoneNumber(countryCode: countryCode, nationalDigits: national, extensionNumber: extensionNumber),
            codeFromDefaultRegion
        )
    }

    // MARK: Text to candidate number

    /// `_build_national_number_for_parsing`: RFC 3966 `tel:` URIs, else the likely number in the text.
    func nationalNumberForParsing(_ text: [Unicode.Scalar]) throws(PhoneNumberParseError) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar]
        if let contextIndex = text.firstIndex(of: Self.phoneContextMarker) {
            let start = contextIndex + 15
            let context: [Unicode.Scalar]
            if start >= text.count {
                context = []
            } else {
                let end = text[start...].firstIndex(of: ";") ?? text.count
                context = Array(text[start..<end])
            }
            guard isValidPhoneContext(context) else { throw .notANumber }
            result = context.first == "+" ? context : []
            let uriStart = text.firstIndex(of: Self.telPrefix).map { $0 + 4 } ?? 0
            if uriStart < contextIndex { result += text[uriStart..<contextIndex] }
        } else {
            result = extractPossibleNumber(text)
        }
        if let subaddress = result.firstIndex(of: Self.subaddressMarker), subaddress > 0 {
            result = Array(result[..<subaddress])
        }
        return result
    }

    func isValidPhoneContext(_ context: [Unicode.Scalar]) -> Bool {
        guard !context.isEmpty else { return false }
        let text = String(String.UnicodeScalarView(context))
        return UnicodePatterns.rfc3966GlobalNumber.firstMatch(in: text) != nil
            || UnicodePatterns.rfc3966DomainName.firstMatch(in: text) != nil
    }

    /// `_extract_possible_number`: from the first `+` or digit, without trailing junk or a second number.
    func extractPossibleNumber(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard
            let start = text.firstIndex(where: {
                PhoneCharacters.isPlusSign($0) || PhoneCharacters.isDecimalDigit($0)
            })
        else { return [] }
        var end = text.count
        while end > start {
            let scalar = text[end - 1]
            guard scalar == "_" || (scalar != "#" && !PhoneCharacters.isWordCharacter(scalar)) else { break }
            end -= 1
        }
        var number = Array(text[start..<end])
        // "[\\/] *x": the start of a second number, as in "x302/x2303".
        var index = 0
        while index < number.count {
            if number[index] == "\\" || number[index] == "/" {
                var next = index + 1
                while next < number.count, number[next] == " " { next += 1 }
                if next < number.count, number[next] == "x" {
                    number.removeSubrange(index...)
                    break
                }
            }
            index += 1
        }
        return number
    }

    /// Whether text holds only characters that cannot start an extension, so the simple
    /// checks below decide exactly what the full patterns would.
    func isExtensionFree(_ number: [Unicode.Scalar]) -> Bool {
        number.allSatisfy {
            PhoneCharacters.isDecimalDigit($0) || PhoneCharacters.isPlusSign($0)
                || PhoneCharacters.isExtensionFreePunctuation($0) || $0 == "*"
        }
    }

    /// `_is_viable_phone_number`.
    func isViable(_ number: [Unicode.Scalar]) -> Bool {
        guard number.count >= Self.minimumNationalLength else { return false }
        if isExtensionFree(number) {
            var digits = 0
            var leadingPluses = 0
            for (index, scalar) in number.enumerated() {
                if PhoneCharacters.isPlusSign(scalar) {
                    // Plus signs are allowed only at the start.
                    guard index == leadingPluses else { return false }
                    leadingPluses += 1
                } else if PhoneCharacters.isDecimalDigit(scalar) {
                    digits += 1
                }
            }
            if number.count == 2 && digits == 2 { return true }
            return digits >= 3
        }
        return UnicodePatterns.validPhoneNumberWhole.firstMatch(in: String(String.UnicodeScalarView(number))) != nil
    }

    /// `_maybe_strip_extension`.
    func stripExtension(_ number: [Unicode.Scalar]) -> (String?, [Unicode.Scalar]) {
        guard !isExtensionFree(number) else { return (nil, number) }
        let text = String(String.UnicodeScalarView(number))
        guard let match = UnicodePatterns.extensionAtEnd.firstMatch(in: text) else { return (nil, number) }
        let rest = Array(number[..<match.start])
        guard isViable(rest), let digits = match.groups.lazy.compactMap({ $0 }).first else { return (nil, number) }
        return (digits, rest)
    }

    // MARK: Digits

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

    // MARK: Lengths

    enum LengthResult {
        case possible, possibleLocalOnly, tooShort, tooLong, invalidLength
    }

    /// `_test_number_length` for numbers of any type.
    static func testLength(_ digits: ArraySlice<UInt8>, metadata: PhoneMetadata) -> LengthResult {
        guard let general = metadata.general, let minimum = general.possibleLengths.first,
            let maximum = general.possibleLengths.last
        else { return .invalidLength }
        let length = digits.count
        if general.localOnlyLengths.contains(length) { return .possibleLocalOnly }
        if length == minimum { return .possible }
        if length < minimum { return .tooShort }
        if length > maximum { return .tooLong }
        return general.possibleLengths.dropFirst().contains(length) ? .possible : .invalidLength
    }
}

extension Array where Element == Unicode.Scalar {
    /// The first index at which `needle` occurs.
    func firstIndex(of needle: [Unicode.Scalar]) -> Int? {
        guard !needle.isEmpty, needle.count <= count else { return nil }
        for start in 0...(count - needle.count) where self[start] == needle[0] {
            if self[start..<(start + needle.count)].elementsEqual(needle) { return start }
        }
        return nil
    }
}
