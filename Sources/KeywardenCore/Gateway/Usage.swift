import Foundation
import Synchronization

/// What one key did in one minute.
public struct UsageRecord: Equatable, Sendable {
    public var apiKeyID: String
    public var projectID: String
    public var organizationID: String
    /// The start of the minute.
    public var minute: Date
    public var requests: Int
    /// Calls answered with a status of 400 or more (refusals by Keywarden included).
    public var errors: Int
    public var promptTokens: Int
    public var completionTokens: Int

    public init(
        apiKeyID: String, projectID: String, organizationID: String, minute: Date, requests: Int = 0, errors: Int = 0,
        promptTokens: Int = 0, completionTokens: Int = 0
    ) {
        self.apiKeyID = apiKeyID
        self.projectID = projectID
        self.organizationID = organizationID
        self.minute = minute
        self.requests = requests
        self.errors = errors
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }
}

/// Stored per-minute usage and the totals read back from it.
public protocol UsageRepository: Sendable {
    /// Adds each record's counts to the stored row for its key and minute, creating it if needed,
    /// all in one transaction.
    func add(_ records: [UsageRecord]) async throws

    /// Totals for `query`, one per bucket and group that has any use.
    func totals(_ query: UsageQuery) async throws -> [UsageTotal]
}

/// Which usage to total and how to cut it.
public struct UsageQuery: Equatable, Sendable {
    public var organizationID: String
    /// The first bucket's start (inclusive).
    public var start: Date
    /// The end of the range (exclusive).
    public var end: Date
    /// The bucket width in seconds (60, 3600 or 86400).
    public var bucketWidth: Int
    public var groupByProject: Bool
    public var groupByAPIKey: Bool
    /// Only these projects, when not empty.
    public var projectIDs: [String]
    /// Only these keys, when not empty.
    public var apiKeyIDs: [String]

    public init(
        organizationID: String, start: Date, end: Date, bucketWidth: Int, groupByProject: Bool = false,
        groupByAPIKey: Bool = false, projectIDs: [String] = [], apiKeyIDs: [String] = []
    ) {
        self.organizationID = organizationID
        self.start = start
        self.end = end
        self.bucketWidth = bucketWidth
        self.groupByProject = groupByProject
        self.groupByAPIKey = groupByAPIKey
        self.projectIDs = projectIDs
        self.apiKeyIDs = apiKeyIDs
    }
}

/// One bucket's (and group's) totals.
public struct UsageTotal: Equatable, Sendable {
    /// Which bucket: 0 starts at the query's start.
    public var bucket: Int
    /// Set when grouping by project.
    public var projectID: String?
    /// Set when grouping by key.
    public var apiKeyID: String?
    public var requests: Int
    public var errors: Int
    public var promptTokens: Int
    public var completionTokens: Int

    public init(
        bucket: Int, projectID: String? = nil, apiKeyID: String? = nil, requests: Int, errors: Int, promptTokens: Int,
        completionTokens: Int
    ) {
        self.bucket = bucket
        self.projectID = projectID
        self.apiKeyID = apiKeyID
        self.requests = requests
        self.errors = errors
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }
}

/// Counts calls per key and minute in memory; a background service drains it to storage in
/// batches, so metering never writes per request.
public final class UsageMeter: Sendable {
    struct Slot: Hashable {
        var apiKeyID: String
        var minute: Int64
    }

    private let pending = Mutex<[Slot: UsageRecord]>([:])

    /// Creates an empty meter.
    public init() {}

    /// Counts one finished call.
    public func record(
        apiKeyID: String, projectID: String, organizationID: String, at date: Date, failed: Bool, promptTokens: Int,
        completionTokens: Int
    ) {
        let minute = Int64(date.timeIntervalSince1970.rounded(.down)) / 60 * 60
        let slot = Slot(apiKeyID: apiKeyID, minute: minute)
        pending.withLock { pending in
            var record =
                pending[slot]
                ?? UsageRecord(
                    apiKeyID: apiKeyID, projectID: projectID, organizationID: organizationID,
                    minute: Date(timeIntervalSince1970: TimeInterval(minute)))
            record.requests += 1
            if failed { record.errors += 1 }
            record.promptTokens += promptTokens
            record.completionTokens += completionTokens
            pending[slot] = record
        }
    }

    /// Takes everything counted so far.
    public func drain() -> [UsageRecord] {
        pending.withLock { pending in
            let records = Array(pending.values)
            pending.removeAll(keepingCapacity: true)
            return records
        }
    }

    /// Puts back records a failed write could not store, adding to anything counted since.
    public func restore(_ records: [UsageRecord]) {
        pending.withLock { pending in
            for record in records {
                let slot = Slot(apiKeyID: record.apiKeyID, minute: Int64(record.minute.timeIntervalSince1970))
                if var existing = pending[slot] {
                    existing.requests += record.requests
                    existing.errors += record.errors
                    existing.promptTokens += record.promptTokens
                    existing.completionTokens += record.completionTokens
                    pending[slot] = existing
                } else {
                    pending[slot] = record
                }
            }
        }
    }

    /// Drains the meter into `repository`; on failure the records go back for the next try.
    public func flush(to repository: any UsageRepository) async throws {
        let records = drain()
        guard !records.isEmpty else { return }
        do {
            try await repository.add(records)
        } catch {
            restore(records)
            throw error
        }
    }
}
