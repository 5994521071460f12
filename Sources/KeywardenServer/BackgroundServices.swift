import Foundation
import KeywardenCore
import KeywardenStorage
import Logging
import ServiceLifecycle
import Synchronization

/// Work repeated every `interval` for as long as the server runs.
///
/// The loop ends on graceful shutdown and on cancellation alike (a server that could not bind
/// its port cancels every service), so it can never spin: a sleep that is cut short ends the
/// service instead of starting the next round. What must be written at the very end (usage,
/// key uses) is flushed once more by ``KeywardenInstance`` after every service has stopped.
struct PeriodicService: Service, CustomStringConvertible {
    /// Names the work in log lines.
    let name: String
    let interval: Duration
    /// Whether the work runs once at start, before the first interval has passed.
    var runsAtStart = false
    let logger: Logger
    let work: @Sendable () async throws -> Void

    var description: String { name }

    func run() async {
        if runsAtStart { await runOnce() }
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            await runOnce()
        }
    }

    private func runOnce() async {
        do {
            try await work()
        } catch is CancellationError {
            return
        } catch {
            logger.warning("could not \(name)", metadata: ["error.type": "\(type(of: error))"])
        }
    }
}

extension PeriodicService {
    /// Deletes rate-limit counters whose windows have ended, every ten minutes.
    static func counterSweeper(
        _ counters: any RateCounterRepository, clock: Clock = .live, logger: Logger
    ) -> PeriodicService {
        PeriodicService(name: "purge expired rate counters", interval: .seconds(600), runsAtStart: true, logger: logger)
        {
            try await counters.purge(expiredBefore: clock.now())
        }
    }

    /// Ends pending verifications whose codes expired (erasing their numbers), every minute.
    static func verificationSweeper(_ verifications: PhoneVerificationService, logger: Logger) -> PeriodicService {
        PeriodicService(name: "expire verifications", interval: .seconds(60), runsAtStart: true, logger: logger) {
            try await verifications.expireStale()
        }
    }

    /// Writes keys' `last_used_at` every 10 seconds from what the index noted, so authenticating
    /// a key never waits for a write.
    /// Asks the payment provider about purchases and card pages whose news never came, and tops
    /// up balances below their auto-recharge threshold.
    static func billingSweeper(_ billing: BillingService, logger: Logger) -> PeriodicService {
        PeriodicService(name: "settle payments", interval: .seconds(60), logger: logger) {
            try await billing.sweep()
        }
    }

    static func keyUsageFlusher(_ keys: APIKeyService, logger: Logger) -> PeriodicService {
        PeriodicService(name: "record key use", interval: .seconds(10), logger: logger) {
            try await keys.flushUses()
        }
    }

    /// Polls for keys changed since the last look, every two seconds: keys created or revoked
    /// by another instance or the command line, and anything a dropped listener missed.
    static func keyIndexPoller(
        _ keys: APIKeyService, clock: Clock = .live, heartbeats: Heartbeats? = nil, logger: Logger
    ) -> PeriodicService {
        let since = SinceMarker(clock: clock)
        return PeriodicService(name: "refresh the key index", interval: .seconds(2), logger: logger) {
            // Look back a little, so a write that committed late within the last poll is not missed.
            let started = clock.now()
            try await keys.refreshIndex(changedSince: since.value.addingTimeInterval(-5))
            since.value = started
            heartbeats?.beat(.keyIndexRefresh, at: started)
        }
    }

    /// Reloads the suspended organizations every two seconds, so a suspension made on another
    /// instance or lifted there reaches this one's gateway.
    static func suspensionPoller(_ console: ConsoleService, logger: Logger) -> PeriodicService {
        PeriodicService(name: "refresh suspensions", interval: .seconds(2), logger: logger) {
            try await console.refreshSuspensions()
        }
    }

    /// Writes the gateway's per-minute usage every `interval` in one transaction, so a crash
    /// loses at most the calls of the last interval.
    static func usageFlusher(
        meter: UsageMeter, usage: any UsageRepository, interval: Duration, clock: Clock = .live,
        heartbeats: Heartbeats? = nil, logger: Logger
    ) -> PeriodicService {
        PeriodicService(name: "record usage", interval: interval, logger: logger) {
            let started = clock.now()
            try await meter.flush(to: usage)
            heartbeats?.beat(.usageFlush, at: started)
        }
    }

    /// Mails budget alerts every 30 seconds and forgets ended spend leases.
    static func spendAlerts(
        _ spend: SpendService, guard spendGuard: SpendGuard?, clock: Clock, logger: Logger
    )
        -> PeriodicService
    {
        PeriodicService(name: "send spend alerts", interval: .seconds(30), logger: logger) {
            spendGuard?.sweep(now: clock.now())
            try await spend.sendAlerts()
        }
    }

    /// Forgets rate-limit buckets that have filled up again and gives back leases of shared
    /// buckets that aged out, every five seconds, whatever becomes of usage writes.
    static func bucketKeeper(limits: RateLimitPolicy, clock: Clock, logger: Logger) -> PeriodicService {
        PeriodicService(name: "return rate-limit leases", interval: .seconds(5), logger: logger) {
            try await limits.maintain(now: clock.now())
        }
    }
}

/// The time of the last successful poll, kept between rounds of one poller.
final class SinceMarker: Sendable {
    private let stored: Mutex<Date>

    /// Starts at the clock's present time.
    init(clock: Clock = .live) {
        stored = Mutex(clock.now())
    }

    var value: Date {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}

/// Reloads each key another instance announces as changed (PostgreSQL `NOTIFY`), as the notice
/// arrives; a dropped listening connection is reopened after a second.
struct KeyChangeListener: Service {
    let keys: APIKeyService
    let database: DatabaseClient
    let logger: Logger

    func run() async {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown {
                    try await database.listen(on: SQLAPIKeyRepository.changeChannel) { payload in
                        guard let id = APIKeyID(payload) else { return }
                        do {
                            try await keys.refreshKey(id)
                        } catch {
                            logger.warning(
                                "could not reload a changed key", metadata: ["error.type": "\(type(of: error))"])
                        }
                    }
                }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                logger.warning("key change listener stopped", metadata: ["error.type": "\(type(of: error))"])
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            } catch {
                return
            }
        }
    }
}
