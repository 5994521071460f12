import AsyncHTTPClient
import Foundation
import Hummingbird
import KeywardenAPI
import KeywardenCore
import KeywardenDashboard
import KeywardenGateway
import KeywardenHTTP
import KeywardenProviders
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
    /// Phone verification.
    public let verifications: PhoneVerificationService
    /// The audit log.
    public let audit: any AuditLogRepository
    /// API keys and the issuance policy.
    public let keys: APIKeyService
    /// Further organizations, members and project users.
    public let teams: TeamService
    /// Email invites to organizations.
    public let invites: InviteService
    /// The settings the services were built from.
    public let configuration: KeywardenConfiguration
    /// The time every service reads.
    public let clock: Clock
    /// The gateway's clients, rate limits and metering.
    public let gateway: GatewayServices
    /// Sends email through the configured provider.
    public let email: EmailSender
    /// Cards, credit purchases and the ledger.
    public let billing: BillingService
    /// The built-in test payment provider, when it is the configured one.
    public let testPayments: TestPaymentProvider?
    /// Budgets, their alerts and the tier standing shown beside them.
    public let spend: SpendService
    /// Support requests from people who cannot verify a phone number.
    public let support: SupportService
    /// The operator console's actions and views.
    public let console: ConsoleService
    /// Usage-anomaly alerts per API key: the detector, the owners' emails, the alerts listed.
    public let keyAlerts: KeyAlertService
    /// GitHub's secret-scanning reports of keys found in public, which revoke them.
    public let secretScanning: SecretScanningService
    /// The server secret, which keys the dashboard's form tokens.
    let serverSecret: String
    /// Where requests, gateway calls, messages and verifications are counted.
    public let metrics: KeywardenMetrics
    /// The Prometheus registry behind ``metrics``, when `metrics_port` is set.
    public let metricsRegistry: MetricsRegistry?
    /// When background work last succeeded, for the lag gauges.
    public let heartbeats: Heartbeats
    /// Where the line per request goes; a file is opened by ``KeywardenInstance``.
    public var accessLog: AccessLog
    /// Request ids, the same sequence for the router and the gateway's fast path.
    public let requestIDs = RequestIDs()

    /// Wires the services over a database.
    ///
    /// - Parameters:
    ///   - secret: the server secret.
    ///   - delivery: replaces the configured SMS provider (tests).
    ///   - lineTypes: replaces the configured line-type lookup (tests).
    ///   - email: replaces the configured email provider (tests).
    ///   - payments: replaces the configured payment provider (tests).
    ///   - secretScanningKeys: replaces GitHub's published secret-scanning keys (tests).
    public init(
        database: DatabaseClient, configuration: KeywardenConfiguration, secret: String, logger: Logger,
        clock: Clock = .live, hasher: PasswordHasher? = nil, delivery: CodeDelivery? = nil,
        lineTypes: LineTypeLookup? = nil, email: EmailSender? = nil, payments: (any PaymentProvider)? = nil,
        secretScanningKeys: (any SecretScanningKeySource)? = nil
    ) {
        self.email = email ?? Self.email(for: configuration, clock: clock, logger: logger)
        let registry = configuration.server.metricsPort == nil ? nil : MetricsRegistry()
        let metrics = registry?.metrics ?? .off
        self.metricsRegistry = registry
        self.metrics = metrics
        self.heartbeats = Heartbeats(clock: clock)
        self.accessLog =
            configuration.server.accessLog == "off"
            ? .off : .logger(json: configuration.server.logFormat == .json)
        let counters = SQLRateCounterRepository(database: database)
        let audit = SQLAuditLogRepository(database: database)
        self.database = database
        self.counters = counters
        self.audit = audit
        let humanCheck = configuration.accounts.captcha?.check ?? .notRequired
        self.accounts = AccountService(
            accounts: SQLAccountRepository(database: database),
            sessions: SQLSessionRepository(database: database),
            tokens: SQLAccountTokenRepository(database: database),
            counters: counters, audit: audit,
            hasher: hasher ?? .bcrypt(cost: configuration.accounts.bcryptCost),
            clock: clock,
            settings: configuration.accounts.serviceSettings,
            mail: AccountMail(sender: self.email, linkBaseURL: configuration.linkBaseURL, logger: logger),
            twoFactor: TwoFactorStore(repository: SQLTwoFactorRepository(database: database), serverSecret: secret),
            humanCheck: humanCheck)
        self.projects = ProjectService(projects: SQLProjectRepository(database: database), audit: audit, clock: clock)
        self.configuration = configuration
        self.serverSecret = secret
        self.clock = clock
        self.gateway = GatewayServices(
            configuration: configuration, database: database, audit: audit, clock: clock, logger: logger)
        let verificationRepository = SQLPhoneVerificationRepository(database: database)
        let stats = MeasuredVerificationStats(
            base: SQLVerificationStatsRepository(database: database), metrics: metrics)
        let prefixRules = SQLPrefixGuardRepository(database: database)
        self.keys = APIKeyService(
            keys: SQLAPIKeyRepository(database: database, clock: clock),
            projects: SQLProjectRepository(database: database),
            accounts: SQLAccountRepository(database: database), verifications: verificationRepository, audit: audit,
            index: APIKeyIndex(format: APIKeyFormat(stem: configuration.keys.keyStem)),
            policy: KeyIssuancePolicy(
                enforcementDate: configuration.keys.enforcementDate, scope: configuration.keys.verificationScope),
            serverSecret: secret, clock: clock, emailConfirmation: configuration.accounts.emailConfirmationRule)
        self.teams = TeamService(
            teams: SQLTeamRepository(database: database, clock: clock),
            projects: SQLProjectRepository(database: database), audit: audit, keys: self.keys, clock: clock)
        var inviteSettings = InviteSettings()
        inviteSettings.lifetime = TimeInterval(configuration.accounts.inviteLifetime)
        inviteSettings.linkBaseURL = configuration.linkBaseURL
        self.invites = InviteService(
            invites: SQLInviteRepository(database: database), accounts: SQLAccountRepository(database: database),
            projects: SQLProjectRepository(database: database), audit: audit, email: self.email,
            settings: inviteSettings, clock: clock)
        self.verifications = PhoneVerificationService(
            verifications: verificationRepository, audit: audit, counters: counters,
            secrets: VerificationSecrets(serverSecret: secret),
            delivery: (delivery ?? Self.delivery(for: configuration, clock: clock, logger: logger))
                .measured(by: metrics, provider: configuration.providers.sms.kind.rawValue),
            lineTypes: lineTypes ?? Self.lineTypes(for: configuration, clock: clock),
            policy: configuration.verification, clock: clock, logger: logger,
            emailConfirmation: configuration.accounts.emailConfirmationRule, humanCheck: humanCheck, stats: stats,
            prefixRules: prefixRules)
        let provider = payments ?? Self.paymentProvider(for: configuration, clock: clock)
        self.testPayments = provider as? TestPaymentProvider
        self.billing = BillingService(
            billing: SQLBillingRepository(database: database), accounts: SQLAccountRepository(database: database),
            audit: audit, provider: provider, fingerprints: CardFingerprints(serverSecret: secret), email: self.email,
            settings: configuration.payments.serviceSettings(publicURL: configuration.linkBaseURL), clock: clock,
            logger: logger)
        self.spend = SpendService(
            repository: gateway.spendRepository, billing: SQLBillingRepository(database: database),
            accounts: SQLAccountRepository(database: database), audit: audit, email: self.email,
            limits: gateway.rateLimits, spend: gateway.pricing?.spend, currency: configuration.payments.currency,
            publicURL: configuration.linkBaseURL, clock: clock, logger: logger)
        let suspended = SuspendedOrganizations()
        self.support = SupportService(
            requests: SQLSupportRequestRepository(database: database),
            accounts: SQLAccountRepository(database: database), audit: audit, email: self.email,
            publicURL: configuration.linkBaseURL, suspended: suspended, clock: clock, logger: logger)
        let scanningKeys: any SecretScanningKeySource =
            secretScanningKeys ?? GitHubSecretScanningKeys(url: configuration.keys.githubSecretScanningKeysURL)
        self.secretScanning = SecretScanningService(
            keys: self.keys, accounts: SQLAccountRepository(database: database),
            publicKeys: SecretScanningKeyCache(source: scanningKeys, clock: clock, logger: logger),
            email: self.email, publicURL: configuration.linkBaseURL, logger: logger)
        self.keyAlerts = KeyAlertService(
            repository: SQLKeyAlertRepository(database: database),
            keys: SQLAPIKeyRepository(database: database, clock: clock),
            projects: SQLProjectRepository(database: database), accounts: SQLAccountRepository(database: database),
            audit: audit, email: self.email, policy: configuration.keyAlerts.policy,
            linkBaseURL: configuration.linkBaseURL, clock: clock, logger: logger)
        self.console = ConsoleService(
            console: SQLConsoleRepository(database: database), accounts: accounts,
            accountRepository: SQLAccountRepository(database: database),
            organizations: OrganizationService(verifications: verificationRepository, audit: audit, clock: clock),
            rateLimits: gateway.rateLimits, billing: billing,
            billingRepository: SQLBillingRepository(database: database), usage: gateway.usage, audit: audit,
            prefixes: prefixRules, stats: stats, suspended: suspended, support: support,
            messagePrices: configuration.verificationMessagePrices, currency: configuration.payments.currency,
            secrets: VerificationSecrets(serverSecret: secret), clock: clock, logger: logger)
    }

    /// The configured payment provider.
    static func paymentProvider(for configuration: KeywardenConfiguration, clock: Clock) -> any PaymentProvider {
        switch configuration.payments.provider {
        case .test:
            return TestPaymentProvider(publicURL: configuration.linkBaseURL, clock: clock)
        case .stripe(let key, _, let base):
            return StripePaymentProvider(secretKey: key, apiBase: base, client: .shared)
        }
    }

    /// Checks a Stripe webhook's signature and reads its event; `nil` without a signing secret.
    var stripeWebhook: (@Sendable ([UInt8], String?, Date) throws -> ProviderEvent)? {
        guard case .stripe(_, let secret?, _) = configuration.payments.provider else { return nil }
        let verifier = StripeWebhookVerifier(secret: secret)
        return { payload, signature, now in
            try verifier.event(payload: payload, signatureHeader: signature, now: now)
        }
    }

    /// The Twilio client for `account`, with the sender and callbacks the providers chose.
    static func twilio(_ account: TwilioAccount, for configuration: KeywardenConfiguration) -> Twilio {
        var settings = TwilioConfiguration(accountSID: account.accountSID, authToken: account.authToken)
        switch configuration.providers.sms {
        case .twilio(_, .number(let number)): settings.from = number
        case .twilio(_, .messagingService(let service)): settings.messagingServiceSID = service
        case .twilioVerify(_, let service): settings.verifyServiceSID = service
        case .log, .webhook: break
        }
        settings.whatsappFrom = configuration.providers.twilioWhatsAppFrom
        settings.whatsappContentSID = configuration.providers.twilioWhatsAppContentSID
        settings.statusCallbackURL = configuration.providers.twilioStatusCallbackURL
        settings.apiBaseURL = account.apiBaseURL
        settings.verifyBaseURL = account.verifyBaseURL
        settings.lookupBaseURL = account.lookupBaseURL
        return Twilio(configuration: settings)
    }

    /// The configured SMS provider.
    static func delivery(for configuration: KeywardenConfiguration, clock: Clock, logger: Logger) -> CodeDelivery {
        switch configuration.providers.sms {
        case .log:
            return .local(Outbox(directory: configuration.storage.dataDirectory, logger: logger, clock: clock).sender)
        case .twilio(let account, _):
            return .local(twilio(account, for: configuration).messaging)
        case .twilioVerify(let account, _):
            return .remote(twilio(account, for: configuration).verify)
        case .webhook(let url, let secret):
            return .local(WebhookSMSSender(url: url, secret: secret, clock: clock).sender)
        }
    }

    /// The configured email provider.
    static func email(for configuration: KeywardenConfiguration, clock: Clock, logger: Logger) -> EmailSender {
        switch configuration.email.provider {
        case .log:
            return EmailOutbox(directory: configuration.storage.dataDirectory, logger: logger, clock: clock).sender
        case .smtp(let relay):
            return SMTPClient(relay: relay, from: configuration.email.from, clock: clock).sender
        }
    }

    static func lineTypes(for configuration: KeywardenConfiguration, clock: Clock) -> LineTypeLookup {
        switch configuration.providers.lineTypes {
        case .offline: return .offline
        case .twilioLookup(let account):
            return LineTypeCache(clock: clock).wrapping(twilio(account, for: configuration).lookup)
        }
    }

    /// Closes the upstream client and the database.
    public func shutdown() async throws {
        do {
            try await gateway.shutdown()
        } catch {
            try await database.shutdown()
            throw error
        }
        try await database.shutdown()
    }
}

