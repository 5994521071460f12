import Foundation
import Logging
import Synchronization

/// Stored rate-limit settings: an organization's tier and a project's own limits.
public protocol RateLimitSettingsRepository: Sendable {
    /// The organization's tier name, or `nil` for the configured default.
    func tier(of organization: OrganizationID) async throws -> String?
    /// Sets (or, with `nil`, clears) the organization's tier.
    func setTier(_ tier: String?, of organization: OrganizationID, at date: Date) async throws
    /// The project's own limits (empty when it has none).
    func limits(of project: ProjectID) async throws -> ProjectRateLimits
    /// Replaces the project's own limits.
    func setLimits(
        _ limits: ProjectRateLimits, of project: ProjectID, in organization: OrganizationID, at date: Date
    ) async throws
}

/// What an organization has paid, which its usage tier is earned by.
public struct BillingStanding: Equatable, Sendable {
    /// Purchases less refunds, in micro-units.
    public var paidMicros: Int64
    /// When its first purchase was credited.
    public var firstPaymentAt: Date?

    public init(paidMicros: Int64 = 0, firstPaymentAt: Date? = nil) {
        self.paidMicros = paidMicros
        self.firstPaymentAt = firstPaymentAt
    }
}

/// Decides which limits a key's calls count against: its organization's usage tier (pinned by
/// the operator, or earned by what it paid), its project's own limits, and the tier's per-key
/// limits. Settings are read from storage at most once per
/// `cacheLifetime` per organization and project; changes made through this instance apply at once.
public final class RateLimitPolicy: Sendable {
    /// The configured tiers' rate limits.
    public let tiers: RateLimitTiers
    /// The configured usage tiers.
    public let usageTiers: UsageTiers
    /// What an organization has paid; without it every organization has its pinned tier or the default.
    let standing: (@Sendable (OrganizationID) async throws -> BillingStanding)?
    /// The buckets, when each instance keeps its own.
    public let limiter: RateLimiter
    /// The buckets, when instances share them through the database.
    public let shared: SharedRateLimiter?
    let settings: any RateLimitSettingsRepository
    /// Where changes to the settings are recorded.
    let audit: any AuditLogRepository
    /// The time of those changes.
    let clock: Clock
    let cacheLifetime: TimeInterval
    let logger: Logger
    /// When the storage trouble was last logged, so an outage gives a line every ten seconds
    /// rather than one per call.
    private let lastWarning = Mutex<Date?>(nil)
    private let tierCache = Mutex<[OrganizationID: (tier: String?, expires: Date)]>([:])
    private let projectCache = Mutex<[ProjectID: (limits: ProjectRateLimits, expires: Date)]>([:])
    private let standingCache = Mutex<[OrganizationID: (standing: BillingStanding, expires: Date)]>([:])

    /// Creates the policy.
    ///
    /// - Parameters:
    ///   - audit: where changes to an organization's tier or a project's limits are recorded.
    ///   - clock: the time of those changes (the gateway's calls pass their own `now`).
    ///   - shared: buckets shared by every instance; without it, this process keeps its own.
    public convenience init(
        tiers: RateLimitTiers, settings: any RateLimitSettingsRepository, audit: any AuditLogRepository,
        clock: Clock, limiter: RateLimiter = RateLimiter(), shared: SharedRateLimiter? = nil,
        cacheLifetime: TimeInterval = 10, logger: Logger = Logger(label: "keywarden.rate-limits")
    ) {
        self.init(
            usageTiers: UsageTiers(legacy: tiers), settings: settings, audit: audit, clock: clock, limiter: limiter,
            shared: shared, cacheLifetime: cacheLifetime, logger: logger)
    }

    /// Creates the policy over usage tiers.
    ///
    /// - Parameters:
    ///   - standing: what an organization has paid, for tiers earned by payment.
    public init(
        usageTiers: UsageTiers, standing: (@Sendable (OrganizationID) async throws -> BillingStanding)? = nil,
        settings: any RateLimitSettingsRepository, audit: any AuditLogRepository, clock: Clock,
        limiter: RateLimiter = RateLimiter(), shared: SharedRateLimiter? = nil, cacheLifetime: TimeInterval = 10,
        logger: Logger = Logger(label: "keywarden.rate-limits")
    ) {
        self.usageTiers = usageTiers
        self.tiers = usageTiers.rateLimitTiers
        self.standing = standing
        self.settings = settings
        self.audit = audit
        self.clock = clock
        self.limiter = limiter
        self.shared = shared
        self.cacheLifetime = cacheLifetime
        self.logger = logger
    }

    /// Asks for one request and `tokens` estimated tokens in every scope.
    ///
    /// When the shared buckets cannot be reached, this instance's own buckets decide, so a
    /// database outage degrades limits to per instance instead of refusing every call.
    public func acquire(_ scopes: [RateLimiter.Scope], tokens: Int, now: Date) async -> RateLimiter.Decision {
        if let shared {
            do {
                return try await shared.acquire(scopes, tokens: tokens, now: now.timeIntervalSince1970)
            } catch {
                warn("shared rate-limit buckets unreachable; limiting per instance", error: error, now: now)
            }
        }
        return limiter.acquire(scopes, tokens: tokens, now: now.timeIntervalSince1970)
    }

