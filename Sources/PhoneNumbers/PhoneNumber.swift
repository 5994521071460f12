/// A parsed phone number: a country calling code and a national significant number.
public struct PhoneNumber: Hashable, Sendable {
    /// The country calling code, such as 44.
    public let countryCode: Int
    /// The national significant number as ASCII digits, leading zeros kept.
    let nationalDigits: [UInt8]
    /// The extension, if the input had one.
    public let extensionNumber: String?

    /// The national significant number, such as `2079460000`.
    public var nationalNumber: String { String(decoding: nationalDigits, as: UTF8.self) }
}

/// What kind of line a number belongs to, by libphonenumber's metadata.
public enum PhoneNumberType: String, Sendable, CaseIterable {
    case fixedLine = "fixed_line"
    case mobile
    case fixedLineOrMobile = "fixed_line_or_mobile"
    case tollFree = "toll_free"
    case premiumRate = "premium_rate"
    case sharedCost = "shared_cost"
    case voip
    case personalNumber = "personal_number"
    case pager
    case uan
    case voicemail
    case unknown
}

/// Why a string could not be read as a phone number.
public enum PhoneNumberParseError: String, Error, Sendable {
    /// The calling code is unknown, or there was no `+` and no usable default region.
    case invalidCountryCode = "invalid_country_code"
    /// The text does not look like a phone number at all.
    case notANumber = "not_a_number"
    /// An international prefix was followed by too few digits.
    case tooShortAfterIDD = "too_short_after_idd"
    /// Too few digits for a national number.
    case tooShortNSN = "too_short_nsn"
    /// Too long: over 250 characters of input or 17 digits of national number.
    case tooLong = "too_long"

    /// The stable code, such as `invalid_country_code`.
    public var code: String { rawValue }
}

/// A region for a country picker.
public struct PhoneRegion: Hashable, Sendable {
    /// The ISO 3166 code, such as `GB`.
    public let code: String
    /// The English name, such as `United Kingdom`.
    public let name: String
    /// The country calling code, such as 44.
    public let callingCode: Int
}