/// Builds the router with every route, and the catalog of those routes.
///
/// Middleware is added before any route, since routes capture the middleware stack
/// present when they are registered.
public func buildRouter(services: KeywardenServices) throws -> (Router<KeywardenRequestContext>, RouteCatalog) {
    let dashboard = try Dashboard(
        services: Dashboard.Services(
            accounts: services.accounts, projects: services.projects, keys: services.keys,
            verifications: services.verifications, audit: services.audit, usage: services.gateway.usage,
            meter: services.gateway.meter, rateLimits: services.gateway.rateLimits, clock: services.clock,
            teams: services.teams, invites: services.invites, billing: services.billing, spend: services.spend,
            testPayments: services.testPayments, support: services.support, console: services.console,
            keyAlerts: services.keyAlerts),
        serverSecret: services.serverSecret,
        secureCookies: services.configuration.providers.publicURL?.lowercased().hasPrefix("https://") == true)
    let catalog = RouteCatalog()
    let router = CatalogingRouter(
        Router(context: KeywardenRequestContext.self, options: .autoGenerateHeadEndpoints), catalog: catalog)
    router.add(
        middleware: RequestIDMiddleware(
            metrics: services.metrics, accessLog: services.accessLog, ids: services.requestIDs)
    )
    router.add(
        middleware: ErrorMiddleware<KeywardenRequestContext>(catalog: catalog, notFoundPage: dashboard.notFoundPage))
    router.add(
        middleware: SessionAuthenticator(accounts: services.accounts, keys: services.keys.index, clock: services.clock))
    HealthController(
        isDatabaseReachable: { await services.database.isReachable() },
        openAPIDocument: OpenAPIDocument.text
    ).addRoutes(to: router)
    AuthController(accounts: services.accounts).addRoutes(to: router)
    AccountSecurityController(accounts: services.accounts).addRoutes(to: router)
    TwoFactorController(accounts: services.accounts).addRoutes(to: router)
    OrganizationController(accounts: services.accounts, projects: services.projects).addRoutes(to: router)
    TeamController(teams: services.teams, accounts: services.accounts).addRoutes(to: router)
    InviteController(invites: services.invites, accounts: services.accounts).addRoutes(to: router)
    PhoneVerificationController(
        verifications: services.verifications, allowedCountries: services.configuration.verification.allowedCountries
    ).addRoutes(to: router)
    AuditLogController(audit: services.audit).addRoutes(to: router)
    APIKeyController(keys: services.keys, accounts: services.accounts).addRoutes(to: router)
    UsageController(
        usage: services.gateway.usage, meter: services.gateway.meter, limits: services.gateway.rateLimits,
        projects: services.projects, currency: services.configuration.payments.currency, clock: services.clock
    ).addRoutes(to: router)
    SpendLimitsController(spend: services.spend, projects: services.projects).addRoutes(to: router)
    BillingController(
        billing: services.billing,
        tierName: { await services.gateway.rateLimits.usageTier(of: $0, now: services.clock.now()).name }
    ).addRoutes(to: router)
    StripeWebhookController(verify: services.stripeWebhook, billing: services.billing, clock: services.clock)
        .addRoutes(to: router)
    SecretScanningController(scanning: services.secretScanning).addRoutes(to: router)
    keyVerification(services).addRoutes(to: router)
    SupportRequestController(support: services.support).addRoutes(to: router)
    KeyAlertController(alerts: services.keyAlerts).addRoutes(to: router)
    AdminController(console: services.console).addRoutes(to: router)
    let configuration = services.configuration
    let signatureCheck: (@Sendable (String?, [(String, String)]) -> Bool)? =
        if let token = configuration.providers.twilio?.authToken,
            let url = configuration.providers.twilioStatusCallbackURL
        {
            { signature, fields in
                TwilioSignature.isValid(presented: signature, url: url, parameters: fields, authToken: token)
            }
        } else {
            nil
        }
    gateway(services)?.addRoutes(to: router)
    TwilioStatusController(
        verifications: services.verifications, isSigned: signatureCheck, decodeForm: FormEncoding.decode,
        delivery: Twilio.delivery
    ).addRoutes(to: router)
    dashboard.addRoutes(to: router.router)
    return (router.router, catalog)
}

