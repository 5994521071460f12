import Foundation

/// One key's use in the hour the detector looks at, summed from the gateway's per-minute rows.
public struct KeyHourUsage: Equatable, Sendable {
    public var apiKeyID: APIKeyID
    public var organizationID: OrganizationID
    /// Calls in the hour.
    public var calls: Int
    /// Failed calls in the hour.
    public var errors: Int
    /// The start of the hour's first minute with a call.
    public var firstCallAt: Date
    /// Whether the key also made a call in the look-back before the hour (then it was not idle).
    public var calledBefore: Bool

    /// Creates a value.
    public init(
        apiKeyID: APIKeyID, organizationID: OrganizationID, calls: Int, errors: Int, firstCallAt: Date,
        calledBefore: Bool
    ) {
        self.apiKeyID = apiKeyID
        self.organizationID = organizationID
        self.calls = calls
        self.errors = errors
        self.firstCallAt = firstCallAt
        self.calledBefore = calledBefore
    }
}

/// A key's calls and failed calls over a stretch of time.
public struct KeyUsageTotals: Equatable, Sendable {
    public var calls: Int
    public var errors: Int

    /// Creates a value.
    public init(calls: Int, errors: Int) {
        self.calls = calls
        self.errors = errors
    }

    /// No use at all.
    public static let zero = KeyUsageTotals(calls: 0, errors: 0)
}

/// The per-key sums of the gateway's usage the detector reads, and the alerts it stores.
public protocol KeyAlertRepository: Sendable {
    /// Every key with a call in `start..<end`, with its calls, failed calls and first minute with
    /// a call there, and whether it made a call in `lookBack..<start`; in key order.
    func usage(from start: Date, until end: Date, lookingBackTo lookBack: Date) async throws -> [KeyHourUsage]

    /// The calls and failed calls of each of `keys` in `start..<end`; a key without any is absent.
    func totals(of keys: [APIKeyID], from start: Date, until end: Date) async throws -> [APIKeyID: KeyUsageTotals]

    /// The start of the key's last minute with a call before `date`, or `nil` if it made none.
    func lastCall(of key: APIKeyID, before date: Date) async throws -> Date?

    /// Stores `alert` unless the key has an alert of the same kind in the same window, or one
    /// created at or after `quietSince`; returns whether it stored it. Atomic against every
    /// instance: of instances raising the same kind for a key at once, in one window or on either
    /// side of a window's start, one stores it.
    func record(_ alert: KeyAlert, unlessRaisedSince quietSince: Date) async throws -> Bool

    /// The organization's alerts created at or after `since` (dismissed ones only when asked),
    /// newest first, at most `limit`, each with its key's current name and redacted form.
    func alerts(
        in organization: OrganizationID, since: Date, includeDismissed: Bool, limit: Int
    ) async throws -> [KeyAlert]

    /// One of the organization's alerts.
    func alert(_ id: KeyAlertID, in organization: OrganizationID) async throws -> KeyAlert?

    /// Marks the alert dismissed at `now` unless it already is; returns whether it did.
    func dismiss(_ id: KeyAlertID, in organization: OrganizationID, at now: Date) async throws -> Bool
}
