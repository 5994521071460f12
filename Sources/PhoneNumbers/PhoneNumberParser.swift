/// Reads phone numbers as libphonenumber's `parse` does, step by step.
struct PhoneNumberParser {
    let store: PhoneMetadataStore

    static let maximumInputLength = 250
    static let minimumNationalLength = 2
    static let maximumNationalLength = 17

    static let phoneContextMarker = Array(";phone-context=".unicodeScalars)
    static let telPrefix = Array("tel:".unicodeScalars)
    static let subaddressMarker = Array(";isub=".unicodeScalars)

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
