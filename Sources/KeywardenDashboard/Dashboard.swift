import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP
import Logging

/// The developer pages: server-rendered HTML over the same Core services the JSON API calls.
///
/// Every page works without JavaScript: forms post and redirect, and a page that shows a secret
/// (a new key) shows it in the POST's own answer.
public struct Dashboard: Sendable {
    /// The services the pages call.
    public struct Services: Sendable {
        public var accounts: AccountService
        public var projects: ProjectService
        public var keys: APIKeyService
        public var verifications: PhoneVerificationService
        public var audit: any AuditLogRepository
        public var usage: any UsageRepository
        /// Calls the gateway counted in memory and has not written yet.
        public var meter: UsageMeter
        public var rateLimits: RateLimitPolicy
        public var clock: Clock
        /// Further organizations, members and project users.
        public var teams: TeamService
        /// Email invites.
        public var invites: InviteService
        /// Cards, credits and the ledger.
        public var billing: BillingService
        /// Monthly budgets and the usage tier standing shown beside them.
        public var spend: SpendService
        /// The built-in test payment provider, whose card pages the dashboard serves; `nil` when
        /// a real provider is configured.
        public var testPayments: TestPaymentProvider?
        /// Support requests, which members file and see on the Support page.
        public var support: SupportService
        /// The operator console: every action there checks the operator role and two-factor
        /// authentication first.
        public var console: ConsoleService
        /// Usage-anomaly alerts, noticed on the API keys page and dismissed there.
        public var keyAlerts: KeyAlertService

        /// Groups the services.
        public init(
            accounts: AccountService, projects: ProjectService, keys: APIKeyService,
            verifications: PhoneVerificationService, audit: any AuditLogRepository, usage: any UsageRepository,
            meter: UsageMeter, rateLimits: RateLimitPolicy, clock: Clock, teams: TeamService, invites: InviteService,
            billing: BillingService, spend: SpendService, testPayments: TestPaymentProvider?,
            support: SupportService, console: ConsoleService, keyAlerts: KeyAlertService
        ) {
            self.keyAlerts = keyAlerts
            self.support = support
            self.console = console
            self.billing = billing
            self.spend = spend
            self.testPayments = testPayments
            self.teams = teams
            self.invites = invites
            self.accounts = accounts
            self.projects = projects
            self.keys = keys
            self.verifications = verifications
            self.audit = audit
            self.usage = usage
            self.meter = meter
            self.rateLimits = rateLimits
            self.clock = clock
        }
    }

    let services: Services
    let renderer: PageRenderer
    let forms: FormGuard
    /// Whether cookies carry `Secure` (the public URL is https).
    let secureCookies: Bool

    /// Loads the templates and assets.
    ///
    /// - Parameters:
    ///   - serverSecret: keys the form tokens.
    ///   - secureCookies: set `Secure` on cookies (when the server's public URL is https).
    public init(services: Services, serverSecret: String, secureCookies: Bool) throws {
        self.services = services
        self.renderer = try PageRenderer()
        self.forms = FormGuard(serverSecret: serverSecret, secureCookies: secureCookies)
        self.secureCookies = secureCookies
    }

    /// The page for a path no route serves, in the layout; `nil` for the API's own paths.
    public func notFoundPage(_ request: Request) -> Response? {
        let path = request.uri.path
        guard !path.hasPrefix("/v1/"), path != "/v1", path != "/healthz", path != "/openapi.yaml" else { return nil }
        var response = renderer.errorPage(status: .notFound, heading: "Page not found", request: request)
        PageMiddleware.addPageHeaders(to: &response.headers)
        return response
    }
}
