import Foundation

/// A tier an organization reaches by what it has paid and how long ago it first paid: its monthly usage
/// limit and its rate limits.
public struct UsageTier: Equatable, Sendable {
    /// The tier's name, such as `free` or `tier-1`.
    public var name: String
    /// Total paid (micro-units) needed to qualify; `nil`: the tier is only ever set by the operator (pinned).
    public var qualifyingPaidMicros: Int64?
    /// Whole days since the first payment needed to qualify (0: none).
    public var qualifyingDays: Int
    /// Usage allowed per UTC calendar month, micro-units; `nil`: no monthly limit.
    public var monthlyLimitMicros: Int64?
    /// The tier's rate limits (its `name` equals `name`).
    public var rateLimits: RateLimitTier

    /// Creates a tier; the rate limits take the tier's name.
    public init(
        name: String, qualifyingPaidMicros: Int64?, qualifyingDays: Int = 0, monthlyLimitMicros: Int64?,
        rateLimits: RateLimitTier
    ) {
        self.name = name
        self.qualifyingPaidMicros = qualifyingPaidMicros
        self.qualifyingDays = qualifyingDays
        self.monthlyLimitMicros = monthlyLimitMicros
        self.rateLimits = rateLimits
        self.rateLimits.name = name
    }

    /// Whether an organization that paid `paidMicros`, first at `firstPaymentAt`, meets this tier's thresholds
    /// at `now`; a pinned-only tier is never met.
    func isMet(paidMicros: Int64, firstPaymentAt: Date?, now: Date) -> Bool {
        guard let qualifyingPaidMicros, paidMicros >= qualifyingPaidMicros else { return false }
        guard qualifyingDays > 0 else { return true }
        guard let firstPaymentAt else { return false }
        return now.timeIntervalSince(firstPaymentAt) >= Double(qualifyingDays) * 86_400
    }
}

/// What an organization still lacks to reach a tier.
public struct TierProgress: Equatable, Sendable {
    /// Micro-units still to pay (0 when paid enough).
    public var paidMissingMicros: Int64
    /// When the days condition will hold; `nil` when it already does, when the tier needs no days, or when
    /// there is no first payment yet to count from (then `needsFirstPayment`).
    public var daysMetAt: Date?
    /// Whether the tier needs days since a first payment and there has been none.
    public var needsFirstPayment: Bool

    /// Creates progress.
    public init(paidMissingMicros: Int64, daysMetAt: Date? = nil, needsFirstPayment: Bool = false) {
        self.paidMissingMicros = paidMissingMicros
        self.daysMetAt = daysMetAt
        self.needsFirstPayment = needsFirstPayment
    }
}

/// The configured usage tiers, in the order an organization climbs them; the first is the default.
public struct UsageTiers: Equatable, Sendable {
    /// Every tier in the order given: qualification climbs this list.
    public let tiers: [UsageTier]
    /// The rate-limit tiers these give (same names, default = first tier), for RateLimitPolicy.
    public let rateLimitTiers: RateLimitTiers

    /// The tier of organizations that qualify for nothing else and have none pinned (the first tier).
    public var defaultTier: UsageTier { tiers[0] }

    /// Creates the set; nil when empty or when two tiers share a name.
    public init?(tiers: [UsageTier]) {
        let limits = tiers.map { tier in
            var named = tier.rateLimits
            named.name = tier.name
            return named
        }
        guard let first = tiers.first, Set(tiers.map(\.name)).count == tiers.count,
            let rateLimitTiers = RateLimitTiers(tiers: limits, defaultTier: first.name)
        else { return nil }
        self.tiers = tiers
        self.rateLimitTiers = rateLimitTiers
    }

    /// Rate-limit-only tiers (the old `rate_limit_tiers` setting): the default tier qualifies everyone (paid 0,
    /// days 0) and the others are pinned-only (qualifyingPaidMicros nil); no monthly limits. The default tier is
    /// put first, the others follow by name.
    public init(legacy: RateLimitTiers) {
        let defaultLimits = legacy.tier(named: nil)
        let others = legacy.tiers.values.filter { $0.name != defaultLimits.name }.sorted { $0.name < $1.name }
        let defaultTier = UsageTier(
            name: defaultLimits.name, qualifyingPaidMicros: 0, monthlyLimitMicros: nil, rateLimits: defaultLimits)
        self.tiers =
            [defaultTier]
            + others.map {
                UsageTier(name: $0.name, qualifyingPaidMicros: nil, monthlyLimitMicros: nil, rateLimits: $0)
            }
        self.rateLimitTiers = legacy
    }

    /// The tier named `name`, or nil.
    public func tier(named name: String) -> UsageTier? {
        tiers.first(where: { $0.name == name })
    }

    /// The highest tier (latest in the list) whose thresholds are met: paid >= qualifyingPaidMicros and, when
    /// qualifyingDays > 0, a first payment at least qualifyingDays*86400 seconds before `now`. Pinned-only tiers
    /// never qualify. Falls back to the default tier.
    public func qualified(paidMicros: Int64, firstPaymentAt: Date?, now: Date) -> UsageTier {
        let met = tiers.last(where: { $0.isMet(paidMicros: paidMicros, firstPaymentAt: firstPaymentAt, now: now) })
        return met ?? defaultTier
    }

    /// The organization's tier: `pinned` when it names a configured tier, else `qualified(...)`.
    public func effective(pinned: String?, paidMicros: Int64, firstPaymentAt: Date?, now: Date) -> UsageTier {
        if let pinned, let tier = tier(named: pinned) { return tier }
        return qualified(paidMicros: paidMicros, firstPaymentAt: firstPaymentAt, now: now)
    }