    func warn(_ message: Logger.Message, error: any Error, now: Date) {
        let due = lastWarning.withLock { last in
            guard last.map({ now.timeIntervalSince($0) >= 10 }) ?? true else { return false }
            last = now
            return true
        }
        if due { logger.warning(message, metadata: ["error.type": "\(type(of: error))"]) }
    }

    /// Corrects an admitted call's token charge by `delta` (real minus estimated).
    public func adjustTokens(_ scopeIDs: [String], by delta: Int, now: Date) {
        if let shared {
            shared.adjustTokens(scopeIDs, by: delta)
        } else {
            limiter.adjustTokens(scopeIDs, by: delta, now: now.timeIntervalSince1970)
        }
    }

    /// Periodic upkeep: forgets full local buckets, or gives back stale leases.
    public func maintain(now: Date) async throws {
        if let shared {
            try await shared.returnStale(now: now.timeIntervalSince1970)
        } else {
            limiter.sweep(now: now.timeIntervalSince1970)
        }
    }

    /// The scopes a call with `key` counts against, organization first.
    public func scopes(for key: APIKey, now: Date) async -> [RateLimiter.Scope] {
        let tier = await usageTier(of: key.organizationID, now: now).rateLimits
        var scopes = [RateLimiter.Scope(.organization, id: key.organizationID.rawValue, limits: tier.organization)]
        if let project = key.projectID {
            let own = await projectLimits(of: project, now: now)
            scopes.append(RateLimiter.Scope(.project, id: project.rawValue, limits: own.applied(to: tier)))
        }
        scopes.append(RateLimiter.Scope(.key, id: key.id.rawValue, limits: tier.key))
        return scopes
    }

    /// The scopes of `key` when everything they depend on (the organization's pinned tier and
    /// standing, the project's own limits) is in memory and current; `nil` when one of them must
    /// be read first, which only ``scopes(for:now:)`` does.
    public func cachedScopes(for key: APIKey, now: Date) -> [RateLimiter.Scope]? {
        guard let pinned = tierCache.withLock({ $0[key.organizationID] }), pinned.expires > now else { return nil }
        var standing = BillingStanding()
        if self.standing != nil {
            guard let cached = standingCache.withLock({ $0[key.organizationID] }), cached.expires > now else {
                return nil
            }
            standing = cached.standing
        }
        let tier = usageTiers.effective(
            pinned: pinned.tier, paidMicros: standing.paidMicros, firstPaymentAt: standing.firstPaymentAt, now: now
        ).rateLimits
        var scopes = [RateLimiter.Scope(.organization, id: key.organizationID.rawValue, limits: tier.organization)]
        if let project = key.projectID {
            guard let own = projectCache.withLock({ $0[project] }), own.expires > now else { return nil }
            scopes.append(RateLimiter.Scope(.project, id: project.rawValue, limits: own.limits.applied(to: tier)))
        }
        scopes.append(RateLimiter.Scope(.key, id: key.id.rawValue, limits: tier.key))
        return scopes
    }

    /// Admits a call from what this instance holds, as ``acquire(_:tokens:now:)`` would, without
    /// waiting: `nil` when the shared buckets must be asked for a lease first, or when the call
    /// would be refused (the caller then goes the waiting way, which answers the refusal).
    public func acquireInHand(_ scopes: [RateLimiter.Scope], tokens: Int, now: Date) -> RateLimiter.Status? {
        let decision =
            if let shared {
                shared.admitInHand(scopes, tokens: tokens, now: now.timeIntervalSince1970)
            } else {
                limiter.acquire(scopes, tokens: tokens, now: now.timeIntervalSince1970)
            }
        guard case .admitted(let status) = decision else { return nil }
        return status
    }

    /// The organization's tier as configured now (the default tier's name when it has none).
    public func tier(of organization: OrganizationID, now: Date) async -> RateLimitTier {
        await usageTier(of: organization, now: now).rateLimits
    }

    /// The organization's usage tier now: the one the operator pinned, else the highest its
    /// payments earned. Read at most once per cache lifetime, so a payment or the days passing
    /// move an organization up within that.
    public func usageTier(of organization: OrganizationID, now: Date) async -> UsageTier {
        let pinned = await tierName(of: organization, now: now)
        let standing = await standing(of: organization, now: now)
        return usageTiers.effective(
            pinned: pinned, paidMicros: standing.paidMicros, firstPaymentAt: standing.firstPaymentAt, now: now)
    }

    /// Whether the operator pinned the organization's tier, and which.
    public func pinnedTier(of organization: OrganizationID, now: Date) async -> String? {
        guard let name = await tierName(of: organization, now: now), usageTiers.tier(named: name) != nil else {
            return nil
        }
        return name
    }

