extension Setting {
    /// What the setting does, for `serve --help`.
    public var summary: String {
        switch self {
        case .host: "address to listen on"
        case .port: "port to listen on"
        case .dataDirectory: "directory for the SQLite file and generated secret"
        case .databaseURL: "postgres://..., sqlite:PATH or sqlite::memory: (default: SQLite file in the data dir)"
        case .secret: "server secret, 32+ characters (environment or config file only)"
        case .migrate: "apply pending PostgreSQL migrations on start: true/false"
        case .httpHeaderTimeout: "seconds a new connection has to send its first request head"
        case .httpIdleTimeout: "seconds a connection may stay idle before it is closed"
        case .maxConnections: "connections held open at once; more wait to be accepted"
        case .shutdownTimeout: "seconds requests in flight get to finish after SIGTERM or SIGINT"
        case .usageFlushInterval: "seconds between writes of gateway usage; a crash loses at most this much"
        case .bcryptCost: "bcrypt cost for password hashes, 4-31"
        case .logLevel: "trace, debug, info, notice, warning, error, critical"
        case .logFormat: "text, or json: one JSON object a line with time, level, message, request_id and fields"
        case .accessLog:
            "where the line per request goes: stdout (with the log), off, or a file path (rotated by size)"
        case .accessLogMaxBytes: "size at which the access log file is rotated to NAME.1, 1 MiB-100 GiB"
        case .accessLogFiles: "rotated access log files kept (NAME.1 ... NAME.N), 1-100"
        case .metricsHost: "address the Prometheus metrics listener binds"
        case .metricsPort: "port of the Prometheus metrics listener, GET /metrics (default: off; never the public port)"
        case .sessionIdleTimeout: "seconds of inactivity that end a session"
        case .sessionLifetime: "seconds after sign-in that end a session"
        case .loginAttemptsPerAccount: "failed sign-ins per email per 15 minutes"
        case .loginAttemptsPerAddress: "failed sign-ins per client address per 15 minutes"
        case .inviteLifetime: "seconds an invite's emailed link stays usable"
        case .requireEmailConfirmation: "phone verification and key creation wait for a confirmed email: true/false"
        case .signupsPerAddressPerHour: "sign-ups per client address per hour"
        case .stepUpWindow: "seconds a sign-in allows sensitive actions before the password or a code is asked again"
        case .refusedEmailDomains: "comma-separated email domains (and their subdomains) sign-up refuses"
        case .captchaProvider: "turnstile or hcaptcha: a CAPTCHA on sign-up and phone verification (default: none)"
        case .captchaSecret: "the CAPTCHA provider's secret key (environment or config file only)"
        case .captchaSiteKey: "the CAPTCHA provider's site key, shown in the widget"
        case .captchaVerifyURL: "the CAPTCHA provider's siteverify URL (default: the provider's own)"
        case .paymentProvider: "test (a built-in test checkout, no real money) or stripe"
        case .stripeSecretKey: "Stripe's secret key, sk_... (environment or config file only)"
        case .stripeWebhookSecret:
            "the signing secret of the Stripe webhook to /v1/webhooks/stripe, whsec_... (environment or config file only)"
        case .stripeAPIBaseURL: "Stripe's API base URL"
        case .billingCurrency: "the ISO 4217 currency everything is billed in"
        case .maxOrganizationsPerCard: "organizations one card may pay for"
        case .creditPurchaseMinimum: "the smallest credit purchase, in cents (the currency's minor unit)"
        case .creditPurchaseDefault: "the credit purchase offered first, in cents"
        case .creditPurchaseMaximum: "the largest credit purchase, in cents"
        case .autoRechargeThreshold: "auto-recharge buys credit when the balance falls below this many cents"
        case .autoRechargeAmount: "cents each automatic purchase buys"
        case .autoRechargeMonthlyCap: "cents automatic purchases may buy in a month"
        case .enforcementDate: "ISO 8601 instant from which new keys need verification"
        case .verificationScope: "organization or user: whose verification lets keys be created"
        case .keyStem: "the stem of key prefixes, letters and digits"
        case .operatorToken: "token for POST and GET /v1/keys/verify, 32+ characters (environment or config file only)"
        case .githubSecretScanningKeysURL:
            "where the keys that sign GitHub's secret-scanning reports to /v1/secret-scanning/github are fetched"
        case .upstreamURL:
            "where /v1/* calls go: echo (development upstream) or a base URL (default: gateway off)"
        case .upstreamAuthorization:
            "Authorization header sent upstream instead of the caller's key (environment or config file only)"
        case .upstreamConnectTimeout: "seconds to connect to the upstream"
        case .upstreamReadTimeout: "seconds the upstream may stay silent, between streamed chunks too"
        case .upstreamMaxConnections: "connections kept open to the upstream"
        case .gatewayMaxRequestBytes: "largest request body of a gateway call, in bytes"
        case .usageTiers:
            "tiers in order: 'name: paid=AMOUNT|pinned [days=N] monthly=AMOUNT|none rpm=N tpm=N [project_rpm= project_tpm= key_rpm= key_tpm=]; ...'"
        case .modelPrices:
            "prices per million tokens: 'MODEL: input=PRICE output=PRICE; ...', 'default' for unlisted models (default: none, calls cost nothing)"
        case .spendSlice:
            "cents of remaining spend each instance leases at a time (the most a limit is overspent per instance)"
        case .rateLimitTiers:
            "older form of usage_tiers, rate limits only: 'name: rpm=N tpm=N [project_rpm= project_tpm= key_rpm= key_tpm=]; ...'"
        case .rateLimitDefaultTier: "with rate_limit_tiers: the tier of organizations without one (default: the first)"
        case .rateLimitStore:
            "memory (each instance counts alone) or database (instances share limits; default on PostgreSQL)"
        case .smsProvider: "log (development), twilio, twilio-verify or webhook"
        case .smsPrices:
            "what one text message costs per country, for the console's spend estimate: 'US=0.0079 GB=0.04 default=0.05' (default: none)"
        case .lineTypeLookup: "offline or twilio-lookup"
        case .publicURL: "the server's public base URL, for Twilio delivery reports"
        case .twilioAccountSID: "Twilio account SID"
        case .twilioAuthToken: "Twilio auth token (environment or config file only)"
        case .twilioFrom: "Twilio sending number, E.164"
        case .twilioWhatsAppFrom:
            "Twilio WhatsApp sender, E.164, for codes by WhatsApp from a number (default: twilio_from)"
        case .twilioWhatsAppContentSID:
            "approved WhatsApp template (HX...) codes are sent with, its variable 1 the code; needed for whatsapp_countries with sms_provider twilio"
        case .twilioMessagingServiceSID: "Twilio messaging service SID (instead of twilio_from)"
        case .twilioVerifyServiceSID: "Twilio Verify service SID, for sms_provider twilio-verify"
        case .twilioAPIBaseURL: "Twilio Messaging base URL"
        case .twilioVerifyBaseURL: "Twilio Verify base URL"
        case .twilioLookupBaseURL: "Twilio Lookup base URL"
        case .smsWebhookURL: "endpoint the webhook provider posts {to, body, verification_id, channel} to"
        case .smsWebhookSecret: "HMAC-SHA256 key for the webhook provider's Keywarden-Signature header"
        case .verificationCodeLifetime: "seconds a code lives"
        case .verificationMaxChecks: "checks allowed per code"
        case .verificationResendCooldown: "seconds before the first resend, doubling after"
        case .maxOrganizationsPerPhone: "organizations one number may verify"
        case .allowedCountries: "comma-separated ISO codes numbers may come from (default: all)"
        case .whatsappCountries:
            "comma- or space-separated ISO codes whose numbers may get their code by WhatsApp (default: none)"
        case .blockedLineTypes: "comma-separated line types refused"
        case .smsSendsPerNumberPer10Minutes: "codes sent to one number per 10 minutes"
        case .smsSendsPerNumberPerDay: "codes sent to one number per day"
        case .smsSendsPerOrganizationPerDay: "codes sent for one organization per day"
        case .smsSendsPerAddressPerHour: "codes requested from one client address per hour"
        case .emailProvider: "log (development: server log + <data-dir>/email-outbox.jsonl) or smtp"
        case .emailFrom: "the From of every email: an address, or a display name and an address"
        case .smtpHost: "the SMTP server's host name or IP address, for email_provider smtp"
        case .smtpPort: "the SMTP server's port, 1-65535 (465 is usual for smtp_security tls)"
        case .smtpSecurity: "starttls, tls (TLS from the first byte) or none (plain text, loopback smtp_host only)"
        case .smtpUsername: "SMTP AUTH user name, with smtp_password"
        case .smtpPassword: "SMTP AUTH password (environment or config file only)"
        case .smtpCAFile: "PEM file of root certificates trusted besides the system's, for the SMTP server"
        case .smtpTimeout: "seconds to connect to the SMTP server and for each of its replies, 1-300"
        case .anomalyAlerts: "mail owners about unusual use of their API keys: true/false"
        case .anomalyCallFactor: "a key's calls in an hour at this many times its usual hour are unusual, 2-10000"
        case .anomalyMinCalls: "the fewest calls in an hour that can be unusual, 1-1000000000"
        case .anomalyErrorFactor:
            "a key's failed calls in an hour at this many times its usual hour are unusual, 2-10000"
        case .anomalyMinErrors: "the fewest failed calls in an hour that can be unusual, 1-1000000000"
        case .anomalyIdleDays: "a call after this many days without one is unusual, 1-3650"
        case .anomalyAlertWindow: "seconds in which at most one alert per key and kind is sent, 3600-2592000"
        }
    }

    /// One line of `serve --help`: key, environment variable, summary and default.
    public var helpLine: String {
        "  \(key), \(environmentVariable): \(summary)" + (defaultValue.map { " (default \($0))" } ?? "")
    }
}
