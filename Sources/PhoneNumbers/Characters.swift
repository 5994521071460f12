/// The character classes libphonenumber's parsing patterns use, for scalars.
enum PhoneCharacters {
    /// `+` or the full-width `＋`.
    @inline(__always)
    static func isPlusSign(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value == 0x2B || scalar.value == 0xFF0B
    }

    /// `_VALID_PUNCTUATION`, with `X` too since those patterns run case-insensitively.
    @inline(__always)
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        isExtensionFreePunctuation(scalar) || isExtensionLabelPunctuation(scalar)
    }

    /// The punctuation that can also label an extension: `x`, `X`, `~` and `～`.
    @inline(__always)
    static func isExtensionLabelPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x78, 0x58, 0x7E, 0xFF5E: return true
        default: return false
        }
    }

    /// Punctuation that cannot begin an extension, so text made only of it, digits and plus
    /// signs can be read without the full extension pattern.
    @inline(__always)
    static func isExtensionFreePunctuation(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x2D, 0x20, 0x28, 0x29, 0x2E, 0x5B, 0x5D, 0x2F: return true
        case 0xA0, 0xAD, 0x200B, 0x2060, 0x3000, 0x2212, 0x30FC, 0xFF08, 0xFF09, 0xFF3B, 0xFF3D, 0x2053, 0x223C:
            return true
        case 0x2010...0x2015, 0xFF0D...0xFF0F: return true
        default: return false
        }
    }

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
