import Foundation
import KeywardenCore

/// Every setting of a Keywarden server, typed, built once at start-up.
///
/// Each setting is read from the first source that has it: a command-line flag, then a
/// `KEYWARDEN_*` environment variable, then the JSON config file, then the default.
public struct KeywardenConfiguration: Sendable {
    /// The address to listen on.
    public var host = "127.0.0.1"
    /// The port to listen on.
    public var port = 8080
    /// Where the SQLite file, the generated development secret and other local state live.
    public var dataDirectory = "./.keywarden"
    /// The database: `postgres://...`, `sqlite:PATH`, or `sqlite::memory:`; `nil` means the SQLite
    /// file `keywarden.sqlite` in the data directory.
    public var databaseURL: String?
    /// The server secret (32 or more characters). When absent on SQLite, one is generated
    /// into the data directory; PostgreSQL deployments must set it, since instances share it.
    public var secret: String?
    /// Whether `serve` applies pending PostgreSQL migrations itself.
    public var migrateOnStart = false
    /// Seconds a new connection has to send its first request head.
    public var httpHeaderTimeout = 10
    /// Seconds a connection may stay idle (between requests, or mid-request without a byte)
    /// before it is closed.
    public var httpIdleTimeout = 30
    /// Connections held open at once; more wait in the listen queue.
    public var maxConnections = 4096
    /// Seconds requests in flight may take to finish after SIGTERM or SIGINT before they are
    /// cancelled and the process ends.
    public var shutdownTimeout = 5
    /// Seconds between writes of the gateway's usage: a crash loses at most this much.
    public var usageFlushInterval = 1
    /// The bcrypt cost for password hashes (4...31).
    public var bcryptCost = 12
    /// The log level: trace, debug, info, notice, warning, error or critical.
    public var logLevel = "info"
    /// Seconds of inactivity after which a session ends.
    public var sessionIdleTimeout = 7 * 24 * 3600
    /// Seconds after sign-in at which a session ends, however active.
    public var sessionLifetime = 30 * 24 * 3600
    /// Failed sign-ins allowed per email address per 15 minutes.
    public var loginAttemptsPerAccount = 10
    /// Failed sign-ins allowed per client address per 15 minutes.
    public var loginAttemptsPerAddress = 50
    /// Codes, caps, limits and allowed numbers for phone verification.
    public var verification = VerificationPolicy()
    /// Who sends codes: `log` (development), `twilio`, `twilio-verify` or `webhook`.
    public var smsProvider = SMSProviderKind.log
    /// Where line types come from: `offline` or `twilio-lookup`.
    public var lineTypeLookup = LineTypeLookupKind.offline
    /// The server's public base URL, for Twilio's delivery reports (`.../v1/webhooks/twilio/status`).
    public var publicURL: String?
    public var twilioAccountSID: String?
    public var twilioAuthToken: String?
    public var twilioFrom: String?
    public var twilioMessagingServiceSID: String?
    public var twilioVerifyServiceSID: String?
    public var twilioAPIBaseURL = "https://api.twilio.com"
    public var twilioVerifyBaseURL = "https://verify.twilio.com"
    public var twilioLookupBaseURL = "https://lookups.twilio.com"
    /// Keys created at or after this instant need a verified (or exempt) organization.
    public var enforcementDate = KeyIssuancePolicy.defaultEnforcementDate
    /// Whose verification counts for key creation: the organization's or the creating person's.
    public var verificationScope = KeyIssuancePolicy.Scope.organization
    /// The stem of key prefixes (`sk` gives `sk-proj-...`).
    public var keyStem = "sk"
    /// The token the operator's services send to `POST /v1/keys/verify`; unset disables it.
    public var operatorToken: String?
    /// Where `/v1/*` calls go: `echo` (the development upstream) or a base URL; unset turns the
    /// gateway off.
    public var upstream: String?
    /// Replaces the caller's key on forwarded calls, such as `Bearer <upstream key>`.
    public var upstreamAuthorization: String?
    /// Seconds to connect to the upstream.
    public var upstreamConnectTimeout = 10
    /// Seconds the upstream may stay silent (between streamed chunks too).
    public var upstreamReadTimeout = 120
    /// The rate-limit tiers and the default one.
    public var rateLimitTiers = RateLimitTiers.standard
    /// Where the gateway's buckets live: `nil` picks the database on PostgreSQL (instances share
    /// limits) and memory on SQLite (one process).
    public var rateLimitStore: RateLimitStore?
    /// Connections kept open to the upstream.
    public var upstreamMaxConnections = 256
    /// The largest request body a gateway call may carry, in bytes.
    public var gatewayMaxRequestBytes = 1 << 30
    /// Whether calls to a plain-HTTP upstream whose body is in memory use the gateway's lean
    /// HTTP/1.1 client (else AsyncHTTPClient carries every call). Not a setting; tests run both.
    public var upstreamLeanClient = true
    /// The operator endpoint the `webhook` provider posts to, and its signing secret.
    public var smsWebhookURL: String?
    public var smsWebhookSecret: String?

    /// The defaults.
    public init() {}

    /// The database the configuration selects.
    public var database: DatabaseLocation {
        get throws {
            guard let url = databaseURL else {
                return .sqliteFile(URL(fileURLWithPath: dataDirectory).appendingPathComponent("keywarden.sqlite").path)
            }
            return try DatabaseLocation(url: url)
        }
    }
}

/// Where the gateway's rate-limit buckets live.
public enum RateLimitStore: String, Sendable, CaseIterable {
    /// In this process: exact and free, but each instance counts on its own.
    case memory
    /// In the database, leased in slices: one limit across every instance.
    case database
}

/// The SMS providers.
public enum SMSProviderKind: String, Sendable, CaseIterable {
    case log
    case twilio
    case twilioVerify = "twilio-verify"
    case webhook
}

/// The line-type lookup providers.
public enum LineTypeLookupKind: String, Sendable, CaseIterable {
    case offline
    case twilioLookup = "twilio-lookup"
}

/// Where the data lives.
public enum DatabaseLocation: Equatable, Sendable {
    /// An SQLite file.
    case sqliteFile(String)
    /// An SQLite database in memory, gone when the process ends (tests).
    case sqliteMemory
    /// A PostgreSQL server.
    case postgres(String)

    /// Where the data is, for messages: the file, or host, port and database without credentials.
    public var displayName: String {
        switch self {
        case .sqliteFile(let path): return path
        case .sqliteMemory: return "in memory"
        case .postgres(let url):
            guard let parts = URLComponents(string: url) else { return "at the configured URL" }
            return "postgres://\(parts.host ?? "localhost"):\(parts.port ?? 5432)\(parts.path)"
        }
    }

    /// Reads a database URL.
    public init(url: String) throws {
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            self = .postgres(url)
        } else if url == "sqlite::memory:" {
            self = .sqliteMemory
        } else if url.hasPrefix("sqlite://"), url.count > 9 {
            self = .sqliteFile(String(url.dropFirst(9)))
        } else if url.hasPrefix("sqlite:"), url.count > 7 {
            self = .sqliteFile(String(url.dropFirst(7)))
        } else {
            throw ConfigurationError(
                key: "database_url",
                message: "expected postgres://USER:PASSWORD@HOST:PORT/DATABASE, sqlite:PATH or sqlite::memory:")
        }
    }
}

/// A setting whose value cannot be used.
public struct ConfigurationError: Error, CustomStringConvertible {
    /// The setting's key, as in the config file.
    public var key: String
    /// What was expected.
    public var message: String

    public var description: String { "invalid setting '\(key)': \(message)" }
}
