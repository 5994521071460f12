/// What libphonenumber knows about one region (or one non-geographic calling code), with its
/// patterns compiled.
final class PhoneMetadata: Sendable {
    /// The kinds of number description, in the order the generated records store them.
    enum DescriptionKind: Int, CaseIterable {
        case general, fixedLine, mobile, tollFree, premiumRate, sharedCost, personalNumber, voip, pager, uan,
            voicemail, noInternationalDialling
    }

    /// A pattern with the lengths numbers of that kind may have.
    struct NumberDescription: Sendable {
        let pattern: DigitPattern?
        let possibleLengths: [Int]
        let localOnlyLengths: [Int]
        let example: String?

        /// libphonenumber's `_is_number_matching_desc`.
        func matches(_ digits: ArraySlice<UInt8>) -> Bool {
            if !possibleLengths.isEmpty && !possibleLengths.contains(digits.count) { return false }
            return pattern?.matchesWhole(digits) ?? false
        }
    }

    /// A rule for writing numbers of some leading digits in groups.
    struct NumberFormat: Sendable {
        let pattern: DigitPattern
        let format: String
        /// Only the last, most specific, leading-digits pattern is consulted, as libphonenumber does.
        let leadingDigits: DigitPattern?
        let hasLeadingDigits: Bool
        let nationalPrefixFormattingRule: String?
    }

    let id: String
    let countryCode: Int
    let internationalPrefix: DigitPattern?
    let nationalPrefix: String?
    let preferredExtensionPrefix: String?
    let nationalPrefixForParsing: DigitPattern?
    let nationalPrefixTransformRule: String?
    let leadingDigits: DigitPattern?
    let sameMobileAndFixedLinePattern: Bool
    let name: String
    let descriptions: [NumberDescription?]
    /// How many non-empty patterns of the record failed to compile; 0 for all shipped metadata.
    let uncompiledPatterns: Int
    let numberFormats: [NumberFormat]
    let internationalFormats: [NumberFormat]

    var general: NumberDescription? { descriptions[DescriptionKind.general.rawValue] }

    func description(_ kind: DescriptionKind) -> NumberDescription? { descriptions[kind.rawValue] }

    /// Builds the metadata from one generated record.
    init?(record: Substring) {
        let fields = record.split(separator: "\t", omittingEmptySubsequences: false)
        guard fields.count == 12 + DescriptionKind.allCases.count + 2, let countryCode = Int(fields[1]) else {
            return nil
        }
        func optional(_ field: Substring) -> String? { field.isEmpty ? nil : String(field) }
        var failures = 0
        func pattern(_ field: Substring) -> DigitPattern? {
            guard !field.isEmpty else { return nil }
            let compiled = DigitPattern(String(field))
            if compiled == nil { failures += 1 }
            return compiled
        }
        id = String(fields[0])
        self.countryCode = countryCode
        internationalPrefix = pattern(fields[2])
        nationalPrefix = optional(fields[4])
        preferredExtensionPrefix = optional(fields[5])
        nationalPrefixForParsing = pattern(fields[6])
        nationalPrefixTransformRule = optional(fields[7])
        leadingDigits = pattern(fields[9])
        sameMobileAndFixedLinePattern = fields[10] == "1"
        name = String(fields[11])
        descriptions = (0..<DescriptionKind.allCases.count).map { offset in
            let field = fields[12 + offset]
            guard !field.isEmpty else { return nil }
            let parts = field.split(separator: "\u{A6}", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            func lengths(_ text: Substring) -> [Int] { text.split(separator: ",").compactMap { Int($0) } }
            return NumberDescription(
                pattern: pattern(parts[0]), possibleLengths: lengths(parts[1]), localOnlyLengths: lengths(parts[2]),
                example: optional(parts[3]))
        }
        func formats(_ field: Substring) -> [NumberFormat] {
            guard !field.isEmpty, field != "-" else { return [] }
            return field.split(separator: "\u{B6}").compactMap { text in
                let parts = text.split(separator: "\u{A6}", omittingEmptySubsequences: false)
                guard parts.count == 6, let compiled = pattern(parts[0]) else { return nil }
                let leading = parts[2].split(separator: "\u{A7}")
                return NumberFormat(
                    pattern: compiled, format: String(parts[1]),
                    leadingDigits: leading.last.flatMap { pattern($0) },
                    hasLeadingDigits: !leading.isEmpty,
                    nationalPrefixFormattingRule: optional(parts[3]))
            }
        }
        numberFormats = formats(fields[12 + DescriptionKind.allCases.count])
        let international = fields[13 + DescriptionKind.allCases.count]
        internationalFormats = international == "-" ? numberFormats : formats(international)
        uncompiledPatterns = failures
    }
}
