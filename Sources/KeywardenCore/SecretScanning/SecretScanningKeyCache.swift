import Foundation
import Logging

/// GitHub's secret-scanning keys, fetched from a ``SecretScanningKeySource`` and kept for a while.
///
/// Keys are fetched again once they are older than `lifetime`, or when a report names an
/// identifier the cache does not hold (GitHub has rotated its keys). Whatever the reason, a fetch
/// starts at most once per `refetchInterval`, so reports with made-up identifiers cannot make
/// Keywarden hammer the keys URL; callers that arrive while a fetch is under way wait for it.
public actor SecretScanningKeyCache {
    /// How long fetched keys are used before they are fetched again: an hour.
    public static let defaultLifetime: TimeInterval = 3600
    /// The least time between two fetches: a minute.
    public static let defaultRefetchInterval: TimeInterval = 60

    let source: any SecretScanningKeySource
    let clock: Clock
    let lifetime: TimeInterval
    let refetchInterval: TimeInterval
    let logger: Logger
    private var keys: [String: SecretScanningPublicKey] = [:]
    /// When the keys held were fetched; `nil` until a fetch has succeeded.
    private var fetchedAt: Date?
    /// When the last fetch started, successful or not.
    private var attemptedAt: Date?
    /// The fetch under way, which every caller that needs it awaits.
    private var fetching: Task<[SecretScanningPublicKey], any Error>?

    /// Creates an empty cache; nothing is fetched until a report needs a key.
    public init(
        source: any SecretScanningKeySource, clock: Clock = .live,
        lifetime: TimeInterval = SecretScanningKeyCache.defaultLifetime,
        refetchInterval: TimeInterval = SecretScanningKeyCache.defaultRefetchInterval, logger: Logger
    ) {
        self.source = source
        self.clock = clock
        self.lifetime = lifetime
        self.refetchInterval = refetchInterval
        self.logger = logger
    }

    /// The key named `identifier`, or `nil` when GitHub publishes no such key.
    ///
    /// Throws ``DomainError/secretScanningKeysUnavailable`` when no keys have ever been fetched
    /// and none can be now, so a report is answered 503 (and delivered again) rather than refused.
    public func key(_ identifier: String) async throws -> SecretScanningPublicKey? {
        let now = clock.now()
        let fresh = fetchedAt.map { now.timeIntervalSince($0) < lifetime } ?? false
        if fresh, let key = keys[identifier] { return key }
        let mayFetch = attemptedAt.map { now.timeIntervalSince($0) >= refetchInterval } ?? true
        if fetching != nil || mayFetch {
            do {
                try await refresh(at: now)
            } catch {
                logger.warning(
                    "github secret-scanning keys not fetched",
                    metadata: ["error": .string((error as? ProviderError)?.description ?? "\(type(of: error))")])
                // Keys fetched earlier still check reports; without any, nothing can be checked.
                guard fetchedAt != nil else { throw DomainError.secretScanningKeysUnavailable }
            }
        } else if fetchedAt == nil {
            throw DomainError.secretScanningKeysUnavailable
        }
        return keys[identifier]
    }

    /// Fetches the keys, or joins the fetch already under way.
    private func refresh(at now: Date) async throws {
        let task: Task<[SecretScanningPublicKey], any Error>
        if let fetching {
            task = fetching
        } else {
            attemptedAt = now
            let source = self.source
            // Not background work: one fetch shared by the callers awaiting it, ended by the
            // source's own timeout.
            task = Task { try await source.publicKeys() }
            fetching = task
        }
        defer {
            if fetching == task { fetching = nil }
        }
        let fetched = try await task.value
        keys = Dictionary(fetched.map { ($0.identifier, $0) }, uniquingKeysWith: { $1 })
        fetchedAt = now
    }
}

extension DomainError {
    /// GitHub's keys could not be fetched, so no report can be checked now.
    public static let secretScanningKeysUnavailable = DomainError(
        .unavailable, code: .serverError,
        message:
            "GitHub's secret-scanning public keys could not be fetched, so the report cannot be checked now. Deliver it again later."
    )
}