    /// The next tier up that can be reached by qualification (the first tier after `tier` in the list with
    /// qualifyingPaidMicros != nil), or nil at the top or when `tier` is not among these.
    public func next(after tier: UsageTier) -> UsageTier? {
        guard let index = tiers.firstIndex(where: { $0.name == tier.name }) else { return nil }
        return tiers[(index + 1)...].first(where: { $0.qualifyingPaidMicros != nil })
    }

    /// What is still missing to reach `next`: paid micros still to pay (0 if none) and the Date from which the
    /// days condition holds (nil if already met or no days needed; when there is no first payment yet and days
    /// are needed, nil too but `needsFirstPayment` true).
    public func progress(to next: UsageTier, paidMicros: Int64, firstPaymentAt: Date?, now: Date) -> TierProgress {
        var missing: Int64 = 0
        if let needed = next.qualifyingPaidMicros, paidMicros < needed {
            let (difference, overflow) = needed.subtractingReportingOverflow(paidMicros)
            missing = overflow ? .max : difference
        }
        guard next.qualifyingDays > 0 else { return TierProgress(paidMissingMicros: missing) }
        guard let firstPaymentAt else { return TierProgress(paidMissingMicros: missing, needsFirstPayment: true) }
        let metAt = firstPaymentAt.addingTimeInterval(Double(next.qualifyingDays) * 86_400)
        return TierProgress(paidMissingMicros: missing, daysMetAt: metAt > now ? metAt : nil)
    }

    /// The shipped tiers, as the `usage_tiers` setting text (OpenAI's 2024 table). The rate limits of `free` to
    /// `tier-3` are those of `RateLimitTiers.standardText`.
    public static let standardText: String = [
        "free: paid=0 monthly=100 rpm=60 tpm=100000",
        "tier-1: paid=5 monthly=100 rpm=500 tpm=500000",
        "tier-2: paid=50 days=7 monthly=500 rpm=5000 tpm=2000000",
        "tier-3: paid=100 days=7 monthly=1,000 rpm=10000 tpm=10000000",
        "tier-4: paid=250 days=14 monthly=5,000 rpm=10000 tpm=30000000",
        "tier-5: paid=1,000 days=30 monthly=200,000 rpm=30000 tpm=150000000",
    ].joined(separator: "; ")

    /// The shipped tiers in US dollars. (The text is pinned by a test, so the fallback is never taken.)
    public static let standard: UsageTiers =
        (try? parse(standardText, currency: .usd)) ?? UsageTiers(legacy: RateLimitTiers.standard)

    /// Reads the `usage_tiers` setting: tiers separated by `;`, each
    /// `name: paid=AMOUNT|pinned [days=N] monthly=AMOUNT|none rpm=N tpm=N [project_rpm=N project_tpm=N key_rpm=N
    /// key_tpm=N]`, amounts as `currency` reads them. The first tier is the default and must have `paid=0` and
    /// no days.
    ///
    /// - Throws: a message naming the tier and what is wrong with it, for the configuration error.
    public static func parse(_ text: String, currency: BillingCurrency) throws(TierSyntaxError) -> UsageTiers {
        var tiers: [UsageTier] = []
        for entry in text.split(separator: ";") {
            let entry = entry.trimmingCharacters(in: .whitespaces)
            if entry.isEmpty { continue }
            let tier = try usageTier(entry, currency: currency)
            guard !tiers.contains(where: { $0.name == tier.name }) else {
                throw TierSyntaxError(message: "tier \(tier.name) is given twice")
            }
            tiers.append(tier)
        }
        guard let first = tiers.first else { throw TierSyntaxError(message: "no tiers given") }
        guard first.qualifyingPaidMicros == 0, first.qualifyingDays == 0 else {
            throw TierSyntaxError(message: "the first tier (\(first.name)) is the default and must have paid=0 days=0")
        }
        guard let set = UsageTiers(tiers: tiers) else { throw TierSyntaxError(message: "no tiers given") }
        return set
    }

    /// Reads one trimmed, non-empty entry of a `usage_tiers` text.
    private static func usageTier(_ entry: String, currency: BillingCurrency) throws(TierSyntaxError) -> UsageTier {
        let parsed = try TierEntry(
            entry, shape: "name: paid=AMOUNT monthly=AMOUNT rpm=N tpm=N", settingKeys: ["paid", "days", "monthly"],
            noun: "key")
        let name = parsed.name
        guard let paidText = parsed.settings["paid"] else {
            throw TierSyntaxError(message: "tier \(name) needs paid=AMOUNT (or paid=pinned)")
        }
        var paid: Int64?
        if paidText != "pinned" {
            guard let micros = currency.parse(paidText) else {
                throw TierSyntaxError(message: "paid of tier \(name) must be an amount such as 5 or 1,000, or pinned")
            }
            paid = micros
        }
        var days = 0
        if let daysText = parsed.settings["days"] {
            guard let number = Int(daysText), (0...3650).contains(number) else {
                throw TierSyntaxError(message: "days of tier \(name) must be a whole number from 0 to 3650")
            }
            days = number
        }
        guard let monthlyText = parsed.settings["monthly"] else {
            throw TierSyntaxError(message: "tier \(name) needs monthly=AMOUNT (or monthly=none)")
        }
        var monthly: Int64?
        if monthlyText != "none" {
            guard let micros = currency.parse(monthlyText) else {
                throw TierSyntaxError(
                    message: "monthly of tier \(name) must be an amount such as 100 or 1,000, or none")
            }
            monthly = micros
        }
        let rateLimits = try parsed.rateLimitTier()
        return UsageTier(
            name: name, qualifyingPaidMicros: paid, qualifyingDays: days, monthlyLimitMicros: monthly,
            rateLimits: rateLimits)
    }
}
