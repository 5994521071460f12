/// One step of the schema. Steps are append-only: once released, a step never changes;
/// a change to the schema is a new step.
public struct Migration: Sendable {
    /// The step's number, starting at 1, in the order steps are applied.
    public var version: Int
    /// A short description.
    public var name: String
    /// The statements, run in one transaction. The same text runs on SQLite and PostgreSQL.
    /// Times are BIGINT Unix milliseconds; flags are BIGINT 0 or 1.
    public var statements: [String]

    /// Creates a step.
    public init(version: Int, name: String, statements: [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}

extension Migration {
    /// Every step, oldest first.
    public static let all: [Migration] = [
        Migration(
            version: 1, name: "accounts, organizations, projects, sessions, rate counters",
            statements: [
                """
                CREATE TABLE users (
                    id TEXT PRIMARY KEY,
                    email TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    password_hash TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE organizations (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    is_personal BIGINT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE organization_members (
                    organization_id TEXT NOT NULL REFERENCES organizations (id),
                    user_id TEXT NOT NULL REFERENCES users (id),
                    role TEXT NOT NULL,
                    added_at BIGINT NOT NULL,
                    PRIMARY KEY (organization_id, user_id)
                )
                """,
                "CREATE INDEX organization_members_by_user ON organization_members (user_id, added_at)",
                """
                CREATE TABLE projects (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations (id),
                    name TEXT NOT NULL,
                    is_default BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    archived_at BIGINT
                )
                """,
                "CREATE INDEX projects_by_organization ON projects (organization_id, created_at, id)",
                """
                CREATE TABLE sessions (
                    token_digest TEXT PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    user_id TEXT NOT NULL REFERENCES users (id),
                    created_at BIGINT NOT NULL,
                    last_seen_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL,
                    revoked_at BIGINT
                )
                """,
                """
                CREATE TABLE rate_counters (
                    bucket TEXT NOT NULL,
                    window_start BIGINT NOT NULL,
                    count BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL,
                    PRIMARY KEY (bucket, window_start)
                )
                """,
                "CREATE INDEX rate_counters_by_expiry ON rate_counters (expires_at)",
            ]),
        Migration(
            version: 2, name: "phone verification and the audit log",
            statements: [
                "ALTER TABLE organizations ADD COLUMN verification_status TEXT NOT NULL DEFAULT 'unverified'",
                "ALTER TABLE organizations ADD COLUMN verification_method TEXT",
                "ALTER TABLE organizations ADD COLUMN verified_at BIGINT",
                "ALTER TABLE organizations ADD COLUMN phone_digest TEXT",
                "ALTER TABLE organizations ADD COLUMN phone_country TEXT",
                "ALTER TABLE organizations ADD COLUMN phone_masked TEXT",
                "CREATE INDEX organizations_by_phone ON organizations (phone_digest)",
                """
                CREATE TABLE phone_verifications (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations (id),
                    user_id TEXT NOT NULL REFERENCES users (id),
                    phone_digest TEXT NOT NULL,
                    phone_number TEXT,
                    phone_masked TEXT NOT NULL,
                    country TEXT NOT NULL,
                    status TEXT NOT NULL,
                    code_digest TEXT,
                    sealed_code TEXT,
                    attempts BIGINT NOT NULL,
                    sends BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL,
                    last_sent_at BIGINT NOT NULL,
                    next_resend_at BIGINT NOT NULL,
                    approved_at BIGINT,
                    delivery TEXT,
                    provider_message_id TEXT
                )
                """,
                "CREATE INDEX phone_verifications_by_organization ON phone_verifications (organization_id, status)",
                "CREATE INDEX phone_verifications_by_expiry ON phone_verifications (status, expires_at)",
                "CREATE INDEX phone_verifications_by_message ON phone_verifications (provider_message_id)",
                """
                CREATE TABLE audit_logs (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations (id),
                    type TEXT NOT NULL,
                    effective_at BIGINT NOT NULL,
                    actor TEXT NOT NULL,
                    details TEXT NOT NULL
                )
                """,
                "CREATE INDEX audit_logs_by_organization ON audit_logs (organization_id, effective_at, id)",
            ]),
        Migration(
            version: 3, name: "API keys and service accounts",
            statements: [
                """
                CREATE TABLE service_accounts (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations (id),
                    project_id TEXT NOT NULL REFERENCES projects (id),
                    name TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY,
                    kind TEXT NOT NULL,
                    organization_id TEXT NOT NULL REFERENCES organizations (id),
                    project_id TEXT REFERENCES projects (id),
                    name TEXT NOT NULL,
                    owner_type TEXT NOT NULL,
                    owner_id TEXT NOT NULL,
                    permissions TEXT NOT NULL,
                    digest TEXT NOT NULL UNIQUE,
                    redacted_value TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    last_used_at BIGINT,
                    expires_at BIGINT,
                    revoked_at BIGINT,
                    legacy BIGINT NOT NULL,
                    rotated_from TEXT,
                    rotation_idempotency_key TEXT,
                    updated_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX api_keys_by_project ON api_keys (organization_id, project_id, created_at, id)",
                "CREATE INDEX api_keys_by_update ON api_keys (updated_at)",
                "CREATE UNIQUE INDEX api_keys_by_rotation ON api_keys (rotated_from, rotation_idempotency_key)",
            ]),
        Migration(
            version: 4, name: "rate-limit settings and per-minute usage",
            statements: [
                """
                CREATE TABLE organization_rate_limits (
                    organization_id TEXT PRIMARY KEY REFERENCES organizations (id),
                    tier TEXT,
                    updated_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE project_rate_limits (
                    project_id TEXT PRIMARY KEY REFERENCES projects (id),
                    organization_id TEXT NOT NULL REFERENCES organizations (id),
                    max_requests_per_1_minute BIGINT,
                    max_tokens_per_1_minute BIGINT,
                    updated_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE usage_minutes (
                    api_key_id TEXT NOT NULL,
                    minute_start BIGINT NOT NULL,
                    project_id TEXT NOT NULL,
                    organization_id TEXT NOT NULL,
                    requests BIGINT NOT NULL,
                    errors BIGINT NOT NULL,
                    prompt_tokens BIGINT NOT NULL,
                    completion_tokens BIGINT NOT NULL,
                    PRIMARY KEY (api_key_id, minute_start)
                )
                """,
                "CREATE INDEX usage_minutes_by_organization ON usage_minutes (organization_id, minute_start)",
            ]),
        Migration(
            version: 5, name: "shared rate-limit buckets",
            statements: [
                """
                CREATE TABLE rate_limit_buckets (
                    scope TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    available DOUBLE PRECISION NOT NULL,
                    updated_at BIGINT NOT NULL,
                    PRIMARY KEY (scope, resource)
                )
                """
            ]),
        Migration(
            // Pending numbers are sealed from now on; those stored in the clear by earlier
            // versions are erased, ending their verifications (a new code is one request away).
            version: 6, name: "sealed pending phone numbers",
            statements: [
                """
                UPDATE phone_verifications SET status = 'canceled', phone_number = NULL, sealed_code = NULL
                WHERE status = 'pending'
                """
            ]),
        Migration(
            // Accounts made before email confirmation existed count as confirmed.
            version: 7, name: "email confirmation",
            statements: [
                "ALTER TABLE users ADD COLUMN email_confirmed_at BIGINT",
                "UPDATE users SET email_confirmed_at = created_at",
            ]),
        Migration(
            // Single-use tokens mailed in links (kept only as SHA-256), and where each session
            // was started from, for the sessions list.
            version: 8, name: "account tokens and session origins",
            statements: [
                """
                CREATE TABLE account_tokens (
                    token_digest TEXT PRIMARY KEY,
                    purpose TEXT NOT NULL,
                    user_id TEXT NOT NULL REFERENCES users (id),
                    created_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL,
                    used_at BIGINT
                )
                """,
                "CREATE INDEX account_tokens_by_user ON account_tokens (user_id, purpose)",
                "ALTER TABLE sessions ADD COLUMN ip_address TEXT",
                "ALTER TABLE sessions ADD COLUMN user_agent TEXT",
                "CREATE INDEX sessions_by_user ON sessions (user_id, created_at)",
            ]),
        Migration(
            // Organization owners own every project without a row here; readers reach only the
            // projects they have one for. Invites keep their token only as a digest.
            version: 9, name: "project members and organization invites",
            statements: [
                """
                CREATE TABLE project_members (
                    project_id TEXT NOT NULL REFERENCES projects (id),
                    user_id TEXT NOT NULL REFERENCES users (id),
                    role TEXT NOT NULL,
                    added_at BIGINT NOT NULL,
                    PRIMARY KEY (project_id, user_id)
                )
                """,
                "CREATE INDEX project_members_by_user ON project_members (user_id)",
                """
                CREATE TABLE organization_invites (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations (id),
                    email TEXT NOT NULL,
                    role TEXT NOT NULL,
                    projects TEXT NOT NULL,
                    token_digest TEXT NOT NULL UNIQUE,
                    invited_by TEXT NOT NULL REFERENCES users (id),
                    invited_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL,
                    accepted_at BIGINT,
                    revoked_at BIGINT
                )
                """,
                "CREATE INDEX invites_by_organization ON organization_invites (organization_id, invited_at, id)",
                "CREATE INDEX invites_by_email ON organization_invites (organization_id, email)",
            ]),
        Migration(
            // A session remembers when the person last proved it was them, for step-up; sessions
            // from before count from their start. Authenticator secrets are stored sealed, recovery
            // codes as HMACs.
            version: 10, name: "two-factor authentication and step-up",
            statements: [
                "ALTER TABLE sessions ADD COLUMN authenticated_at BIGINT",
                "UPDATE sessions SET authenticated_at = created_at",
                """
                CREATE TABLE totp_credentials (
                    user_id TEXT PRIMARY KEY REFERENCES users (id),
                    sealed_secret TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    confirmed_at BIGINT,
                    last_used_step BIGINT
                )
                """,
                """
                CREATE TABLE recovery_codes (
                    user_id TEXT NOT NULL REFERENCES users (id),
                    code_digest TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    used_at BIGINT,
                    PRIMARY KEY (user_id, code_digest)
                )
                """,
            ]),
        Migration(
            // Billing: the ledger is only ever appended to, and a (kind, reference) pair appears once,
            // so a purchase is credited once however its news arrives. Card fingerprints are kept
            // only as HMACs. A phone verification remembers the way the person came.
            version: 11, name: "billing ledger, cards and purchases",
            statements: [
                "ALTER TABLE phone_verifications ADD COLUMN path TEXT",
                """
                CREATE TABLE billing_accounts (
                    organization_id TEXT PRIMARY KEY REFERENCES organizations (id),
                    customer_reference TEXT,
                    auto_recharge_enabled BIGINT,
                    auto_recharge_threshold_micros BIGINT,
                    auto_recharge_amount_micros BIGINT,
                    auto_recharge_monthly_cap_micros BIGINT,
                    first_payment_at BIGINT
                )
                """,
                """
                CREATE TABLE payment_methods (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations (id),
                    provider_reference TEXT NOT NULL,
                    brand TEXT NOT NULL,
                    last4 TEXT NOT NULL,
                    exp_month INTEGER NOT NULL,
                    exp_year INTEGER NOT NULL,
                    fingerprint_digest TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    removed_at BIGINT
                )
                """,
                "CREATE INDEX payment_methods_by_organization ON payment_methods (organization_id, created_at)",
                "CREATE INDEX payment_methods_by_fingerprint ON payment_methods (fingerprint_digest, organization_id)",
                """
                CREATE TABLE billing_setups (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations (id),
                    user_id TEXT NOT NULL REFERENCES users (id),
                    provider_reference TEXT NOT NULL UNIQUE,
                    url TEXT NOT NULL,
                    status TEXT NOT NULL,
                    payment_method_id TEXT,
                    failure_code TEXT,
                    failure_message TEXT,
                    created_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX billing_setups_open ON billing_setups (status, created_at)",
                """
                CREATE TABLE credit_purchases (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations (id),
                    amount_micros BIGINT NOT NULL,
                    payment_method_id TEXT NOT NULL REFERENCES payment_methods (id),
                    purchase_trigger TEXT NOT NULL,
                    status TEXT NOT NULL,
                    provider_reference TEXT UNIQUE,
                    action_url TEXT,
                    failure_message TEXT,
                    idempotency_key TEXT,
                    user_id TEXT,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    UNIQUE (organization_id, idempotency_key)
                )
                """,
                "CREATE INDEX credit_purchases_unsettled ON credit_purchases (status, updated_at)",
                // One automatic purchase under way per organization, however many instances sweep.
                """
                CREATE UNIQUE INDEX credit_purchases_one_auto_recharge ON credit_purchases (organization_id)
                WHERE purchase_trigger = 'auto_recharge' AND status IN ('pending', 'requires_action')
                """,
                "CREATE INDEX credit_purchases_by_organization ON credit_purchases (organization_id, purchase_trigger, created_at)",
                """
                CREATE TABLE ledger_entries (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations (id),
                    kind TEXT NOT NULL,
                    amount_micros BIGINT NOT NULL,
                    description TEXT NOT NULL,
                    reference TEXT,
                    created_at BIGINT NOT NULL,
                    UNIQUE (kind, reference)
                )
                """,
                "CREATE INDEX ledger_entries_by_organization ON ledger_entries (organization_id, created_at, id)",
                """
                CREATE TABLE payment_events (
                    provider TEXT NOT NULL,
                    event_id TEXT NOT NULL,
                    handled_at BIGINT NOT NULL,
                    PRIMARY KEY (provider, event_id)
                )
                """,
            ]),
        Migration(
            version: 12, name: "usage by model with its cost, spend budgets and leases",
            statements: [
                """
                CREATE TABLE usage_rows (
                    api_key_id TEXT NOT NULL,
                    minute_start BIGINT NOT NULL,
                    category TEXT NOT NULL,
                    model TEXT NOT NULL,
                    project_id TEXT NOT NULL,
                    organization_id TEXT NOT NULL,
                    requests BIGINT NOT NULL,
                    errors BIGINT NOT NULL,
                    prompt_tokens BIGINT NOT NULL,
                    completion_tokens BIGINT NOT NULL,
                    input_cost_nanos BIGINT NOT NULL,
                    output_cost_nanos BIGINT NOT NULL,
                    PRIMARY KEY (api_key_id, minute_start, category, model)
                )
                """,
                """
                INSERT INTO usage_rows
                SELECT api_key_id, minute_start, 'completions', '', project_id, organization_id, requests, errors,
                    prompt_tokens, completion_tokens, 0, 0
                FROM usage_minutes
                """,
                "DROP TABLE usage_minutes",
                "ALTER TABLE usage_rows RENAME TO usage_minutes",
                "CREATE INDEX usage_minutes_by_organization ON usage_minutes (organization_id, minute_start)",
                "CREATE INDEX usage_minutes_by_project ON usage_minutes (project_id, minute_start)",
                """
                CREATE TABLE spend_budgets (
                    scope TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations (id),
                    project_id TEXT,
                    monthly_budget_micros BIGINT NOT NULL,
                    hard_limit BIGINT NOT NULL,
                    alert_percents TEXT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX spend_budgets_by_organization ON spend_budgets (organization_id)",
                """
                CREATE TABLE spend_alerts (
                    scope TEXT NOT NULL,
                    month BIGINT NOT NULL,
                    percent BIGINT NOT NULL,
                    sent_at BIGINT NOT NULL,
                    PRIMARY KEY (scope, month, percent)
                )
                """,
                // What each organization and project spent per UTC month, added to with the usage.
                """
                CREATE TABLE spend_months (
                    scope TEXT NOT NULL,
                    month BIGINT NOT NULL,
                    nanos BIGINT NOT NULL,
                    PRIMARY KEY (scope, month)
                )
                """,
                """
                CREATE TABLE spend_leases (
                    scope TEXT NOT NULL,
                    holder TEXT NOT NULL,
                    remaining_nanos BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL,
                    PRIMARY KEY (scope, holder)
                )
                """,
            ]),
        Migration(
            // Operators and the console: support requests (one open per organization), suspension,
            // who granted an exemption, the channel a code went by, the prefix guard's rules and
            // pauses, verification counts per hour (`hour_start` in Unix milliseconds, like every
            // time here), and the console's own audit events, which belong to no organization.
            version: 13, name: "operator console, support requests, suspension and the prefix guard",
            statements: [
                """
                CREATE TABLE operators (
                    user_id TEXT PRIMARY KEY REFERENCES users (id),
                    granted_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE support_requests (
                    id TEXT PRIMARY KEY,
                    organization_id TEXT NOT NULL REFERENCES organizations (id),
                    user_id TEXT NOT NULL REFERENCES users (id),
                    email TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    details TEXT NOT NULL,
                    status TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    decided_at BIGINT,
                    decided_by TEXT,
                    decline_reason TEXT
                )
                """,
                // The arbiter between two owners filing at once: one open request per organization.
                "CREATE UNIQUE INDEX support_requests_one_open ON support_requests (organization_id) WHERE status = 'open'",
                "CREATE INDEX support_requests_by_organization ON support_requests (organization_id, created_at, id)",
                "CREATE INDEX support_requests_queue ON support_requests (status, created_at, id)",
                "ALTER TABLE organizations ADD COLUMN suspended_at BIGINT",
                "ALTER TABLE organizations ADD COLUMN suspension_reason TEXT",
                "ALTER TABLE organizations ADD COLUMN verified_by TEXT",
                "CREATE INDEX organizations_suspended ON organizations (suspended_at) WHERE suspended_at IS NOT NULL",
                "CREATE INDEX organizations_by_creation ON organizations (created_at, id)",
                "ALTER TABLE phone_verifications ADD COLUMN channel TEXT NOT NULL DEFAULT 'sms'",
                """
                CREATE TABLE prefix_rules (
                    prefix TEXT PRIMARY KEY,
                    kind TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    created_by TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE prefix_pauses (
                    prefix TEXT PRIMARY KEY,
                    reason TEXT NOT NULL,
                    paused_at BIGINT NOT NULL,
                    until BIGINT NOT NULL,
                    lifted_at BIGINT,
                    lifted_by TEXT
                )
                """,
                "CREATE INDEX prefix_pauses_by_end ON prefix_pauses (until)",
                """
                CREATE TABLE verification_stats (
                    hour_start BIGINT NOT NULL,
                    country TEXT NOT NULL,
                    event TEXT NOT NULL,
                    count BIGINT NOT NULL,
                    PRIMARY KEY (hour_start, country, event)
                )
                """,
                """
                CREATE TABLE console_events (
                    id TEXT PRIMARY KEY,
                    type TEXT NOT NULL,
                    effective_at BIGINT NOT NULL,
                    actor TEXT NOT NULL,
                    details TEXT NOT NULL
                )
                """,
                "CREATE INDEX console_events_by_time ON console_events (effective_at, id)",
                // The console lists every organization's events by time.
                "CREATE INDEX audit_logs_by_time ON audit_logs (effective_at, id)",
            ]),
        Migration(
            // Key controls: a key can be disabled for a while (`disabled_at`, NULL while enabled)
            // and limited to client addresses (`allowed_ips`: normalised CIDR ranges separated
            // by commas, empty for any address, as every existing key is).
            version: 14, name: "disabled keys and allowed IP ranges",
            statements: [
                "ALTER TABLE api_keys ADD COLUMN disabled_at BIGINT",
                "ALTER TABLE api_keys ADD COLUMN allowed_ips TEXT NOT NULL DEFAULT ''",
            ]),
        Migration(
            // Usage-anomaly alerts: at most one per key and kind within an alert window's length.
            // `key_alert_raises` holds when each key last raised each kind, and one conditional
            // statement on its row decides between instances, in one window or on either side of
            // a window's start. The detector reads the last hours of usage by time.
            version: 15, name: "usage-anomaly alerts per API key",
            statements: [
                """
                CREATE TABLE key_alerts (
                    id TEXT PRIMARY KEY,
                    api_key_id TEXT NOT NULL REFERENCES api_keys (id),
                    organization_id TEXT NOT NULL REFERENCES organizations (id),
                    project_id TEXT,
                    kind TEXT NOT NULL,
                    window_start BIGINT NOT NULL,
                    observed BIGINT NOT NULL,
                    baseline BIGINT NOT NULL,
                    idle_since BIGINT,
                    created_at BIGINT NOT NULL,
                    dismissed_at BIGINT
                )
                """,
                "CREATE UNIQUE INDEX key_alerts_one_per_window ON key_alerts (api_key_id, kind, window_start)",
                "CREATE INDEX key_alerts_by_organization ON key_alerts (organization_id, created_at, id)",
                """
                CREATE TABLE key_alert_raises (
                    api_key_id TEXT NOT NULL REFERENCES api_keys (id),
                    kind TEXT NOT NULL,
                    raised_at BIGINT NOT NULL,
                    PRIMARY KEY (api_key_id, kind)
                )
                """,
                "CREATE INDEX usage_minutes_by_minute ON usage_minutes (minute_start)",
            ]),
    ]
}
