import Foundation

/// Parsing, validation, classification and formatting of phone numbers with libphonenumber's
/// metadata (converted from the PyPI package `phonenumbers`; see `PhoneMetadataText.swift`).
public enum PhoneNumbers {
    /// The libphonenumber metadata version compiled in.
    public static var metadataVersion: String { phoneMetadataVersion }

    /// Reads a phone number written in any common way: `+44 20 7946 0000`, `020 7946 0000` with
    /// a default region, `011 44 ...` with the default region's international prefix, full-width
    /// digits, `tel:` URIs and extensions.
    ///
    /// - Parameter defaultRegion: the ISO code (upper case) of the region to assume when the
    ///   number has no `+`.
    public static func parse(_ input: String, defaultRegion: String?) throws(PhoneNumberParseError) -> PhoneNumber {
        try PhoneNumberParser(store: .shared).parse(input, defaultRegion: defaultRegion)
    }

    /// Regions for a country picker, sorted by English name.
    public static let regions: [PhoneRegion] = {
        let store = PhoneMetadataStore.shared
        return store.callingCodeByRegion.map { code, callingCode in
            PhoneRegion(code: code, name: store.regionNames[code] ?? code, callingCode: callingCode)
        }.sorted { ($0.name, $0.code) < ($1.name, $1.code) }
    }()

    /// Indexes the compiled-in metadata now rather than at the first parse, and returns how many
    /// regions and non-geographic codes it holds. Patterns are still compiled per region on first use.
    @discardableResult
    public static func loadMetadata() -> Int {
        PhoneMetadataStore.shared.recordCount
    }

    /// Compiles every region's patterns now (for servers that would rather pay at start-up).
    @discardableResult
    public static func compileAllMetadata() -> Int {
        PhoneMetadataStore.shared.allMetadata().count
    }
}

extension PhoneNumber {
    private var store: PhoneMetadataStore { .shared }

    /// The region the number belongs to (`001` for non-geographic numbers such as +800), or
    /// `nil` when a shared calling code's number fits none of its regions.
    public var region: String? {
        guard let regions = store.regionsByCallingCode[countryCode] else { return nil }
        if regions.count == 1 { return regions[0] }
        for region in regions {
            guard let metadata = store.metadata(region: region) else { continue }
            if let leading = metadata.leadingDigits {
                if leading.prefixMatchLength(nationalDigits[...]) != nil { return region }
            } else if Self.type(of: nationalDigits, metadata: metadata) != .unknown {
                return region
            }
        }
        return nil
    }

    /// The kind of line, or `unknown` when the number matches no pattern of its region.
    public var type: PhoneNumberType {
        guard let metadata = store.metadata(callingCode: countryCode, region: region) else { return .unknown }
        return Self.type(of: nationalDigits, metadata: metadata)
    }

    /// Whether the number is a real, assignable number of its region by the metadata.
    public var isValid: Bool {
        guard let region, let metadata = store.metadata(callingCode: countryCode, region: region) else { return false }
        if region != "001" && store.callingCodeByRegion[region] != countryCode { return false }
        return Self.type(of: nationalDigits, metadata: metadata) != .unknown
    }

    /// Whether the number has a length some number of its calling code could have.
    public var isPossible: Bool {
        guard let region = store.regionsByCallingCode[countryCode]?.first,
            let metadata = store.metadata(callingCode: countryCode, region: region)
        else { return false }
        switch PhoneNumberParser.testLength(nationalDigits[...], metadata: metadata) {
        case .possible, .possibleLocalOnly: return true
        default: return false
        }
    }

    /// `+442079460000`.
    public var e164: String { "+\(countryCode)\(nationalNumber)" }

    /// `+44 20 7946 0000`.
    public var international: String { "+\(countryCode) " + formatted(national: false) }

    /// `020 7946 0000`.
    public var national: String { formatted(national: true) }

    /// The international form with every digit but the last two replaced by `•`:
    /// `+•• •• •••• ••00`.
    public var masked: String {
        let text = international
        let digitCount = text.unicodeScalars.count { $0.value >= 48 && $0.value <= 57 }
        var seen = 0
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.value >= 48 && scalar.value <= 57 {
                seen += 1
                result.append(seen > digitCount - 2 ? scalar : "\u{2022}")
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }

    /// The types checked before fixed line and mobile, in libphonenumber's order.
    private static let specialTypes: [(PhoneMetadata.DescriptionKind, PhoneNumberType)] = [
        (.premiumRate, .premiumRate), (.tollFree, .tollFree), (.sharedCost, .sharedCost), (.voip, .voip),
        (.personalNumber, .personalNumber), (.pager, .pager), (.uan, .uan), (.voicemail, .voicemail),
    ]

    /// `_number_type_helper`.
    static func type(of digits: [UInt8], metadata: PhoneMetadata) -> PhoneNumberType {
        let number = digits[...]
        guard metadata.general?.matches(number) == true else { return .unknown }
        for (kind, type) in specialTypes where metadata.description(kind)?.matches(number) == true {
            return type
        }
        if metadata.description(.fixedLine)?.matches(number) == true {
            if metadata.sameMobileAndFixedLinePattern || metadata.description(.mobile)?.matches(number) == true {
                return .fixedLineOrMobile
            }
            return .fixedLine
        }
        if !metadata.sameMobileAndFixedLinePattern && metadata.description(.mobile)?.matches(number) == true {
            return .mobile
        }
        return .unknown
    }

    /// `format_number` for the national and international forms.
    private func formatted(national: Bool) -> String {
        guard let region = store.regionsByCallingCode[countryCode]?.first,
            let metadata = store.metadata(callingCode: countryCode, region: region)
        else { return nationalNumber }
        var text = nationalNumber
        let formats = national ? metadata.numberFormats : metadata.internationalFormats
        if let format = formats.first(where: { format in
            (!format.hasLeadingDigits || format.leadingDigits?.prefixMatchLength(nationalDigits[...]) != nil)
                && format.pattern.matchesWhole(nationalDigits[...])
        }), let match = format.pattern.captures(nationalDigits[...], whole: true) {
            var rule = format.format
            if national, let prefixRule = format.nationalPrefixFormattingRule, !prefixRule.isEmpty {
                rule = Self.replacingFirstGroup(in: rule, with: prefixRule)
            }
            text = String(
                decoding: PhoneNumberParser.expand(rule, groups: match.groups, in: nationalDigits), as: UTF8.self)
        }
        if let extensionNumber {
            text += (metadata.preferredExtensionPrefix ?? " ext. ") + extensionNumber
        }
        return text
    }

    /// Replaces the first `\N` of a format with the national-prefix rule, whose own `\1`
    /// stands for that reference.
    private static func replacingFirstGroup(in format: String, with prefixRule: String) -> String {
        let bytes = Array(format.utf8)
        guard
            let index = bytes.indices.dropLast().first(where: { bytes[$0] == 92 && (48...57).contains(bytes[$0 + 1]) })
        else { return format }
        // The rule's every `\1` becomes the format's group reference, byte by byte.
        let rule = Array(prefixRule.utf8)
        var result = Array(bytes[..<index])
        result.reserveCapacity(bytes.count + rule.count)
        var at = 0
        while at < rule.count {
            if rule[at] == 92, at + 1 < rule.count, rule[at + 1] == 49 {
                result.append(contentsOf: bytes[index...(index + 1)])
                at += 2
            } else {
                result.append(rule[at])
                at += 1
            }
        }
        result.append(contentsOf: bytes[(index + 2)...])
        return String(decoding: result, as: UTF8.self)
    }
}
