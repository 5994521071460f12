import Foundation
import KeywardenCore
import Testing

@Suite("ModelPrices")
struct ModelPricesTests {
    static let standardText =
        "gpt-4o: input=2.50 output=10; gpt-4o-mini: input=0.15 output=0.6; o1: input=15 output=60;"
        + " default: input=1,000 output=0.075"

    func price(_ input: Int64, _ output: Int64) -> ModelPrice {
        ModelPrice(inputMicrosPerMillion: input, outputMicrosPerMillion: output)
    }

    @Test func pricesAreReadExactlyIntoMicroUnits() throws {
        let prices = try ModelPrices.parse(Self.standardText)
        #expect(prices.prices["gpt-4o"] == price(2_500_000, 10_000_000))
        #expect(prices.prices["gpt-4o-mini"] == price(150_000, 600_000))
        #expect(prices.prices["o1"] == price(15_000_000, 60_000_000))
        #expect(prices.fallback == price(1_000_000_000, 75_000))
        #expect(prices.prices["default"] == nil)
        #expect(prices.prices.count == 3)
        let finest = try ModelPrices.parse("tiny: input=0.000001 output=1000000")
        #expect(finest.prices["tiny"] == price(1, 1_000_000_000_000))
        #expect(finest.fallback == .free)
    }

    @Test func modelNamesMayContainColonsSlashesAndAtSigns() throws {
        let prices = try ModelPrices.parse(
            "ft:gpt-4o-mini:acme::abc123: input=0.3 output=1.2;\n openai/gpt-4o@2024: input=1 output=2")
        #expect(prices.prices["ft:gpt-4o-mini:acme::abc123"] == price(300_000, 1_200_000))
        #expect(prices.prices["openai/gpt-4o@2024"] == price(1_000_000, 2_000_000))
    }

    @Test func aCallCostsItsTokensTimesTheirPriceInNanoUnits() {
        let gpt4o = price(2_500_000, 10_000_000)
        // 1000 × $2.50/M + 500 × $10/M = $0.0075 = 7,500 micros.
        #expect(gpt4o.costNanos(input: 1000, output: 500) == 7_500_000)
        // 7 × $2.50/M = 17.5 micros.
        #expect(gpt4o.costNanos(input: 7, output: 0) == 17_500)
        #expect(gpt4o.costNanos(input: 0, output: 0) == 0)
        #expect(ModelPrice.free.costNanos(input: 1_000_000, output: 1_000_000) == 0)
    }

    @Test func costsRoundHalfANanoUnitUpAfterSummingBothKinds() {
        #expect(price(500, 0).costNanos(input: 1, output: 0) == 1)
        #expect(price(499, 0).costNanos(input: 1, output: 0) == 0)
        #expect(price(1_499, 0).costNanos(input: 1, output: 0) == 1)
        #expect(price(1_500, 0).costNanos(input: 1, output: 0) == 2)
        // A quarter nano-unit from each kind makes half a nano-unit, which rounds up.
        #expect(price(250, 250).costNanos(input: 1, output: 1) == 1)
    }

    @Test func hugeCostsAreExactWhileTheyFitAndSaturateInsteadOfTrapping() {
        // The product, about 5 × 10^21, is past Int64 but the cost in nano-units is not.
        #expect(price(5_000_000_000, 0).costNanos(input: 999_999_999_999, output: 0) == 4_999_999_999_995_000_000)
        let dearest = price(1_000_000_000_000, 1_000_000_000_000)
        #expect(dearest.costNanos(input: 999_999_999_999, output: 999_999_999_999) == .max)
        #expect(price(.max, .max).costNanos(input: .max, output: .max) == .max)
        #expect(price(-5, -5).costNanos(input: 10, output: -10) == 0)
    }

    @Test func datedModelNamesTakeTheLongestListedPrefix() throws {
        let prices = try ModelPrices.parse(Self.standardText)
        #expect(prices.price(for: "gpt-4o") == price(2_500_000, 10_000_000))
        #expect(prices.price(for: "gpt-4o-2024-08-06") == price(2_500_000, 10_000_000))
        #expect(prices.price(for: "gpt-4o-mini-2024-07-18") == price(150_000, 600_000))
        #expect(prices.price(for: "gpt-4o-mini") == price(150_000, 600_000))
        #expect(prices.price(for: "o1-preview-2024-09-12") == price(15_000_000, 60_000_000))
    }

    @Test func modelsNotListedTakeTheFallback() throws {
        let prices = try ModelPrices.parse(Self.standardText)
        let fallback = price(1_000_000_000, 75_000)
        // Only a whole `-`-separated prefix counts, and case matters.
        for model in ["gpt-4omni", "GPT-4o", "claude-3", "", "-", "gpt", "default"] {
            #expect(prices.price(for: model) == fallback, "\(model)")
        }
        let noDefault = try ModelPrices.parse("gpt-4o: input=2.50 output=10")
        #expect(noDefault.price(for: "claude-3") == .free)
        #expect(ModelPrices.none.price(for: "gpt-4o") == .free)
    }

