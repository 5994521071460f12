import Foundation
import Hummingbird
import HummingbirdCore
import KeywardenCore
import KeywardenGateway
import KeywardenHTTP
import Logging
import NIOCore
import ServiceLifecycle

/// One running Keywarden: its services, the HTTP server over them, and the background work.
///
/// ``run()`` serves until SIGTERM or SIGINT, then lets requests in flight finish (for at most
/// `shutdown_timeout` seconds), writes what is still buffered (usage, key uses) and closes the
/// database. A port that cannot be bound ends it at once with a ``StartupError`` that says why.
public struct KeywardenInstance: Sendable {
    /// The services the server runs on.
    public let services: KeywardenServices
    let application: any Service
    /// Gateway calls and key checks served on the event loop, ahead of the router.
    let fastPath: GatewayFastPath
    let configuration: KeywardenConfiguration
    let logger: Logger

    /// Opens the database, loads the key index and builds the server.
    ///
    /// - Parameter onListening: called with the bound port once the server accepts connections.
    public static func build(
        configuration: KeywardenConfiguration, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws -> KeywardenInstance {
        try FileManager.default.createDirectory(
            atPath: configuration.storage.dataDirectory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        let secret = try ServerSecret.resolve(configuration, logger: logger)
        let database = try await openDatabase(configuration: configuration, logger: logger)
        var services = KeywardenServices(
            database: database, configuration: configuration, secret: secret, logger: logger)
        do {
            services.accessLog = try openAccessLog(configuration.server)
            try await services.keys.loadIndex()
            try await services.console.refreshSuspensions()
        } catch {
            try? await services.shutdown()
            throw error
        }
        logger.info("API key index loaded", metadata: ["keys": "\(services.keys.index.count)"])
        logger.info(
            "phone verification",
            metadata: [
                "sms_provider": .string(configuration.providers.sms.kind.rawValue),
                "line_type_lookup": .string(configuration.providers.lineTypes.kind.rawValue),
            ])
        logger.info("email", metadata: configuration.email.startupMetadata)
        if configuration.gateway.usesLegacyTiers {
            logger.warning(
                "rate_limit_tiers and rate_limit_default_tier are the older form of usage_tiers: their tiers have rate limits only and are reached only by keywarden admin org set-tier; write them as usage_tiers to have organizations move up by what they pay"
            )
        }
        logger.info(
            "pricing",
            metadata: [
                "model_prices": .string(configuration.gateway.modelPrices.isPricing ? "on" : "off"),
                "usage_tiers": .string(configuration.gateway.usageTiers.tiers.map(\.name).joined(separator: ",")),
            ])
        let connections = ConnectionCap.resolve(configuration: configuration, logger: logger)
        let (router, _) = try buildRouter(services: services)
        var background = backgroundServices(services, logger: logger)
        if let registry = services.metricsRegistry, let port = configuration.server.metricsPort {
            background.append(
                MetricsListener(
                    application: Application(
                        router: registry.router(services),
                        configuration: .init(
                            address: .hostname(configuration.server.metricsHost, port: port),
                            serverName: "keywarden-metrics"),
                        logger: logger),
                    host: configuration.server.metricsHost, port: port))
            logger.info(
                "metrics", metadata: ["listening": .string("\(configuration.server.metricsHost):\(port)/metrics")])
        }
        let fastPath = buildFastPath(services: services, serverName: "keywarden", logger: logger)
        let application = Application(
            router: router,
            server: KeywardenInstance.httpServer(configuration: configuration, fastPath: fastPath),
            configuration: .init(
                address: .hostname(configuration.server.host, port: configuration.server.port), serverName: "keywarden",
                backlog: 1024, availableConnectionsDelegate: MaximumAvailableConnections(connections, logger: logger)),
            services: background,
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.server.port) },
            logger: logger)
        return KeywardenInstance(
            services: services, application: application, fastPath: fastPath, configuration: configuration,
            logger: logger)
    }

