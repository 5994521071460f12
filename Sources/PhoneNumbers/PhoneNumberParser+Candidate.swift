/// From text to a candidate number: the part of the input that can be a phone number, and its extension.
extension PhoneNumberParser {
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
}