/// The gateway, when an upstream is configured.
func gateway(_ services: KeywardenServices) -> Gateway? {
    let configuration = services.configuration
    guard let upstream = configuration.gateway.upstream else { return nil }
    return Gateway(
        upstream: upstream,
        upstreamAuthorization: configuration.gateway.upstreamAuthorization,
        client: services.gateway.client ?? .shared, lean: services.gateway.lean,
        limits: services.gateway.rateLimits, meter: services.gateway.meter, pricing: services.gateway.pricing,
        suspended: services.console.suspended, clock: services.clock,
        maxRequestBody: configuration.gateway.maxRequestBytes, metrics: services.metrics)
}

func keyVerification(_ services: KeywardenServices) -> KeyVerificationController {
    KeyVerificationController(
        index: services.keys.index, operatorToken: services.configuration.keys.operatorToken,
        suspended: services.console.suspended, clock: services.clock)
}

/// The event-loop fast path for gateway calls and key checks, ahead of the router built by
/// ``buildRouter(services:)`` over the same services.
public func buildFastPath(services: KeywardenServices, serverName: String, logger: Logger) -> GatewayFastPath {
    GatewayFastPath(
        gateway: gateway(services), index: services.keys.index, ids: services.requestIDs, metrics: services.metrics,
        accessLog: services.accessLog, localRoutes: [keyVerification(services).localRoute], serverName: serverName,
        clock: services.clock, logger: logger)
}

