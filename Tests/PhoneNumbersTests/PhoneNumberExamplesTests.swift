import PhoneNumbers
import Testing

@Suite("Phone number examples")
struct PhoneNumberExamplesTests {
    @Test func britishNumberInNationalFormIsParsedValidatedAndFormatted() throws {
        let number = try PhoneNumbers.parse("020 7946 0018", defaultRegion: "GB")
        #expect(number.countryCode == 44)
        #expect(number.e164 == "+442079460018")
        #expect(number.isValid)
        #expect(number.region == "GB")
        #expect(number.type == .fixedLine)
        #expect(number.international == "+44 20 7946 0018")
        #expect(number.national == "020 7946 0018")
        #expect(number.masked == "+•• •• •••• ••18")
    }

    @Test func americanMobileRangesCannotBeToldApart() throws {
        let number = try PhoneNumbers.parse("+1 (201) 555-0123", defaultRegion: nil)
        #expect(number.region == "US")
        #expect(number.type == .fixedLineOrMobile)
        #expect(number.national == "(201) 555-0123")
    }

    @Test func aNationalNumberOfOnlyZerosIsFormattedAsTypedAsLibphonenumberDoes() {
        let zeros = PhoneNumberInspection(input: "00", defaultRegion: "US")
        #expect(zeros.international == "00")
        #expect(zeros.national == "00")
        #expect(zeros.e164 == "+100")
        let withPlus = PhoneNumberInspection(input: "+9000", defaultRegion: nil)
        #expect(withPlus.international == "+9000")
        #expect(withPlus.e164 == "+9000")
    }

    @Test func internationalPrefixOfTheDefaultRegionIsStripped() throws {
        let number = try PhoneNumbers.parse("011 44 7400 123456", defaultRegion: "US")
        #expect(number.e164 == "+447400123456")
        #expect(number.type == .mobile)
    }

    @Test func fullWidthDigitsTelURIsAndExtensionsAreRead() throws {
        #expect(try PhoneNumbers.parse("＋４４ ７４００ １２３４５６", defaultRegion: nil).e164 == "+447400123456")
        #expect(try PhoneNumbers.parse("tel:+1-201-555-0123;ext=42", defaultRegion: nil).extensionNumber == "42")
        let withExtension = try PhoneNumbers.parse("(201) 555-0123 ext. 7", defaultRegion: "US")
        #expect(withExtension.extensionNumber == "7")
        #expect(withExtension.national == "(201) 555-0123 ext. 7")
    }

    @Test(arguments: [
        ("", PhoneNumberParseError.notANumber), ("hello", .notANumber), ("12345", .invalidCountryCode),
        ("+999 1234567", .invalidCountryCode), ("011 4", .tooShortAfterIDD), ("+44 1", .tooShortNSN),
        ("+44 123456789012345678", .tooLong),
    ])
    func unreadableInputGetsItsOwnError(_ input: String, _ expected: PhoneNumberParseError) {
        let region: String? = input.hasPrefix("011") ? "US" : nil
        #expect(throws: expected) { try PhoneNumbers.parse(input, defaultRegion: region) }
    }

    @Test func inputsOverTwoHundredFiftyCharactersAreRefusedAsTooLong() {
        let long = "+44 " + String(repeating: "1", count: 300)
        #expect(throws: PhoneNumberParseError.tooLong) { try PhoneNumbers.parse(long, defaultRegion: nil) }
    }

    @Test func regionsListTheDropdownInNameOrder() {
        let regions = PhoneNumbers.regions
        #expect(regions.count > 240)
        #expect(regions.contains { $0.code == "GB" && $0.name == "United Kingdom" && $0.callingCode == 44 })
        #expect(regions.map(\.name) == regions.map(\.name).sorted())
    }
}