    /// What the organization has paid (cached like its tier).
    public func standing(of organization: OrganizationID, now: Date) async -> BillingStanding {
        guard let standing else { return BillingStanding() }
        let cached = standingCache.withLock { $0[organization] }
        if let cached, cached.expires > now { return cached.standing }
        let read: BillingStanding
        do {
            read = try await standing(organization)
        } catch {
            warn("billing standing unreadable; using the last known", error: error, now: now)
            read = cached?.standing ?? BillingStanding()
        }
        standingCache.withLock { $0[organization] = (read, now.addingTimeInterval(cacheLifetime)) }
        return read
    }

    /// Forgets the organization's cached standing, so a payment just made counts at once.
    public func forgetStanding(of organization: OrganizationID) {
        standingCache.withLock { $0[organization] = nil }
    }

    /// The project's own limits. If storage fails, the last known ones (or none) serve until
    /// it answers again.
    public func projectLimits(of project: ProjectID, now: Date) async -> ProjectRateLimits {
        let cached = projectCache.withLock { $0[project] }
        if let cached, cached.expires > now { return cached.limits }
        let limits: ProjectRateLimits
        do {
            limits = try await settings.limits(of: project)
        } catch {
            warn("rate-limit settings unreadable; using the last known", error: error, now: now)
            limits = cached?.limits ?? ProjectRateLimits()
        }
        projectCache.withLock { $0[project] = (limits, now.addingTimeInterval(cacheLifetime)) }
        return limits
    }

    /// Sets an organization's tier; `nil` returns it to the default.
    ///
    /// - Throws: `DomainError` `invalid_request` for a tier that is not configured.
    public func setTier(_ name: String?, of organization: OrganizationID, now: Date) async throws {
        if let name, tiers.tiers[name] == nil {
            throw DomainError(
                .invalidRequest, code: .unknownTier,
                message: "No tier '\(name)'. Configured tiers: \(tiers.tiers.keys.sorted().joined(separator: ", ")).")
        }
        try await settings.setTier(name, of: organization, at: now)
        tierCache.withLock { $0[organization] = nil }
    }

    /// Sets an organization's tier (`nil`: back to the default) and records
    /// `organization.rate_limit_tier_updated` in its audit log, with the tier it had before.
    ///
    /// - Throws: `DomainError` `invalid_request` for a tier that is not configured; nothing is recorded.
    public func setTier(_ name: String?, of organization: OrganizationID, by actor: AuditActor) async throws {
        let previous = try await storedTier(of: organization).name
        let now = clock.now()
        try await setTier(name, of: organization, now: now)
        try await audit.append(
            AuditEvent(
                organizationID: organization, type: .organizationRateLimitTierUpdated, effectiveAt: now,
                actor: actor, details: ["previous_tier": previous, "tier": name ?? tiers.defaultTier]))
    }

    /// The organization's tier as stored now (no cache, no fallback).
    public func storedTier(of organization: OrganizationID) async throws -> RateLimitTier {
        tiers.tier(named: try await settings.tier(of: organization))
    }

    /// The project's own limits as stored now (for changing them: no cache, no fallback).
    public func storedProjectLimits(of project: ProjectID) async throws -> ProjectRateLimits {
        try await settings.limits(of: project)
    }

    /// Replaces a project's own limits.
    public func setProjectLimits(
        _ limits: ProjectRateLimits, of project: ProjectID, in organization: OrganizationID, now: Date
    ) async throws {
        try await settings.setLimits(limits, of: project, in: organization, at: now)
        projectCache.withLock { $0[project] = nil }
    }

    /// Changes a project's own limits and records `rate_limit.updated` in its organization's audit
    /// log, returning the limits it now has.
    ///
    /// - Parameters:
    ///   - requests: `nil` keeps the stored requests per minute; `.some(nil)` returns them to the tier's.
    ///   - tokens: `nil` keeps the stored tokens per minute; `.some(nil)` returns them to the tier's.
    @discardableResult
    public func updateProjectLimits(
        of project: Project, requests: Int??, tokens: Int??, by actor: AuditActor
    ) async throws -> ProjectRateLimits {
        let now = clock.now()
        var own = try await storedProjectLimits(of: project.id)
        if let requests { own.maxRequestsPerMinute = requests }
        if let tokens { own.maxTokensPerMinute = tokens }
        try await setProjectLimits(own, of: project.id, in: project.organizationID, now: now)
        try await audit.append(
            AuditEvent(
                organizationID: project.organizationID, type: .rateLimitUpdated, effectiveAt: now, actor: actor,
                details: [
                    "project_id": project.id.rawValue,
                    "max_requests_per_1_minute": own.maxRequestsPerMinute.map(String.init) ?? "tier",
                    "max_tokens_per_1_minute": own.maxTokensPerMinute.map(String.init) ?? "tier",
                ]))
        return own
    }

    func tierName(of organization: OrganizationID, now: Date) async -> String? {
        let cached = tierCache.withLock { $0[organization] }
        if let cached, cached.expires > now { return cached.tier }
        let tier: String?
        do {
            tier = try await settings.tier(of: organization)
        } catch {
            warn("rate-limit settings unreadable; using the last known", error: error, now: now)
            tier = cached?.tier
        }
        tierCache.withLock { $0[organization] = (tier, now.addingTimeInterval(cacheLifetime)) }
        return tier
    }
}
