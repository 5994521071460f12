import Foundation

/// What happened to verifications, counted per hour and country for the console's insights.
public enum VerificationEvent: Sendable, Equatable, Hashable {
    /// A verification was started (its first code sent).
    case started
    /// A code was sent, by a channel (`sms`, `whatsapp`).
    case sent(channel: String)
    /// A code was approved.
    case approved
    /// A start was refused, with the refusal's code.
    case refused(reason: String)

    /// The stored name: `started`, `sent.sms`, `approved`, `refused.unsupported_country`.
    public var name: String {
        switch self {
        case .started: "started"
        case .sent(let channel): "sent.\(channel)"
        case .approved: "approved"
        case .refused(let reason): "refused.\(reason)"
        }
    }

    /// The event a stored name stands for.
    public init?(name: String) {
        switch name {
        case "started": self = .started
        case "approved": self = .approved
        default:
            if name.hasPrefix("sent.") {
                self = .sent(channel: String(name.dropFirst(5)))
            } else if name.hasPrefix("refused.") {
                self = .refused(reason: String(name.dropFirst(8)))
            } else {
                return nil
            }
        }
    }
}

/// Counts verification events per hour and country.
public protocol VerificationStatsRepository: Sendable {
    /// Adds one to the event's count for the country in the hour of `now`.
    func count(_ event: VerificationEvent, country: String, at now: Date) async throws
    /// The counts from `from` (inclusive, rounded down to its hour) on, by country and event name.
    func counts(from: Date) async throws -> [String: [String: Int]]
}

/// The price of one text message per country, to estimate what verification costs the operator.
public struct MessagePrices: Equatable, Sendable {
    /// Micro-units per message by ISO country code.
    public var byCountry: [String: Int64]
    /// The price of a country not listed, if any.
    public var fallback: Int64?

    /// Creates a table.
    public init(byCountry: [String: Int64] = [:], fallback: Int64? = nil) {
        self.byCountry = byCountry
        self.fallback = fallback
    }

    /// The price of one message to the country, if known.
    public func price(for country: String) -> Int64? { byCountry[country] ?? fallback }

    /// Reads `US=0.0079 GB=0.04 default=0.05` (amounts in the currency with up to 6 decimals;
    /// spaces, commas or semicolons between entries); the error names the entry it could not read.
    public static func parse(_ text: String) throws(TierSyntaxError) -> MessagePrices {
        var prices = MessagePrices()
        let entries = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == ";" || $0 == "\n" })
        for entry in entries {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else {
                throw TierSyntaxError(message: "'\(entry)' is not COUNTRY=PRICE, such as US=0.0079")
            }
            guard let micros = readMicros(parts[1]) else {
                throw TierSyntaxError(
                    message:
                        "'\(parts[1])' in '\(entry)' is not a price per message such as 0.0079 (at most 6 decimals, at most 1000)"
                )
            }
            let country = parts[0].uppercased()
            if country == "DEFAULT" {
                prices.fallback = micros
            } else {
                guard country.utf8.count == 2, country.utf8.allSatisfy({ $0 >= 65 && $0 <= 90 }) else {
                    throw TierSyntaxError(message: "'\(parts[0])' in '\(entry)' is not a two-letter country code")
                }
                prices.byCountry[country] = micros
            }
        }
        return prices
    }

    /// `0.0079` as micro-units, digit by digit; `nil` past 6 decimals or above 1000.
    static func readMicros(_ text: String) -> Int64? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let isDigit: (UInt8) -> Bool = { $0 >= 0x30 && $0 <= 0x39 }
        guard let whole = parts.first, (1...4).contains(whole.utf8.count), whole.utf8.allSatisfy(isDigit) else {
            return nil
        }
        var micros = Int64(whole)! * 1_000_000
        if parts.count == 2 {
            let fraction = parts[1]
            guard (1...6).contains(fraction.utf8.count), fraction.utf8.allSatisfy(isDigit) else { return nil }
            var value = Int64(fraction)!
            for _ in fraction.utf8.count..<6 { value *= 10 }
            micros += value
        }
        return micros <= 1_000_000_000 ? micros : nil
    }
}

/// One country's funnel in a window.
public struct CountryInsight: Equatable, Sendable {
    public var country: String
    public var started: Int
    /// Codes sent, resends included, by channel.
    public var sent: [String: Int]
    public var approved: Int
    /// Refused starts by refusal code.
    public var refusals: [String: Int]
    /// `sent` times the country's price, when a price is known.
    public var estimatedSpendMicros: Int64?

    /// Every code sent, whatever the channel.
    public var sentTotal: Int { sent.values.reduce(0, +) }
    /// Every refusal.
    public var refusedTotal: Int { refusals.values.reduce(0, +) }
    /// Approved per started, in whole percent, rounded down; `nil` when none started.
    public var conversionPercent: Int? { started == 0 ? nil : min(100, approved * 100 / started) }

    /// Creates a value.
    public init(
        country: String, started: Int = 0, sent: [String: Int] = [:], approved: Int = 0,
        refusals: [String: Int] = [:], estimatedSpendMicros: Int64? = nil
    ) {
        self.country = country
        self.started = started
        self.sent = sent
        self.approved = approved
        self.refusals = refusals
        self.estimatedSpendMicros = estimatedSpendMicros
    }

    /// The countries' counts as read from storage, busiest first, priced by `prices`.
    public static func rows(from counts: [String: [String: Int]], prices: MessagePrices) -> [CountryInsight] {
        counts.map { country, events in
            var row = CountryInsight(country: country)
            for (name, count) in events {
                switch VerificationEvent(name: name) {
                case .started: row.started += count
                case .sent(let channel): row.sent[channel, default: 0] += count
                case .approved: row.approved += count
                case .refused(let reason): row.refusals[reason, default: 0] += count
                case nil: continue
                }
            }
            // Only text messages are priced; WhatsApp conversations are billed differently.
            if let price = prices.price(for: country) {
                row.estimatedSpendMicros =
                    Int64(row.sent["sms", default: 0]).multipliedReportingOverflow(by: price)
                    .partialValue
            }
            return row
        }
        .sorted { ($0.started + $0.refusedTotal, $1.country) > ($1.started + $1.refusedTotal, $0.country) }
    }
}

/// The windows the insights page offers.
public enum InsightWindow: String, Sendable, CaseIterable {
    case day = "24h"
    case week = "7d"
    case month = "30d"

    /// Its length.
    public var seconds: TimeInterval {
        switch self {
        case .day: 86_400
        case .week: 7 * 86_400
        case .month: 30 * 86_400
        }
    }

    /// The label on the page.
    public var label: String {
        switch self {
        case .day: "24 hours"
        case .week: "7 days"
        case .month: "30 days"
        }
    }
}
