import Foundation
import KeywardenCore
import SQLKit

/// The ledger, saved cards, card setups and purchases in SQL. Whatever must happen once is one
/// conditional statement or one transaction: a purchase is credited in the transaction that
/// marks it succeeded, and the ledger refuses a second entry of a kind with the same reference.
public struct SQLBillingRepository: BillingRepository {
    let database: DatabaseClient

    /// Creates the repository over a database.
    public init(database: DatabaseClient) {
        self.database = database
    }

    // MARK: Accounts

    public func account(of organization: OrganizationID) async throws -> BillingAccount? {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT organization_id, customer_reference, auto_recharge_enabled, auto_recharge_threshold_micros,
                    auto_recharge_amount_micros, auto_recharge_monthly_cap_micros, first_payment_at
                FROM billing_accounts WHERE organization_id = \(bind: organization.rawValue)
                """
            ).first().map { try $0.billingAccount() }
        }
    }

    public func saveCustomer(_ reference: String, for organization: OrganizationID) async throws -> String {
        try await database.withConnection { db in
            try await Self.ensureAccount(organization, on: db)
            try await db.raw(
                """
                UPDATE billing_accounts SET customer_reference = \(bind: reference)
                WHERE organization_id = \(bind: organization.rawValue) AND customer_reference IS NULL
                """
            ).run()
            let row = try await db.raw(
                "SELECT customer_reference FROM billing_accounts WHERE organization_id = \(bind: organization.rawValue)"
            ).first()
            return try row?.decode(column: "customer_reference", as: String?.self) ?? reference
        }
    }

    public func setAutoRecharge(_ settings: AutoRecharge, for organization: OrganizationID) async throws {
        try await database.withConnection { db in
            try await Self.ensureAccount(organization, on: db)
            try await db.raw(
                """
                UPDATE billing_accounts SET auto_recharge_enabled = \(bind: settings.enabled ? 1 : 0),
                    auto_recharge_threshold_micros = \(bind: settings.thresholdMicros),
                    auto_recharge_amount_micros = \(bind: settings.amountMicros),
                    auto_recharge_monthly_cap_micros = \(bind: settings.monthlyCapMicros)
                WHERE organization_id = \(bind: organization.rawValue)
                """
            ).run()
        }
    }

    public func accountsBelowThreshold(
        defaults: AutoRecharge, enabledByDefault: Bool, limit: Int
    ) async throws
        -> [OrganizationID]
    {
        try await database.withConnection { db in
            // Own settings when set; the defaults (on after a first payment) otherwise.
            try await db.raw(
                """
                SELECT a.organization_id AS organization_id FROM billing_accounts a
                WHERE (a.auto_recharge_enabled = 1
                        OR (a.auto_recharge_enabled IS NULL AND \(bind: enabledByDefault ? 1 : 0) = 1
                            AND a.first_payment_at IS NOT NULL))
                  AND EXISTS (SELECT 1 FROM payment_methods m
                              WHERE m.organization_id = a.organization_id AND m.removed_at IS NULL)
                  AND NOT EXISTS (
                      SELECT 1 FROM credit_purchases p
                      WHERE p.organization_id = a.organization_id AND p.purchase_trigger = 'auto_recharge'
                        AND (p.status IN ('pending', 'requires_action')
                             OR (p.status = 'failed' AND p.created_at >= (
                                 SELECT MAX(m.created_at) FROM payment_methods m
                                 WHERE m.organization_id = a.organization_id AND m.removed_at IS NULL))))
                  AND COALESCE((SELECT SUM(l.amount_micros) FROM ledger_entries l
                                WHERE l.organization_id = a.organization_id), 0)
                      < COALESCE(a.auto_recharge_threshold_micros, \(bind: defaults.thresholdMicros))
                ORDER BY a.organization_id LIMIT \(literal: max(1, limit))
                """
            ).all().map { OrganizationID(unchecked: try $0.string("organization_id")) }
        }
    }

    static func ensureAccount(_ organization: OrganizationID, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO billing_accounts (organization_id) VALUES (\(bind: organization.rawValue))
            ON CONFLICT (organization_id) DO NOTHING
            """
        ).run()
    }

    // MARK: Setups and cards

    static let setupColumns = """
        id, organization_id, user_id, provider_reference, url, status, payment_method_id, failure_code, \
        failure_message, created_at, expires_at
        """

    public func createSetup(_ setup: BillingSetup) async throws {
        try await database.withConnection { db in
            try await db.raw(
                """
                INSERT INTO billing_setups (\(unsafeRaw: Self.setupColumns))
                VALUES (\(bind: setup.id.rawValue), \(bind: setup.organizationID.rawValue), \(bind: setup.userID.rawValue),
                        \(bind: setup.providerReference), \(bind: setup.url), \(bind: setup.status.rawValue),
                        \(bind: setup.paymentMethodID?.rawValue), \(bind: setup.failureCode), \(bind: setup.failureMessage),
                        \(bind: setup.createdAt.unixMilliseconds), \(bind: setup.expiresAt.unixMilliseconds))
                """
            ).run()
        }
    }

    public func setup(_ id: BillingSetupID, in organization: OrganizationID) async throws -> BillingSetup? {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT \(unsafeRaw: Self.setupColumns) FROM billing_setups
                WHERE id = \(bind: id.rawValue) AND organization_id = \(bind: organization.rawValue)
                """
            ).first().map { try $0.billingSetup() }
        }
    }

    public func setup(providerReference: String) async throws -> BillingSetup? {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT \(unsafeRaw: Self.setupColumns) FROM billing_setups
                WHERE provider_reference = \(bind: providerReference)
                """
            ).first().map { try $0.billingSetup() }
        }
    }

    public func openSetups(before: Date, limit: Int) async throws -> [BillingSetup] {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT \(unsafeRaw: Self.setupColumns) FROM billing_setups
                WHERE status = 'open' AND created_at < \(bind: before.unixMilliseconds)
                ORDER BY created_at, id LIMIT \(literal: max(1, limit))
                """
            ).all().map { try $0.billingSetup() }
        }
    }

    public func completeSetup(
        _ setup: BillingSetupID, with method: PaymentMethod, at now: Date, maxOrganizationsPerCard: Int
    ) async throws -> SetupCompletion {
        try await database.withTransaction { db in
            if database.backend == .postgres {
                // Two organizations saving one card at once are counted one after the other.
                try await db.raw("SELECT pg_advisory_xact_lock(hashtext(\(bind: method.fingerprintDigest)))").run()
            }
            guard
                let current = try await db.raw(
                    """
                    SELECT \(unsafeRaw: Self.setupColumns) FROM billing_setups WHERE id = \(bind: setup.rawValue)
                    \(unsafeRaw: database.backend == .postgres ? "FOR UPDATE" : "")
                    """
                ).first().map({ try $0.billingSetup() })
            else { return .alreadyEnded(BillingSetup.missing(setup, method)) }
            guard current.status == .open else { return .alreadyEnded(current) }
            let existing = try await db.raw(
                """
                SELECT \(unsafeRaw: Self.methodColumns) FROM payment_methods
                WHERE organization_id = \(bind: method.organizationID.rawValue)
                  AND fingerprint_digest = \(bind: method.fingerprintDigest) AND removed_at IS NULL
                """
            ).first().map { try $0.paymentMethod() }
            let saved: PaymentMethod
            if let existing {
                saved = existing
            } else {
                let others = try await Self.organizationsSharing(
                    method.fingerprintDigest, except: method.organizationID, on: db)
                guard others < maxOrganizationsPerCard else { return .cardLimitReached }
                try await db.raw(
                    """
                    INSERT INTO payment_methods (\(unsafeRaw: Self.methodColumns))
                    VALUES (\(bind: method.id.rawValue), \(bind: method.organizationID.rawValue),
                            \(bind: method.providerReference), \(bind: method.brand), \(bind: method.last4),
                            \(bind: Int64(method.expMonth)), \(bind: Int64(method.expYear)), \(bind: method.fingerprintDigest),
                            \(bind: method.createdAt.unixMilliseconds), NULL)
                    """
                ).run()
                saved = method
            }
            let completed =
                try await db.raw(
                    """
                    UPDATE billing_setups SET status = 'complete', payment_method_id = \(bind: saved.id.rawValue)
                    WHERE id = \(bind: setup.rawValue) AND status = 'open'
                    RETURNING id
                    """
                ).first() != nil
            guard completed else {
                throw StorageError.corruptRow("setup \(setup.rawValue) ended while its card was saved")
            }
            return .saved(saved)
        }
    }

    public func endSetup(
        _ setup: BillingSetupID, as status: BillingSetup.Status, code: String?, message: String?, at now: Date
    ) async throws -> Bool {
        try await database.withConnection { db in
            try await db.raw(
                """
                UPDATE billing_setups SET status = \(bind: status.rawValue), failure_code = \(bind: code),
                    failure_message = \(bind: message)
                WHERE id = \(bind: setup.rawValue) AND status = 'open'
                RETURNING id
                """
            ).first() != nil
        }
    }

    static let methodColumns = """
        id, organization_id, provider_reference, brand, last4, exp_month, exp_year, fingerprint_digest, created_at, \
        removed_at
        """

    public func paymentMethods(of organization: OrganizationID) async throws -> [PaymentMethod] {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT \(unsafeRaw: Self.methodColumns) FROM payment_methods
                WHERE organization_id = \(bind: organization.rawValue) AND removed_at IS NULL
                ORDER BY created_at, id
                """
            ).all().map { try $0.paymentMethod() }
        }
    }

    public func paymentMethod(_ id: PaymentMethodID, in organization: OrganizationID) async throws -> PaymentMethod? {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT \(unsafeRaw: Self.methodColumns) FROM payment_methods
                WHERE id = \(bind: id.rawValue) AND organization_id = \(bind: organization.rawValue)
                """
            ).first().map { try $0.paymentMethod() }
        }
    }

    public func removePaymentMethod(
        _ id: PaymentMethodID, in organization: OrganizationID, at now: Date
    ) async throws
        -> Bool
    {
        try await database.withConnection { db in
            try await db.raw(
                """
                UPDATE payment_methods SET removed_at = \(bind: now.unixMilliseconds)
                WHERE id = \(bind: id.rawValue) AND organization_id = \(bind: organization.rawValue)
                  AND removed_at IS NULL
                RETURNING id
                """
            ).first() != nil
        }
    }

    public func organizationsSharingCard(
        fingerprintDigest: String, except organization: OrganizationID
    ) async throws
        -> Int
    {
        try await database.withConnection { db in
            try await Self.organizationsSharing(fingerprintDigest, except: organization, on: db)
        }
    }

    static func organizationsSharing(
        _ digest: String, except organization: OrganizationID, on db: any SQLDatabase
    )
        async throws -> Int
    {
        let row = try await db.raw(
            """
            SELECT COUNT(DISTINCT organization_id) AS organizations FROM payment_methods
            WHERE fingerprint_digest = \(bind: digest) AND organization_id <> \(bind: organization.rawValue)
            """
        ).first()
        return Int(try row?.decode(column: "organizations", as: Int64.self) ?? 0)
    }

    // MARK: Purchases

    static let purchaseColumns = """
        id, organization_id, amount_micros, payment_method_id, purchase_trigger, status, provider_reference, \
        action_url, failure_message, idempotency_key, user_id, created_at, updated_at
        """

    public func createPurchase(_ purchase: CreditPurchase) async throws -> CreditPurchase {
        try await database.withConnection { db in
            // One statement: of two requests with one key, one stores its purchase and both answer it.
            try await db.raw(
                """
                INSERT INTO credit_purchases (\(unsafeRaw: Self.purchaseColumns))
                VALUES (\(bind: purchase.id.rawValue), \(bind: purchase.organizationID.rawValue),
                        \(bind: purchase.amountMicros), \(bind: purchase.paymentMethodID.rawValue),
                        \(bind: purchase.trigger.rawValue), \(bind: purchase.status.rawValue),
                        \(bind: purchase.providerReference), \(bind: purchase.actionURL), \(bind: purchase.failureMessage),
                        \(bind: purchase.idempotencyKey), \(bind: purchase.userID?.rawValue),
                        \(bind: purchase.createdAt.unixMilliseconds), \(bind: purchase.updatedAt.unixMilliseconds))
                ON CONFLICT (organization_id, idempotency_key) DO NOTHING
                """
            ).run()
            let stored: SQLRow?
            if let key = purchase.idempotencyKey {
                stored = try await db.raw(
                    """
                    SELECT \(unsafeRaw: Self.purchaseColumns) FROM credit_purchases
                    WHERE organization_id = \(bind: purchase.organizationID.rawValue) AND idempotency_key = \(bind: key)
                    """
                ).first()
            } else {
                stored = try await db.raw(
                    "SELECT \(unsafeRaw: Self.purchaseColumns) FROM credit_purchases WHERE id = \(bind: purchase.id.rawValue)"
                ).first()
            }
            guard let stored else { throw StorageError.corruptRow("a stored purchase could not be read back") }
            return try stored.creditPurchase()
        }
    }

    public func purchase(_ id: CreditPurchaseID, in organization: OrganizationID) async throws -> CreditPurchase? {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT \(unsafeRaw: Self.purchaseColumns) FROM credit_purchases
                WHERE id = \(bind: id.rawValue) AND organization_id = \(bind: organization.rawValue)
                """
            ).first().map { try $0.creditPurchase() }
        }
    }

    public func purchase(providerReference: String) async throws -> CreditPurchase? {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT \(unsafeRaw: Self.purchaseColumns) FROM credit_purchases
                WHERE provider_reference = \(bind: providerReference)
                """
            ).first().map { try $0.creditPurchase() }
        }
    }

    public func transition(
        _ purchase: CreditPurchaseID, to status: CreditPurchase.Status, providerReference: String?, actionURL: String?,
        failureMessage: String?, entry: LedgerEntry?, at now: Date
    ) async throws -> PurchaseTransition {
        try await database.withTransaction { db in
            let changed = try await db.raw(
                """
                UPDATE credit_purchases SET status = \(bind: status.rawValue),
                    provider_reference = COALESCE(\(bind: providerReference), provider_reference),
                    action_url = \(bind: actionURL), failure_message = \(bind: failureMessage),
                    updated_at = \(bind: now.unixMilliseconds)
                WHERE id = \(bind: purchase.rawValue) AND status IN ('pending', 'requires_action')
                RETURNING \(unsafeRaw: Self.purchaseColumns)
                """
            ).first().map { try $0.creditPurchase() }
            guard let changed else {
                guard
                    let current = try await db.raw(
                        "SELECT \(unsafeRaw: Self.purchaseColumns) FROM credit_purchases WHERE id = \(bind: purchase.rawValue)"
                    ).first().map({ try $0.creditPurchase() })
                else { throw StorageError.corruptRow("no purchase \(purchase.rawValue)") }
                return .unchanged(current)
            }
            if status == .succeeded, let entry {
                _ = try await Self.append(entry, on: db)
                try await Self.ensureAccount(changed.organizationID, on: db)
                try await db.raw(
                    """
                    UPDATE billing_accounts SET first_payment_at = \(bind: now.unixMilliseconds)
                    WHERE organization_id = \(bind: changed.organizationID.rawValue) AND first_payment_at IS NULL
                    """
                ).run()
            }
            return .changed(changed)
        }
    }

    public func unsettledPurchases(before: Date, limit: Int) async throws -> [CreditPurchase] {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT \(unsafeRaw: Self.purchaseColumns) FROM credit_purchases
                WHERE status IN ('pending', 'requires_action') AND updated_at < \(bind: before.unixMilliseconds)
                ORDER BY updated_at, id LIMIT \(literal: max(1, limit))
                """
            ).all().map { try $0.creditPurchase() }
        }
    }

    public func autoRechargeTotal(of organization: OrganizationID, since: Date) async throws -> Int64 {
        try await database.withConnection { db in
            let row = try await db.raw(
                """
                SELECT CAST(COALESCE(SUM(amount_micros), 0) AS BIGINT) AS total FROM credit_purchases
                WHERE organization_id = \(bind: organization.rawValue) AND purchase_trigger = 'auto_recharge'
                  AND status <> 'failed' AND created_at >= \(bind: since.unixMilliseconds)
                """
            ).first()
            return try row?.decode(column: "total", as: Int64.self) ?? 0
        }
    }

    public func latestAutoRecharge(of organization: OrganizationID) async throws -> CreditPurchase? {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT \(unsafeRaw: Self.purchaseColumns) FROM credit_purchases
                WHERE organization_id = \(bind: organization.rawValue) AND purchase_trigger = 'auto_recharge'
                ORDER BY created_at DESC, id DESC LIMIT 1
                """
            ).first().map { try $0.creditPurchase() }
        }
    }

    public func hasUnsettledAutoRecharge(_ organization: OrganizationID) async throws -> Bool {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT id FROM credit_purchases
                WHERE organization_id = \(bind: organization.rawValue) AND purchase_trigger = 'auto_recharge'
                  AND status IN ('pending', 'requires_action')
                LIMIT 1
                """
            ).first() != nil
        }
    }

    // MARK: Ledger

    public func append(_ entry: LedgerEntry) async throws -> Bool {
        try await database.withConnection { db in try await Self.append(entry, on: db) }
    }

    static func append(_ entry: LedgerEntry, on db: any SQLDatabase) async throws -> Bool {
        // Without a reference the entry stands alone; with one, (kind, reference) is unique.
        try await db.raw(
            """
            INSERT INTO ledger_entries (id, organization_id, kind, amount_micros, description, reference, created_at)
            VALUES (\(bind: entry.id.rawValue), \(bind: entry.organizationID.rawValue), \(bind: entry.kind.rawValue),
                    \(bind: entry.amountMicros), \(bind: entry.description), \(bind: entry.reference),
                    \(bind: entry.createdAt.unixMilliseconds))
            ON CONFLICT (kind, reference) DO NOTHING
            RETURNING id
            """
        ).first() != nil
    }

    public func balance(of organization: OrganizationID) async throws -> Int64 {
        try await database.withConnection { db in
            let row = try await db.raw(
                """
                SELECT CAST(COALESCE(SUM(amount_micros), 0) AS BIGINT) AS balance FROM ledger_entries
                WHERE organization_id = \(bind: organization.rawValue)
                """
            ).first()
            return try row?.decode(column: "balance", as: Int64.self) ?? 0
        }
    }

    public func totalPaid(by organization: OrganizationID) async throws -> Int64 {
        try await database.withConnection { db in
            let row = try await db.raw(
                """
                SELECT CAST(COALESCE(SUM(amount_micros), 0) AS BIGINT) AS paid FROM ledger_entries
                WHERE organization_id = \(bind: organization.rawValue) AND kind IN ('purchase', 'refund')
                """
            ).first()
            return try row?.decode(column: "paid", as: Int64.self) ?? 0
        }
    }

    public func firstPayment(of organization: OrganizationID) async throws -> Date? {
        try await database.withConnection { db in
            let row = try await db.raw(
                """
                SELECT MIN(created_at) AS first FROM ledger_entries
                WHERE organization_id = \(bind: organization.rawValue) AND kind = 'purchase'
                """
            ).first()
            return try row?.decode(column: "first", as: Int64?.self).map(Date.init(unixMilliseconds:))
        }
    }

    public func entries(
        of organization: OrganizationID, after: LedgerEntryID?, limit: Int
    ) async throws
        -> Page<LedgerEntry>
    {
        try await database.withConnection { db in
            let keyset = try await Keyset.after(
                after?.rawValue, in: "ledger_entries", organization: organization, timeColumn: "created_at",
                descending: true, db: db)
            let rows = try await db.raw(
                """
                SELECT id, organization_id, kind, amount_micros, description, reference, created_at FROM ledger_entries
                WHERE organization_id = \(bind: organization.rawValue) AND \(keyset.condition)
                \(keyset.orderAndLimit(limit))
                """
            ).all()
            return Keyset.page(try rows.map { try $0.ledgerEntry() }, limit: limit)
        }
    }

    // MARK: Webhooks

    public func hasEvent(provider: String, id: String) async throws -> Bool {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT event_id FROM payment_events WHERE provider = \(bind: provider) AND event_id = \(bind: id)
                """
            ).first() != nil
        }
    }

    public func recordEvent(provider: String, id: String, at now: Date) async throws -> Bool {
        try await database.withConnection { db in
            try await db.raw(
                """
                INSERT INTO payment_events (provider, event_id, handled_at)
                VALUES (\(bind: provider), \(bind: id), \(bind: now.unixMilliseconds))
                ON CONFLICT (provider, event_id) DO NOTHING
                RETURNING event_id
                """
            ).first() != nil
        }
    }
}

extension BillingSetup {
    /// A stand-in for a setup that is not stored, so completing it changes nothing.
    static func missing(_ id: BillingSetupID, _ method: PaymentMethod) -> BillingSetup {
        BillingSetup(
            id: id, organizationID: method.organizationID, userID: UserID(unchecked: ""), providerReference: "",
            url: "",
            status: .expired, createdAt: method.createdAt, expiresAt: method.createdAt)
    }
}

extension SQLRow {
    func billingAccount() throws -> BillingAccount {
        let enabled = try decode(column: "auto_recharge_enabled", as: Int64?.self)
        var autoRecharge: AutoRecharge?
        if let enabled, let threshold = try decode(column: "auto_recharge_threshold_micros", as: Int64?.self),
            let amount = try decode(column: "auto_recharge_amount_micros", as: Int64?.self),
            let cap = try decode(column: "auto_recharge_monthly_cap_micros", as: Int64?.self)
        {
            autoRecharge = AutoRecharge(
                enabled: enabled != 0, thresholdMicros: threshold, amountMicros: amount, monthlyCapMicros: cap)
        }
        return BillingAccount(
            organizationID: OrganizationID(unchecked: try string("organization_id")),
            customerReference: try decode(column: "customer_reference", as: String?.self), autoRecharge: autoRecharge,
            firstPaymentAt: try optionalDate("first_payment_at"))
    }

    func billingSetup() throws -> BillingSetup {
        let raw = try string("status")
        guard let status = BillingSetup.Status(rawValue: raw) else {
            throw StorageError.corruptRow("unknown setup status '\(raw)'")
        }
        return BillingSetup(
            id: BillingSetupID(unchecked: try string("id")),
            organizationID: OrganizationID(unchecked: try string("organization_id")),
            userID: UserID(unchecked: try string("user_id")), providerReference: try string("provider_reference"),
            url: try string("url"), status: status,
            paymentMethodID: try decode(column: "payment_method_id", as: String?.self).map(
                PaymentMethodID.init(unchecked:)),
            failureCode: try decode(column: "failure_code", as: String?.self),
            failureMessage: try decode(column: "failure_message", as: String?.self), createdAt: try date("created_at"),
            expiresAt: try date("expires_at"))
    }

    func paymentMethod() throws -> PaymentMethod {
        PaymentMethod(
            id: PaymentMethodID(unchecked: try string("id")),
            organizationID: OrganizationID(unchecked: try string("organization_id")),
            providerReference: try string("provider_reference"), brand: try string("brand"), last4: try string("last4"),
            expMonth: Int(try decode(column: "exp_month", as: Int64.self)),
            expYear: Int(try decode(column: "exp_year", as: Int64.self)),
            fingerprintDigest: try string("fingerprint_digest"), createdAt: try date("created_at"),
            removedAt: try optionalDate("removed_at"))
    }

    func creditPurchase() throws -> CreditPurchase {
        let rawStatus = try string("status")
        let rawTrigger = try string("purchase_trigger")
        guard let status = CreditPurchase.Status(rawValue: rawStatus),
            let trigger = CreditPurchase.Trigger(rawValue: rawTrigger)
        else { throw StorageError.corruptRow("unknown purchase status '\(rawStatus)' or trigger '\(rawTrigger)'") }
        return CreditPurchase(
            id: CreditPurchaseID(unchecked: try string("id")),
            organizationID: OrganizationID(unchecked: try string("organization_id")),
            amountMicros: try decode(column: "amount_micros", as: Int64.self),
            paymentMethodID: PaymentMethodID(unchecked: try string("payment_method_id")), trigger: trigger,
            status: status, providerReference: try decode(column: "provider_reference", as: String?.self),
            actionURL: try decode(column: "action_url", as: String?.self),
            failureMessage: try decode(column: "failure_message", as: String?.self),
            idempotencyKey: try decode(column: "idempotency_key", as: String?.self),
            userID: try decode(column: "user_id", as: String?.self).map(UserID.init(unchecked:)),
            createdAt: try date("created_at"), updatedAt: try date("updated_at"))
    }

    func ledgerEntry() throws -> LedgerEntry {
        let raw = try string("kind")
        guard let kind = LedgerEntry.Kind(rawValue: raw) else {
            throw StorageError.corruptRow("unknown ledger entry kind '\(raw)'")
        }
        return LedgerEntry(
            id: LedgerEntryID(unchecked: try string("id")),
            organizationID: OrganizationID(unchecked: try string("organization_id")), kind: kind,
            amountMicros: try decode(column: "amount_micros", as: Int64.self), description: try string("description"),
            reference: try decode(column: "reference", as: String?.self), createdAt: try date("created_at"))
    }
}
