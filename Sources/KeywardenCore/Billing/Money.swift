import Foundation

/// The one currency an installation bills in, and how its amounts are written and charged.
///
/// Amounts are integers of micro-units (a millionth of the currency unit): a ledger can hold the
/// price of a single token exactly, and no amount ever passes through floating point. Charges are
/// made in the currency's minor unit (cents for `usd`), so a purchase is a whole number of them.
public struct BillingCurrency: Sendable, Equatable {
    /// The ISO 4217 code in lower case, as Stripe takes it: `usd`.
    public let code: String
    /// Digits after the decimal point of the minor unit: 2 for `usd`, 0 for `jpy`.
    public let minorDigits: Int

    /// Currencies whose smallest unit is the whole unit (Stripe's zero-decimal list).
    static let zeroDecimal: Set<String> = [
        "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
    ]

    /// A currency from its ISO 4217 code; `nil` unless it is three ASCII letters.
    public init?(code raw: String) {
        let code = raw.lowercased()
        guard code.utf8.count == 3, code.utf8.allSatisfy({ $0 >= 97 && $0 <= 122 }) else { return nil }
        self.code = code
        self.minorDigits = Self.zeroDecimal.contains(code) ? 0 : 2
    }

    /// United States dollars, the default.
    public static let usd = BillingCurrency(code: "usd")!

    /// Micro-units in one minor unit: 10,000 for cents.
    public var microsPerMinorUnit: Int64 {
        var micros: Int64 = 1_000_000
        for _ in 0..<minorDigits { micros /= 10 }
        return micros
    }

    /// Micro-units of a whole number of minor units, or `nil` past what an amount can hold.
    public func micros(minorUnits: Int64) -> Int64? {
        let (product, overflow) = minorUnits.multipliedReportingOverflow(by: microsPerMinorUnit)
        return overflow ? nil : product
    }

    /// Whole minor units in an amount, rounded toward zero.
    public func minorUnits(micros: Int64) -> Int64 { micros / microsPerMinorUnit }

    /// An amount as a person reads it: `$10.00`, `-$0.42`, `1,000 JPY`. Sub-cent remainders are
    /// shown to the micro-unit only when there are any, so a ledger of token prices stays exact.
    public func format(micros: Int64) -> String {
        let negative = micros < 0
        let magnitude = micros.magnitude
        let whole = magnitude / 1_000_000
        let fraction = magnitude % 1_000_000
        var digits = String(fraction)
        digits = String(repeating: "0", count: 6 - digits.count) + digits
        var shown = minorDigits
        while shown < 6, digits.utf8.dropFirst(shown).contains(where: { $0 != 48 }) { shown += 1 }
        let fractionText = shown == 0 ? "" : "." + digits.prefix(shown)
        let number = Self.grouped(whole) + fractionText
        let sign = negative ? "-" : ""
        if code == "usd" { return "\(sign)$\(number)" }
        return "\(sign)\(number) \(code.uppercased())"
    }

    /// Reads an amount a person typed, such as `10`, `10.5`, `$1,000.00`, into micro-units; `nil`
    /// for anything else, for more decimals than the minor unit has, or for a negative amount.
    public func parse(_ text: String) -> Int64? {
        var body = Substring(text.trimmingWhitespace())
        if code == "usd", body.hasPrefix("$") { body = body.dropFirst() }
        let suffix = " " + code.uppercased()
        if body.uppercased().hasSuffix(suffix) { body = body.dropLast(suffix.count) }
        let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard var wholeGroups = parts.first.map({ $0.split(separator: ",", omittingEmptySubsequences: false) }) else {
            return nil
        }
        // Commas only group thousands (`1,000`): `10,50` is not read as a thousand and fifty.
        if wholeGroups.count > 1 {
            guard (1...3).contains(wholeGroups[0].count), wholeGroups.dropFirst().allSatisfy({ $0.count == 3 }) else {
                return nil
            }
            wholeGroups = [Substring(wholeGroups.joined())]
        }
        guard let wholeText = wholeGroups.first, !wholeText.isEmpty, wholeText.utf8.count <= 12,
            wholeText.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let whole = Int64(wholeText)
        else { return nil }
        var micros = whole * 1_000_000
        if parts.count == 2 {
            let fraction = parts[1]
            guard !fraction.isEmpty, fraction.utf8.count <= minorDigits,
                fraction.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 })
            else { return nil }
            let padded = String(fraction) + String(repeating: "0", count: 6 - fraction.count)
            micros += Int64(padded) ?? 0
        }
        return micros
    }

    private static func grouped(_ value: UInt64) -> String {
        let digits = String(value)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return out
    }
}
