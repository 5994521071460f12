import Testing

@testable import PhoneNumbers

@Suite("Robustness")
struct RobustnessTests {
    /// A small deterministic generator, so a failing input can be reproduced.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let regions: [String?] = [nil, "US", "GB", "DE", "JP", "IN", "BR", "AR", "JE", "ZZ", "us"]

    @Test func randomScalarsNeverCrash() {
        var random = SplitMix(state: 20_261_127)
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...40, using: &random)
            var scalars = String.UnicodeScalarView()
            for _ in 0..<length {
                let value = UInt32.random(in: 0...0x2FFFF, using: &random)
                scalars.append(Unicode.Scalar(value) ?? "?")
            }
            exercise(String(scalars), region: Self.regions.randomElement(using: &random)!)
        }
    }

    @Test func randomNearNumbersNeverCrash() {
        var random = SplitMix(state: 42)
        let alphabet = Array("0123456789+-() ./x#*;,~ext=tel:phone-context=isub\u{FF10}\u{0661}\u{00A0}ABCWXYZ")
        for _ in 0..<50_000 {
            let length = Int.random(in: 0...60, using: &random)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &random)! })
            exercise(text, region: Self.regions.randomElement(using: &random)!)
        }
    }

    @Test func longInputIsRefusedBeforeAnyPatternRuns() {
        for filler in ["1", "x", "+", "1 ", "ext", "\u{FF11}"] {
            let text = String(repeating: filler, count: 251 / filler.count + 1)
            #expect(throws: PhoneNumberParseError.tooLong) { try PhoneNumbers.parse(text, defaultRegion: "US") }
        }
    }

    @Test func inputsJustUnderTheLimitAreHandled() {
        for filler in ["1", "1-", "0", "+1", "12 ext 3", "x1", ";ext=", ",,", "\u{FF11}"] {
            let text = String(repeating: filler, count: 250 / filler.count)
            exercise(text, region: "US")
            exercise(text, region: nil)
        }
    }

    func exercise(_ text: String, region: String?) {
        guard let number = try? PhoneNumbers.parse(text, defaultRegion: region) else { return }
        _ = (number.isValid, number.isPossible, number.type, number.region, number.e164)
        _ = (number.international, number.national, number.masked)
    }
}