    /// The HTTP/1 server of the public port: the connection guard after the request decoder,
    /// the fast path ahead of the router, and the idle timeout.
    public static func httpServer(
        configuration: KeywardenConfiguration, fastPath: GatewayFastPath
    ) -> HTTPServerBuilder {
        let headerTimeout = TimeAmount.seconds(Int64(configuration.server.httpHeaderTimeout))
        let gatewayLimit = configuration.gateway.maxRequestBytes
        let bodyLimit: @Sendable (String) -> Int = { path in
            // A leak report may list up to a thousand matches.
            if path == SecretScanningReport.path { return SecretScanningReport.maxBodyBytes }
            return OwnPaths.contains(path) || !path.hasPrefix("/v1/") ? ManagementAPI.maxBodyBytes : gatewayLimit
        }
        return .http1(
            configuration: .init(
                additionalChannelHandlers: [
                    ConnectionGuardInstaller(headerTimeout: headerTimeout, bodyLimit: bodyLimit),
                    fastPath.channelHandler(),
                ],
                idleTimeout: .seconds(Int64(configuration.server.httpIdleTimeout))))
    }

    /// The background work, each ending on graceful shutdown and on cancellation.
    static func backgroundServices(_ services: KeywardenServices, logger: Logger) -> [any Service] {
        var background: [any Service] = [
            PeriodicService.counterSweeper(services.counters, clock: services.clock, logger: logger),
            PeriodicService.verificationSweeper(services.verifications, logger: logger),
            PeriodicService.billingSweeper(services.billing, logger: logger),
            PeriodicService.keyUsageFlusher(services.keys, logger: logger),
            PeriodicService.keyIndexPoller(
                services.keys, clock: services.clock, heartbeats: services.heartbeats, logger: logger),
            PeriodicService.suspensionPoller(services.console, logger: logger),
            PeriodicService.usageFlusher(
                meter: services.gateway.meter, usage: services.gateway.usage,
                interval: .seconds(services.configuration.gateway.usageFlushInterval), clock: services.clock,
                heartbeats: services.heartbeats, logger: logger),
            PeriodicService.bucketKeeper(limits: services.gateway.rateLimits, clock: services.clock, logger: logger),
            PeriodicService.spendAlerts(
                services.spend, guard: services.gateway.pricing?.spend, clock: services.clock, logger: logger),
        ]
        if services.configuration.keyAlerts.enabled {
            background.append(PeriodicService.keyAlertDetector(services.keyAlerts, logger: logger))
        }
        if let file = services.accessLog.file {
            background.append(
                PeriodicService(name: "write the access log", interval: .seconds(1), logger: logger) {
                    if let problem = file.flush() { logger.warning("access log: \(problem)") }
                })
        }
        if services.database.backend == .postgres {
            background.append(KeyChangeListener(keys: services.keys, database: services.database, logger: logger))
        }
        return background
    }

