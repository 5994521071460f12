import Foundation

/// What a model's tokens cost: micro-units of the billing currency per million tokens.
public struct ModelPrice: Equatable, Sendable {
    /// Micro-units per million prompt tokens.
    public var inputMicrosPerMillion: Int64
    /// Micro-units per million completion tokens.
    public var outputMicrosPerMillion: Int64

    /// Creates a price.
    public init(inputMicrosPerMillion: Int64, outputMicrosPerMillion: Int64) {
        self.inputMicrosPerMillion = inputMicrosPerMillion
        self.outputMicrosPerMillion = outputMicrosPerMillion
    }

    /// Nothing for either kind of token.
    public static let free = ModelPrice(inputMicrosPerMillion: 0, outputMicrosPerMillion: 0)

    /// Whether neither kind of token costs anything.
    public var isFree: Bool { inputMicrosPerMillion <= 0 && outputMicrosPerMillion <= 0 }

    /// The cost of a call in nano-units (a thousandth of a micro-unit), rounded half up:
    /// `(input × inputMicrosPerMillion + output × outputMicrosPerMillion) / 1000`.
    ///
    /// The sum is held in 128 bits, so no token count or price an `Int` can hold traps; a cost
    /// past `Int64.max` nano-units is reported as `Int64.max`. Negative counts and prices count
    /// as zero.
    public func costNanos(input: Int, output: Int) -> Int64 {
        let inputCost = Self.product(input, inputMicrosPerMillion)
        let outputCost = Self.product(output, outputMicrosPerMillion)
        // Each product is below 2^126, so neither addition can carry out of the high word.
        var (low, carry) = inputCost.low.addingReportingOverflow(outputCost.low)
        var high = inputCost.high + outputCost.high + (carry ? 1 : 0)
        (low, carry) = low.addingReportingOverflow(500)
        high += carry ? 1 : 0
        // A high word of 1000 or more means a quotient past 64 bits.
        guard high < 1000 else { return .max }
        let quotient = UInt64(1000).dividingFullWidth((high: high, low: low)).quotient
        return quotient > UInt64(Int64.max) ? .max : Int64(quotient)
    }

    private static func product(_ tokens: Int, _ micros: Int64) -> (high: UInt64, low: UInt64) {
        UInt64(max(tokens, 0)).multipliedFullWidth(by: UInt64(max(micros, 0)))
    }
}

/// The configured prices (`model_prices`) and the one for models not listed.
public struct ModelPrices: Equatable, Sendable {
    /// Every listed model's price, by name.
    public let prices: [String: ModelPrice]
    /// The price of models not listed.
    public let fallback: ModelPrice

    /// The entry name that sets ``fallback``.
    public static let fallbackName = "default"
    /// The most a price may be: a million currency units per million tokens.
    public static let maximumMicros: Int64 = 1_000_000_000_000
    /// The longest model name the setting takes, in bytes.
    public static let maximumNameLength = 100

    /// Creates prices.
    public init(prices: [String: ModelPrice], fallback: ModelPrice) {
        self.prices = prices
        self.fallback = fallback
    }

    /// No prices: every call costs nothing (the default; pricing is off).
    public static let none = ModelPrices(prices: [:], fallback: .free)

    /// Whether any price is above zero (pricing is on).
    public var isPricing: Bool { !fallback.isFree || prices.values.contains { !$0.isFree } }

    /// The price of `model`: the exact name, else the longest listed name N such that `model`
    /// starts with N + `-` (so `gpt-4o-2024-08-06` takes `gpt-4o`, and `gpt-4o-mini-2024-07-18`
    /// takes `gpt-4o-mini`), else ``fallback``. Matching is case-sensitive.
    public func price(for model: String) -> ModelPrice {
        listedPrice(for: model) ?? fallback
    }

    /// The price listed for `model` (exactly, or by its longest listed prefix), or `nil` when
    /// only the fallback would price it.
    public func listedPrice(for model: String) -> ModelPrice? {
        if let exact = prices[model] { return exact }
        guard !prices.isEmpty else { return nil }
        // Cutting at each `-` from the right tries the longest candidate first.
        var candidate = Substring(model)
        while let dash = candidate.utf8.lastIndex(of: UInt8(ascii: "-")) {
            candidate = candidate[..<dash]
            if let price = prices[String(candidate)] { return price }
        }
        return nil
    }

    /// Whether a call asking for `model` may go ahead without credit: only a model listed at no
    /// cost. A model that is not listed may be answered by one that is priced (the answer's
    /// model is what is charged), so it is checked like any priced call.
    public func isListedFree(_ model: String) -> Bool {
        listedPrice(for: model)?.isFree ?? false
    }

