import Foundation
import Hummingbird
import KeywardenAPI
import KeywardenCore
import KeywardenHTTP
import KeywardenStorage
import Logging
import ServiceLifecycle

/// The services a running Keywarden is made of, built once from the configuration.
public struct KeywardenServices: Sendable {
    /// The database pool.
    public let database: DatabaseClient
    /// Accounts and sessions.
    public let accounts: AccountService
    /// Projects.
    public let projects: ProjectService
    /// Counters behind every rate limit.
    public let counters: any RateCounterRepository

    /// Wires the services over a database.
    public init(
        database: DatabaseClient, configuration: KeywardenConfiguration, clock: Clock = .live,
        hasher: PasswordHasher? = nil
    ) {
        var settings = AccountSettings()
        settings.sessionIdleTimeout = TimeInterval(configuration.sessionIdleTimeout)
        settings.sessionLifetime = TimeInterval(configuration.sessionLifetime)
        settings.loginLimitPerAccount = FixedWindowLimit(limit: configuration.loginAttemptsPerAccount, window: 900)
        settings.loginLimitPerClientAddress = FixedWindowLimit(
            limit: configuration.loginAttemptsPerAddress, window: 900)
        let counters = SQLRateCounterRepository(database: database)
        self.database = database
        self.counters = counters
        self.accounts = AccountService(
            accounts: SQLAccountRepository(database: database),
            sessions: SQLSessionRepository(database: database),
            counters: counters,
            hasher: hasher ?? .bcrypt(cost: configuration.bcryptCost),
            clock: clock,
            settings: settings)
        self.projects = ProjectService(projects: SQLProjectRepository(database: database), clock: clock)
    }
}

/// Builds the router with every route, and the catalog of those routes.
///
/// Middleware is added before any route, since routes capture the middleware stack
/// present when they are registered.
public func buildRouter(services: KeywardenServices) -> (Router<KeywardenRequestContext>, RouteCatalog) {
    let catalog = RouteCatalog()
    let router = CatalogingRouter(Router(context: KeywardenRequestContext.self), catalog: catalog)
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: ErrorMiddleware<KeywardenRequestContext>(catalog: catalog))
    router.add(middleware: SessionAuthenticator(accounts: services.accounts))
    HealthController(
        isDatabaseReachable: { await services.database.isReachable() },
        openAPIDocument: OpenAPIDocument.text
    ).addRoutes(to: router)
    AuthController(accounts: services.accounts).addRoutes(to: router)
    OrganizationController(accounts: services.accounts, projects: services.projects).addRoutes(to: router)
    return (router.router, catalog)
}

/// Opens the configured database and brings its schema up to date, or refuses to start.
///
/// SQLite is migrated on every start. PostgreSQL is shared by many instances and
/// upgraded deliberately: with pending migrations the server starts only when
/// `migrate` is set.
public func openDatabase(configuration: KeywardenConfiguration, logger: Logger) async throws -> DatabaseClient {
    let database: DatabaseClient
    switch try configuration.database {
    case .sqliteFile(let path):
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
        database = try await DatabaseClient.sqlite(path: path, logger: logger)
    case .sqliteMemory:
        database = try await DatabaseClient.sqlite(path: nil, logger: logger)
    case .postgres(let url):
        database = try DatabaseClient.postgres(url: url, logger: logger)
    }
    do {
        let migrator = Migrator(database: database)
        if database.backend == .postgres, !configuration.migrateOnStart {
            let pending = try await migrator.pending()
            guard pending.isEmpty else {
                throw StartupError(
                    "PostgreSQL has \(pending.count) pending migration(s) (\(pending.map { String($0.version) }.joined(separator: ", "))); run 'keywarden migrate' or start with --migrate"
                )
            }
        } else {
            for migration in try await migrator.migrate() {
                logger.info(
                    "applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            }
        }
    } catch {
        try? await database.shutdown()
        throw error
    }
    return database
}

/// Builds the whole server from its configuration.
public func buildApplication(
    configuration: KeywardenConfiguration, logger: Logger
) async throws
    -> some ApplicationProtocol
{
    try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
    _ = try ServerSecret.resolve(configuration, logger: logger)
    let database = try await openDatabase(configuration: configuration, logger: logger)
    let services = KeywardenServices(database: database, configuration: configuration)
    let (router, _) = buildRouter(services: services)
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "keywarden"),
        logger: logger)
    app.addServices(
        CounterSweeper(counters: services.counters, logger: logger),
        DatabaseCloser(database: database))
    return app
}

/// A reason the server will not start.
public struct StartupError: Error, CustomStringConvertible {
    /// What is wrong and what to do.
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