    @Test func pricingIsOnOnlyWhenSomePriceIsAboveZero() throws {
        #expect(ModelPrices.none.isPricing == false)
        #expect(try ModelPrices.parse("default: input=0 output=0").isPricing == false)
        #expect(try ModelPrices.parse("a: input=0 output=0; b: input=0 output=0").isPricing == false)
        #expect(try ModelPrices.parse("a: input=0 output=0.000001").isPricing)
        #expect(try ModelPrices.parse("default: input=0.000001 output=0").isPricing)
        #expect(ModelPrice.free.isFree)
        #expect(price(0, 1).isFree == false)
    }

    @Test func theTextIsSortedWithTheFewestDecimalsAndReadsBackTheSame() throws {
        let prices = try ModelPrices.parse(Self.standardText)
        #expect(
            prices.text
                == "gpt-4o: input=2.5 output=10; gpt-4o-mini: input=0.15 output=0.6; o1: input=15 output=60;"
                + " default: input=1000 output=0.075")
        #expect(try ModelPrices.parse(prices.text) == prices)
        let freeFallback = try ModelPrices.parse("b: input=0.000001 output=0; a: input=1000000 output=0")
        #expect(freeFallback.text == "a: input=1000000 output=0; b: input=0.000001 output=0")
        #expect(try ModelPrices.parse(freeFallback.text) == freeFallback)
        let onlyDefault = try ModelPrices.parse("default: input=3 output=4")
        #expect(onlyDefault.text == "default: input=3 output=4")
        #expect(try ModelPrices.parse(onlyDefault.text) == onlyDefault)
        #expect(ModelPrices.none.text == "")
    }

    struct Fault: Sendable, CustomTestStringConvertible {
        let text: String
        let message: String
        var testDescription: String { text }
    }

    static let faults: [Fault] = [
        .init(text: "", message: "no model prices given"),
        .init(text: " ; ;\n", message: "no model prices given"),
        .init(text: "gpt-4o input=1 output=2", message: "expected 'model: input=PRICE output=PRICE'"),
        .init(text: "gpt 4o: input=1 output=2", message: "model names are 1 to 100"),
        .init(text: "gpt-4ö: input=1 output=2", message: "model names are 1 to 100"),
        .init(text: ": input=1 output=2", message: "model names are 1 to 100"),
        .init(text: String(repeating: "m", count: 101) + ": input=1 output=2", message: "model names are 1 to 100"),
        .init(text: "gpt-4o: input=1 output=2; gpt-4o: input=3 output=4", message: "model gpt-4o is priced twice"),
        .init(text: "default: input=1 output=2; default: input=1 output=2", message: "model default is priced twice"),
        .init(text: "gpt-4o: input=1", message: "model gpt-4o needs both an input and an output price"),
        .init(text: "gpt-4o: output=1", message: "model gpt-4o needs both an input and an output price"),
        .init(text: "gpt-4o: input=1 output=2 cached=1", message: "unknown price 'cached=1' for model gpt-4o"),
        .init(text: "gpt-4o: input=1 output", message: "unknown price 'output' for model gpt-4o"),
        .init(text: "gpt-4o: input=1 input=2 output=3", message: "input price of model gpt-4o is given twice"),
        .init(text: "gpt-4o: input=abc output=1", message: "input price of model gpt-4o must be an amount"),
        .init(text: "gpt-4o: input=1 output=", message: "output price of model gpt-4o must be an amount"),
        .init(text: "gpt-4o: input=-1 output=1", message: "input price of model gpt-4o must be an amount"),
        .init(text: "gpt-4o: input=.5 output=1", message: "input price of model gpt-4o must be an amount"),
        .init(text: "gpt-4o: input=5. output=1", message: "input price of model gpt-4o must be an amount"),
        .init(text: "gpt-4o: input=1e3 output=1", message: "input price of model gpt-4o must be an amount"),
        .init(text: "gpt-4o: input=10,50 output=1", message: "input price of model gpt-4o must be an amount"),
        .init(text: "gpt-4o: input=$2 output=1", message: "input price of model gpt-4o must be an amount"),
        .init(text: "gpt-4o: input=2.5000001 output=1", message: "price of model gpt-4o has more than 6 decimals"),
        .init(text: "gpt-4o: input=1 output=1000000.000001", message: "output price of model gpt-4o is over 1,000,000"),
        .init(text: "gpt-4o: input=99999999999999999999 output=1", message: "input price of model gpt-4o is over"),
    ]

    @Test(arguments: faults)
    func malformedPricesAreRefusedNamingTheModelAndTheFault(_ fault: Fault) {
        let error = #expect(throws: TierSyntaxError.self) { try ModelPrices.parse(fault.text) }
        #expect(error?.message.contains(fault.message) == true, "\(error?.message ?? "no error")")
    }
}