    /// Reads the `model_prices` setting: entries separated by `;`, each
    /// `MODEL: input=PRICE output=PRICE`, where PRICE is an amount of the currency per million
    /// tokens with up to 6 decimals (`2.50`, `0.075`, `10`, `1,000`), read exactly into micro-units.
    /// The entry `default` prices every model not listed; without one they are free.
    ///
    /// Model names may contain `:` (`ft:gpt-4o-mini:acme::abc123`): the name ends at the last `:`
    /// before the first `=`.
    ///
    /// - Throws: a message naming the model and what is wrong, for the configuration error.
    public static func parse(_ text: String) throws(TierSyntaxError) -> ModelPrices {
        var prices: [String: ModelPrice] = [:]
        var fallback: ModelPrice?
        for entry in text.split(separator: ";") {
            let entry = entry.trimmingWhitespace()
            if entry.isEmpty { continue }
            let head = entry.firstIndex(of: "=").map { entry[..<$0] } ?? entry[...]
            guard let colon = head.lastIndex(of: ":") else {
                throw TierSyntaxError(message: "expected 'model: input=PRICE output=PRICE' in '\(entry)'")
            }
            let name = entry[..<colon].trimmingWhitespace()
            guard isModelName(name) else {
                throw TierSyntaxError(
                    message: "model names are 1 to \(maximumNameLength) ASCII letters, digits and '-_.:/@': '\(name)'")
            }
            guard name == fallbackName ? (fallback == nil) : (prices[name] == nil) else {
                throw TierSyntaxError(message: "model \(name) is priced twice")
            }
            var input: Int64?
            var output: Int64?
            for pair in entry[entry.index(after: colon)...].split(whereSeparator: \.isWhitespace) {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, parts[0] == "input" || parts[0] == "output" else {
                    throw TierSyntaxError(message: "unknown price '\(pair)' for model \(name); use input and output")
                }
                guard (parts[0] == "input" ? input : output) == nil else {
                    throw TierSyntaxError(message: "\(parts[0]) price of model \(name) is given twice")
                }
                let micros = try readMicros(parts[1], key: parts[0], model: name)
                if parts[0] == "input" { input = micros } else { output = micros }
            }
            guard let input, let output else {
                throw TierSyntaxError(message: "model \(name) needs both an input and an output price")
            }
            let price = ModelPrice(inputMicrosPerMillion: input, outputMicrosPerMillion: output)
            if name == fallbackName { fallback = price } else { prices[name] = price }
        }
        guard !prices.isEmpty || fallback != nil else { throw TierSyntaxError(message: "no model prices given") }
        return ModelPrices(prices: prices, fallback: fallback ?? .free)
    }

    /// The setting text for these prices, as ``parse(_:)`` reads it: entries sorted by name,
    /// `default` last unless the fallback is free, each price with the fewest decimals needed.
    /// For ``none`` it is empty, which is the unset setting rather than one ``parse(_:)`` takes.
    public var text: String {
        var entries = prices.sorted { $0.key < $1.key }.map { Self.entry($0.key, $0.value) }
        if fallback != .free { entries.append(Self.entry(Self.fallbackName, fallback)) }
        return entries.joined(separator: "; ")
    }

    private static func entry(_ name: String, _ price: ModelPrice) -> String {
        "\(name): input=\(amount(price.inputMicrosPerMillion)) output=\(amount(price.outputMicrosPerMillion))"
    }

    /// Micro-units written as currency units: `2.5`, `0.075`, `10`.
    private static func amount(_ micros: Int64) -> String {
        let sign = micros < 0 ? "-" : ""
        let whole = micros.magnitude / 1_000_000
        let fraction = micros.magnitude % 1_000_000
        guard fraction != 0 else { return "\(sign)\(whole)" }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 6 - digits.utf8.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(sign)\(whole).\(digits)"
    }

    private static func isModelName(_ name: String) -> Bool {
        (1...maximumNameLength).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                switch byte {
                case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
                default: "-_.:/@".utf8.contains(byte)
                }
            }
    }

    /// An amount such as `2.50` or `1,000` read digit by digit into micro-units, with no floating
    /// point; commas only group thousands, as ``BillingCurrency/parse(_:)`` reads them.
    private static func readMicros(
        _ text: Substring, key: Substring, model: String
    ) throws(TierSyntaxError) -> Int64 {
        let malformed = TierSyntaxError(
            message: "\(key) price of model \(model) must be an amount per million tokens such as 2.50, not '\(text)'")
        let isDigit: (UInt8) -> Bool = { $0 >= 0x30 && $0 <= 0x39 }
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let wholeText = parts.first else { throw malformed }
        let groups = wholeText.split(separator: ",", omittingEmptySubsequences: false)
        if groups.count > 1 {
            guard (1...3).contains(groups[0].utf8.count), groups.dropFirst().allSatisfy({ $0.utf8.count == 3 }) else {
                throw malformed
            }
        }
        let whole = groups.joined()
        guard !whole.isEmpty, whole.utf8.allSatisfy(isDigit) else { throw malformed }
        // Capped just past the limit, so leading zeros are fine and no run of digits overflows.
        var units: Int64 = 0
        for byte in whole.utf8 { units = min(units * 10 + Int64(byte - 0x30), maximumMicros / 1_000_000 + 1) }
        var micros = units * 1_000_000
        if parts.count == 2 {
            let fraction = parts[1]
            guard !fraction.isEmpty, fraction.utf8.allSatisfy(isDigit) else { throw malformed }
            guard fraction.utf8.count <= 6 else {
                throw TierSyntaxError(
                    message: "\(key) price of model \(model) has more than 6 decimals: '\(text)'")
            }
            var fractionMicros: Int64 = 0
            for byte in fraction.utf8 { fractionMicros = fractionMicros * 10 + Int64(byte - 0x30) }
            for _ in fraction.utf8.count..<6 { fractionMicros *= 10 }
            micros += fractionMicros
        }
        guard micros <= maximumMicros else {
            throw TierSyntaxError(
                message: "\(key) price of model \(model) is over 1,000,000 per million tokens: '\(text)'")
        }
        return micros
    }
}
