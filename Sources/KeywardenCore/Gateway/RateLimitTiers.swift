import Foundation

/// Requests and tokens allowed per minute.
public struct MinuteLimits: Equatable, Sendable {
    /// Requests per minute.
    public var requests: Int
    /// Tokens per minute (prompt plus completion).
    public var tokens: Int

    /// Creates limits.
    public init(requests: Int, tokens: Int) {
        self.requests = requests
        self.tokens = tokens
    }

    /// The tokens a call with this estimate is charged: the estimate, but never more than a
    /// whole minute's, so a call bigger than a minute waits for a full bucket instead of being
    /// refused for ever.
    public func tokenCharge(_ estimate: Int) -> Double {
        min(Double(estimate), Double(tokens))
    }
}

/// The limits an organization's tier gives it: for the whole organization, for each of its
/// projects unless the project has its own, and for each key.
public struct RateLimitTier: Equatable, Sendable {
    /// The tier's name, such as `free` or `tier-1`.
    public var name: String
    /// What the whole organization may use.
    public var organization: MinuteLimits
    /// What each project may use, unless overridden per project.
    public var project: MinuteLimits
    /// What each key may use.
    public var key: MinuteLimits

    /// Creates a tier; project and key limits default to the organization's.
    public init(name: String, organization: MinuteLimits, project: MinuteLimits? = nil, key: MinuteLimits? = nil) {
        self.name = name
        self.organization = organization
        self.project = project ?? organization
        self.key = key ?? project ?? organization
    }
}

/// The configured tiers and the one organizations without a tier of their own get.
public struct RateLimitTiers: Equatable, Sendable {
    /// Every tier, by name.
    public private(set) var tiers: [String: RateLimitTier]
    /// The tier of organizations that have none set.
    public private(set) var defaultTier: String

    /// The text form of the shipped tiers, as the `rate_limit_tiers` setting takes it.
    public static let standardText =
        "free: rpm=60 tpm=100000; tier-1: rpm=500 tpm=500000; tier-2: rpm=5000 tpm=2000000; tier-3: rpm=10000 tpm=10000000"

    /// The shipped tiers, `free` the default. (The text is pinned by a test, so this cannot fail.)
    public static let standard = RateLimitTiers(tiers: (try? parseTiers(standardText)) ?? [], defaultTier: "free")!

    /// Creates the set, or `nil` when `defaultTier` is not among `tiers`.
    public init?(tiers: [RateLimitTier], defaultTier: String) {
        var byName: [String: RateLimitTier] = [:]
        for tier in tiers { byName[tier.name] = tier }
        guard byName[defaultTier] != nil else { return nil }
        self.tiers = byName
        self.defaultTier = defaultTier
    }

    /// The tier called `name`, or the default tier when `name` is `nil` or no longer configured.
    public func tier(named name: String?) -> RateLimitTier {
        if let name, let tier = tiers[name] { return tier }
        return tiers[defaultTier]!
    }

    /// Reads tiers written as `name: rpm=N tpm=N [project_rpm=N project_tpm=N key_rpm=N key_tpm=N]`,
    /// separated by semicolons. `rpm` and `tpm` are required; project limits default to the
    /// organization's and key limits to the project's.
    ///
    /// - Throws: a message naming what is wrong, for the configuration error.
    public static func parseTiers(_ text: String) throws(TierSyntaxError) -> [RateLimitTier] {
        var result: [RateLimitTier] = []
        for entry in text.split(separator: ";") {
            let entry = entry.trimmingCharacters(in: .whitespaces)
            if entry.isEmpty { continue }
            result.append(try TierEntry(entry, shape: "name: rpm=N tpm=N").rateLimitTier())
        }
        guard !result.isEmpty else { throw TierSyntaxError(message: "no tiers given") }
        return result
    }
}

/// What is wrong with a `rate_limit_tiers` or `usage_tiers` text.
public struct TierSyntaxError: Error, Equatable {
    /// A sentence naming the fault.
    public var message: String
}

