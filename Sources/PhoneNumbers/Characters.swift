/// The character classes libphonenumber's parsing patterns use, for scalars.
enum PhoneCharacters {
    static let plusSigns: Set<Unicode.Scalar> = ["+", "\u{FF0B}"]

    /// `_VALID_PUNCTUATION`, with `X` added since those patterns run case-insensitively.
    static let punctuation: Set<Unicode.Scalar> = {
        var set: Set<Unicode.Scalar> = [
            "-", "x", "X", "\u{2212}", "\u{30FC}", " ", "\u{A0}", "\u{AD}", "\u{200B}", "\u{2060}", "\u{3000}", "(",
            ")", "\u{FF08}", "\u{FF09}", "\u{FF3B}", "\u{FF3D}", ".", "[", "]", "/", "~", "\u{2053}", "\u{223C}",
            "\u{FF5E}",
        ]
        for value in 0x2010...0x2015 { set.insert(Unicode.Scalar(UInt32(value))!) }
        for value in 0xFF0D...0xFF0F { set.insert(Unicode.Scalar(UInt32(value))!) }
        return set
    }()

    /// Punctuation that cannot begin an extension, so text made only of it, digits and plus
    /// signs can be read without the full extension pattern.
    static let extensionFreePunctuation: Set<Unicode.Scalar> = punctuation.subtracting([
        "x", "X", "~", "\u{FF5E}",
    ])

    /// Python's `\d` under `re.UNICODE`: a decimal digit of any script.
    @inline(__always)
    static func isDecimalDigit(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 128 { return scalar.value >= 48 && scalar.value <= 57 }
        return scalar.properties.generalCategory == .decimalNumber
    }

    /// Python's `unicodedata.digit`: the digit value of a decimal or other digit character.
    @inline(__always)
    static func digitValue(_ scalar: Unicode.Scalar) -> UInt8? {
        if scalar.value < 128 {
            return scalar.value >= 48 && scalar.value <= 57 ? UInt8(scalar.value - 48) : nil
        }
        switch scalar.properties.numericType {
        case .decimal?, .digit?:
            guard let value = scalar.properties.numericValue, value >= 0, value <= 9 else { return nil }
            return UInt8(value)
        default:
            return nil
        }
    }

    /// Python's `\w` under `re.UNICODE`: letters, numbers and `_`.
    static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 128 {
            let value = scalar.value
            return (value >= 48 && value <= 57) || (value >= 65 && value <= 90) || (value >= 97 && value <= 122)
                || value == 95
        }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .decimalNumber,
            .letterNumber, .otherNumber:
            return true
        default:
            return scalar.properties.numericType != nil
        }
    }

    static func isASCIILetter(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value >= 65 && scalar.value <= 90) || (scalar.value >= 97 && scalar.value <= 122)
    }

    /// The telephone keypad (ITU E.161) for an ASCII letter or digit, upper-cased first.
    static func keypadDigit(_ scalar: Unicode.Scalar) -> UInt8? {
        var value = scalar.value
        if value >= 48 && value <= 57 { return UInt8(value - 48) }
        // Python upper-cases before looking up; these two become ASCII letters when upper-cased.
        if value == 0x131 { value = 73 }
        if value == 0x17F { value = 83 }
        var upper = value
        if value >= 97 && value <= 122 { upper = value - 32 }
        guard upper >= 65 && upper <= 90 else { return nil }
        let keypad: [UInt8] = [2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 7, 7, 7, 7, 8, 8, 8, 9, 9, 9, 9]
        return keypad[Int(upper - 65)]
    }
}