/// Opens the configured database and brings its schema up to date, or refuses to start.
///
/// SQLite is migrated on every start. PostgreSQL is shared by many instances and
/// upgraded deliberately: with pending migrations the server starts only when
/// `migrate` is set.
///
/// - Parameter requireExisting: refuse, naming the path looked at, when the SQLite file does not
///   exist yet, instead of creating an empty database (command-line tools run in the wrong
///   directory).
public func openDatabase(
    configuration: KeywardenConfiguration, logger: Logger, requireExisting: Bool = false
) async throws -> DatabaseClient {
    let location = try configuration.database
    if requireExisting, case .sqliteFile(let path) = location, !FileManager.default.fileExists(atPath: path) {
        throw StartupError(
            "no Keywarden database at \(URL(fileURLWithPath: path).standardizedFileURL.path); run the command where 'keywarden serve' keeps its data, or name it with --data-dir or --database-url"
        )
    }
    do {
        return try await openAndMigrate(location, configuration: configuration, logger: logger)
    } catch let error as StartupError {
        throw error
    } catch {
        throw StartupError("cannot use the database \(location.displayName): \(DatabaseClient.describeFailure(error))")
    }
}

func openAndMigrate(
    _ location: DatabaseLocation, configuration: KeywardenConfiguration, logger: Logger
) async throws -> DatabaseClient {
    let database: DatabaseClient
    switch location {
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
        if database.backend == .postgres, !configuration.storage.migrateOnStart {
            let pending = try await migrator.pending()
            guard pending.isEmpty else {
                throw StartupError(
                    "PostgreSQL has \(pending.count) pending migration(s) (\(pending.map { String($0.version) }.joined(separator: ", "))); run 'keywarden migrate' or start with --migrate"
                )
            }
        } else {
            let applied = try await migrator.migrate()
            for migration in applied {
                logger.info(
                    "applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            }
            if !applied.isEmpty, database.backend == .sqlite, case .sqliteFile = location {
                // Migrations erase data (numbers stored in the clear by earlier versions): fold the
                // journal into the file and empty it, so no old page lingers there.
                try await database.withConnection { db in
                    try await db.raw("PRAGMA wal_checkpoint(TRUNCATE)").run()
                }
            }
        }
    } catch {
        try? await database.shutdown()
        throw error
    }
    return database
}

/// A reason the server will not start.
public struct StartupError: Error, CustomStringConvertible {
    /// What is wrong and what to do.
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