    /// Serves until SIGTERM or SIGINT, then stops within `shutdown_timeout` seconds, flushing
    /// what is buffered; throws ``StartupError`` when the address cannot be bound.
    public func run() async throws {
        var group = ServiceGroupConfiguration(
            services: [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // Requests still running when the time is up are cancelled, so the process always ends.
        group.maximumGracefulShutdownDuration = .seconds(configuration.server.shutdownTimeout)
        var failure: (any Error)?
        do {
            try await ServiceGroup(configuration: group).run()
        } catch {
            failure = Self.explain(error, configuration: configuration)
        }
        await finish()
        if let failure { throw failure }
    }

    /// The access log `server` asks for: through the logger, off, or a rotated file of its own.
    static func openAccessLog(_ server: ServerSettings) throws -> AccessLog {
        let json = server.logFormat == .json
        switch server.accessLog {
        case "off": return .off
        case "stdout": return .logger(json: json)
        case let path:
            do {
                return .file(
                    try RotatingLogFile(path: path, maxBytes: server.accessLogMaxBytes, keep: server.accessLogFiles),
                    json: json)
            } catch let error as AccessLogError {
                throw StartupError("access_log: \(error.description)")
            }
        }
    }

    /// Writes what is still buffered, then closes the upstream clients and the database.
    func finish() async {
        fastPath.shutdown()
        if let problem = services.accessLog.file?.flush() { logger.warning("access log: \(problem)") }
        do {
            try await services.gateway.meter.flush(to: services.gateway.usage)
        } catch {
            logger.error("could not record usage at shutdown", metadata: ["error.type": "\(type(of: error))"])
        }
        do {
            try await services.keys.flushUses()
        } catch {
            logger.warning("could not record key use at shutdown", metadata: ["error.type": "\(type(of: error))"])
        }
        do {
            try await services.shutdown()
        } catch {
            logger.warning("could not close the database cleanly", metadata: ["error.type": "\(type(of: error))"])
        }
    }

    /// A bind failure as one sentence a person can act on; other errors unchanged.
    static func explain(_ error: any Error, configuration: KeywardenConfiguration) -> any Error {
        explain(error, host: configuration.server.host, port: configuration.server.port)
    }

    /// A failure to listen on `host:port` as one sentence naming the settings to change: the
    /// public listener's flags, or, with `prefix`, another listener's settings.
    static func explain(
        _ error: any Error, host: String, port: Int, prefix: String = "", portSetting: String = "--port",
        hostSetting: String = "--host"
    ) -> any Error {
        let place = "\(prefix)\(host.contains(":") ? "[\(host)]" : host):\(port)"
        if let io = error as? IOError {
            switch io.errnoCode {
            case EADDRINUSE:
                return StartupError(
                    "\(place) is already in use; stop the other server or choose another \(portSetting)")
            case EACCES:
                return StartupError("\(place) may not be bound by this user (ports below 1024 need privileges)")
            case EADDRNOTAVAIL:
                return StartupError("\(place) is not an address of this machine; check \(hostSetting)")
            default:
                return StartupError("cannot listen on \(place): \(io.description)")
            }
        }
        if error is SocketAddressError {
            return StartupError("cannot listen on \(place): the host name does not resolve; check \(hostSetting)")
        }
        return error
    }
}

/// How many connections the server holds open at once.
enum ConnectionCap {
    /// `max_connections`, lowered (with a warning) to what the process's descriptor limit
    /// leaves once the database, the upstream connections and files have theirs. Over the cap,
    /// new connections wait in the listen queue: a flood slows new connections, never the process.
    static func resolve(configuration: KeywardenConfiguration, logger: Logger) -> Int {
        let descriptors = DescriptorLimit.raiseToHardLimit()
        let reserved = configuration.gateway.maxConnections + 128
        let available = max(16, descriptors - reserved)
        guard configuration.server.maxConnections > available else { return configuration.server.maxConnections }
        logger.warning(
            "max_connections lowered to what the descriptor limit allows",
            metadata: [
                "max_connections": "\(configuration.server.maxConnections)", "used": "\(available)",
                "descriptor_limit": "\(descriptors)",
            ])
        return available
    }
}

/// The process's limit on open file descriptors.
enum DescriptorLimit {
    /// Raises the soft limit to the hard one and returns it.
    static func raiseToHardLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(min(limit.rlim_cur, rlim_t(Int32.max)))
    }
}

/// The metrics listener, whose failure to bind is told as its own, not as the public port's.
struct MetricsListener: Service {
    let application: any Service
    let host: String
    let port: Int

    func run() async throws {
        do {
            try await application.run()
        } catch {
            throw KeywardenInstance.explain(
                error, host: host, port: port, prefix: "metrics_port: ", portSetting: "metrics_port",
                hostSetting: "metrics_host")
        }
    }
}
