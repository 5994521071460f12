/// Everything `keywarden phone inspect` reports about one input: libphonenumber's answers for
/// validity, E.164, region, type and the two formats, or the parse error.
public struct PhoneNumberInspection: Equatable, Sendable {
    public var valid: Bool?
    public var e164: String?
    public var region: String?
    /// The line type's name, such as `mobile`.
    public var type: String?
    public var international: String?
    public var national: String?
    /// The parse error's code, such as `not_a_number`; `nil` when the input parsed.
    public var error: String?

    /// Inspects an input as `parse(_:defaultRegion:)` reads it.
    ///
    /// As libphonenumber does for a number parsed with its raw input kept, a national number of
    /// only zeros is formatted as the input itself (E.164 prefixes the calling code when that
    /// came from the default region).
    public init(input: String, defaultRegion: String?) {
        do {
            let (number, codeFromDefaultRegion) = try PhoneNumberParser(store: .shared).parseNoting(
                input, defaultRegion: defaultRegion)
            var e164 = number.e164
            var international = number.international
            var national = number.national
            if !input.isEmpty, number.nationalDigits.allSatisfy({ $0 == UInt8(ascii: "0") }) {
                e164 = codeFromDefaultRegion ? "+\(number.countryCode)" + input : input
                international = input
                national = input
            }
            self.init(
                valid: number.isValid, e164: e164, region: number.region, type: number.type.rawValue,
                international: international, national: national, error: nil)
        } catch {
            self.init(
                valid: nil, e164: nil, region: nil, type: nil, international: nil, national: nil, error: error.code)
        }
    }

    /// Creates an inspection from its fields.
    public init(
        valid: Bool?, e164: String?, region: String?, type: String?, international: String?, national: String?,
        error: String?
    ) {
        self.valid = valid
        self.e164 = e164
        self.region = region
        self.type = type
        self.international = international
        self.national = national
        self.error = error
    }
}
