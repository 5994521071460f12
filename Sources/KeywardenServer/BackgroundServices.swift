import Foundation
import KeywardenCore
import KeywardenStorage
import Logging
import ServiceLifecycle

/// Deletes rate-limit counters whose windows have ended, every ten minutes.
struct CounterSweeper: Service {
    let counters: any RateCounterRepository
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            do {
                try await counters.purge(expiredBefore: Date())
            } catch {
                logger.warning("could not purge expired rate counters", metadata: ["error.type": "\(type(of: error))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(600)) }
        }
    }
}

/// Ends pending verifications whose codes expired (erasing their numbers), every minute.
struct VerificationSweeper: Service {
    let verifications: PhoneVerificationService
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            do {
                try await verifications.expireStale()
            } catch {
                logger.warning("could not expire verifications", metadata: ["error.type": "\(type(of: error))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(60)) }
        }
    }
}

/// Writes keys' `last_used_at` every 10 seconds from what the index noted, so authenticating a
/// key never waits for a write; pending uses are flushed once more at shutdown.
struct KeyUsageFlusher: Service {
    let keys: APIKeyService
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(10)) }
            do {
                try await keys.flushUses()
            } catch {
                logger.warning("could not record key use", metadata: ["error.type": "\(type(of: error))"])
            }
        }
    }
}

/// Keeps this instance's key index current with keys created or revoked elsewhere (another
/// instance, the command line). On PostgreSQL each change is announced with `NOTIFY` and
/// reloaded as it arrives; on every backend rows changed since the last look are also polled
/// every two seconds, which catches anything a dropped listening connection missed.
struct KeyIndexRefresher: Service {
    let keys: APIKeyService
    let database: DatabaseClient
    let logger: Logger

    func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            if database.backend == .postgres {
                group.addTask { await listen() }
            }
            group.addTask { await poll() }
        }
    }

    func listen() async {
        while !Task.isShuttingDownGracefully {
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
            } catch {
                logger.warning("key change listener stopped", metadata: ["error.type": "\(type(of: error))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
        }
    }

    func poll() async {
        var since = Date()
        while !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(2)) }
            // Look back a little, so a write that committed late within the last poll is not missed.
            let started = Date()
            do {
                try await keys.refreshIndex(changedSince: since.addingTimeInterval(-5))
                since = started
            } catch {
                logger.warning("could not refresh the key index", metadata: ["error.type": "\(type(of: error))"])
            }
        }
    }
}

/// Closes the upstream client and the database pool once every other service has stopped.
struct DatabaseCloser: Service {
    let services: KeywardenServices

    func run() async throws {
        try? await gracefulShutdown()
        try await services.shutdown()
    }
}

/// Writes the gateway's per-minute usage every five seconds, in one transaction, and once more
/// at shutdown; also forgets rate-limit buckets that have filled up again, or gives back leases
/// of shared buckets that aged out.
struct UsageFlusher: Service {
    let meter: UsageMeter
    let usage: any UsageRepository
    let limits: RateLimitPolicy
    let clock: Clock
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(5)) }
            do {
                try await meter.flush(to: usage)
            } catch {
                logger.warning("could not record usage", metadata: ["error.type": "\(type(of: error))"])
            }
            do {
                try await limits.maintain(now: clock.now())
            } catch {
                logger.warning("could not return rate-limit leases", metadata: ["error.type": "\(type(of: error))"])
            }
        }
    }
}