/// A project's own limits, replacing its tier's project limits where set.
public struct ProjectRateLimits: Equatable, Sendable {
    /// Requests per minute, or `nil` for the tier's.
    public var maxRequestsPerMinute: Int?
    /// Tokens per minute, or `nil` for the tier's.
    public var maxTokensPerMinute: Int?

    /// Creates overrides.
    public init(maxRequestsPerMinute: Int? = nil, maxTokensPerMinute: Int? = nil) {
        self.maxRequestsPerMinute = maxRequestsPerMinute
        self.maxTokensPerMinute = maxTokensPerMinute
    }

    /// The project limits these give under `tier`.
    public func applied(to tier: RateLimitTier) -> MinuteLimits {
        MinuteLimits(
            requests: maxRequestsPerMinute ?? tier.project.requests,
            tokens: maxTokensPerMinute ?? tier.project.tokens)
    }
}

/// One `name: key=value ...` entry of a tier text, as `RateLimitTiers.parseTiers` and `UsageTiers.parse` read
/// it: the checked name, the rate limits given, and the text of the caller's own keys.
struct TierEntry {
    /// The keys rate limits are written with.
    static let limitKeys = ["rpm", "tpm", "project_rpm", "project_tpm", "key_rpm", "key_tpm"]

    /// The tier's name: letters, digits, '-', '_' and '.', at most 64 bytes.
    var name: String
    /// Each rate limit given, by key, already checked to be a positive integer up to 10^12.
    var limits: [String: Int] = [:]
    /// The unchecked text of each of the caller's own keys given, by key.
    var settings: [String: String] = [:]

    /// Reads a trimmed, non-empty entry. `shape` is what the error says an entry looks like, `settingKeys` the
    /// keys the caller reads besides the rate limits, and `noun` what the error calls an unknown key.
    init(_ entry: String, shape: String, settingKeys: [String] = [], noun: String = "limit") throws(TierSyntaxError) {
        guard let colon = entry.firstIndex(of: ":") else {
            throw TierSyntaxError(message: "expected '\(shape)' in '\(entry)'")
        }
        let name = entry[..<colon].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.utf8.count <= 64,
            name.unicodeScalars.allSatisfy({
                CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)
            })
        else {
            throw TierSyntaxError(message: "tier names are letters, digits, '-', '_' and '.': '\(name)'")
        }
        self.name = name
        let known = settingKeys + Self.limitKeys
        for pair in entry[entry.index(after: colon)...].split(separator: " ") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, known.contains(parts[0]) else {
                throw TierSyntaxError(
                    message: "unknown \(noun) '\(pair)' in tier \(name); use \(known.joined(separator: ", "))")
            }
            if settingKeys.contains(parts[0]) {
                settings[parts[0]] = parts[1]
                continue
            }
            guard let number = Int(parts[1]), number > 0, number <= 1_000_000_000_000 else {
                throw TierSyntaxError(message: "\(parts[0]) of tier \(name) must be a positive integer")
            }
            limits[parts[0]] = number
        }
    }

    /// The rate-limit tier the limits give: `rpm` and `tpm` are required; project limits default to the
    /// organization's and key limits to the project's.
    func rateLimitTier() throws(TierSyntaxError) -> RateLimitTier {
        guard let rpm = limits["rpm"], let tpm = limits["tpm"] else {
            throw TierSyntaxError(message: "tier \(name) needs both rpm and tpm")
        }
        let organization = MinuteLimits(requests: rpm, tokens: tpm)
        let project = MinuteLimits(requests: limits["project_rpm"] ?? rpm, tokens: limits["project_tpm"] ?? tpm)
        let key = MinuteLimits(
            requests: limits["key_rpm"] ?? project.requests, tokens: limits["key_tpm"] ?? project.tokens)
        return RateLimitTier(name: name, organization: organization, project: project, key: key)
    }
}
