import Foundation
import Synchronization

/// What kind of call a usage row counts: model calls by the resource they reach, and
/// everything else apart, so completions usage holds only completions.
public enum UsageCategory: String, Sendable, CaseIterable, Codable {
    /// `/v1/chat/completions`, `/v1/completions` and `/v1/responses`.
    case completions
    case embeddings
    case moderations
    case images
    case audio
    /// Every other gateway path (`/v1/models`, files, ...): counted, never priced.
    case other

    /// The category of a call to `/v1/<resource>/...`.
    public init(resource: String) {
        switch resource {
        case "chat", "completions", "responses": self = .completions
        case "embeddings": self = .embeddings
        case "moderations": self = .moderations
        case "images": self = .images
        case "audio": self = .audio
        default: self = .other
        }
    }

    /// Whether calls of this category reach a model and are priced.
    public var isModelCall: Bool { self != .other }

    /// The category of a POST to `/v1/` + `segments`: a model call only where the POST creates
    /// one (`chat/completions`, `responses`, `images/generations`, `audio/speech`, ...), not one
    /// that reads, updates or cancels a stored one (`chat/completions/{id}`,
    /// `responses/{id}/cancel`).
    public init(creating segments: ArraySlice<String>) {
        let category = UsageCategory(resource: segments.first ?? "")
        let depth =
            switch category {
            case .completions: segments.first == "chat" ? 2 : 1
            case .images, .audio: 2
            case .embeddings, .moderations: 1
            case .other: 0
            }
        self = segments.count == depth ? category : .other
    }

    /// Whether an answer of this category that reports no usage is text a token estimate fits.
    public var isText: Bool { self == .completions || self == .embeddings || self == .moderations }
}

/// What one key did in one minute with one model.
public struct UsageRecord: Equatable, Sendable {
    public var apiKeyID: String
    public var projectID: String
    public var organizationID: String
    /// The start of the minute.
    public var minute: Date
    public var category: UsageCategory
    /// The model the answer named (or the request asked for); empty when neither did.
    public var model: String
    public var requests: Int
    /// Calls answered with a status of 400 or more (refusals by Keywarden included).
    public var errors: Int
    public var promptTokens: Int
    public var completionTokens: Int
    /// What the input tokens cost, in nano-units (thousandths of a micro-unit).
    public var inputCostNanos: Int64
    /// What the output tokens cost, in nano-units.
    public var outputCostNanos: Int64

    public init(
        apiKeyID: String, projectID: String, organizationID: String, minute: Date,
        category: UsageCategory = .completions, model: String = "", requests: Int = 0, errors: Int = 0,
        promptTokens: Int = 0, completionTokens: Int = 0, inputCostNanos: Int64 = 0, outputCostNanos: Int64 = 0
    ) {
        self.apiKeyID = apiKeyID
        self.projectID = projectID
        self.organizationID = organizationID
        self.minute = minute
        self.category = category
        self.model = model
        self.requests = requests
        self.errors = errors
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.inputCostNanos = inputCostNanos
        self.outputCostNanos = outputCostNanos
    }

    /// What the row cost, in nano-units.
    public var costNanos: Int64 { inputCostNanos.addingSaturated(outputCostNanos) }

    /// Adds another record's counts to this one's.
    mutating func add(_ other: UsageRecord) {
        requests += other.requests
        errors += other.errors
        promptTokens += other.promptTokens
        completionTokens += other.completionTokens
        inputCostNanos = inputCostNanos.addingSaturated(other.inputCostNanos)
        outputCostNanos = outputCostNanos.addingSaturated(other.outputCostNanos)
    }
}

/// A day's usage taken out of an organization's credit balance: one ledger entry per
/// organization and UTC day, added to by every write of usage that day.
public struct UsageDebit: Equatable, Sendable {
    public var organizationID: String
    /// Midnight UTC of the day the usage happened.
    public var day: Date
    /// What to take out, in micro-units (positive).
    public var micros: Int64

    public init(organizationID: String, day: Date, micros: Int64) {
        self.organizationID = organizationID
        self.day = day
        self.micros = micros
    }

    /// The ledger entry's reference: one per organization and day.
    public var reference: String {
        "usage:\(organizationID):\(Int64(day.timeIntervalSince1970) / 86_400)"
    }
}

/// One write of metered usage: the rows, the debits they make, and whose spend leases they
/// settle.
public struct UsageBatch: Equatable, Sendable {
    public var records: [UsageRecord]
    public var debits: [UsageDebit]
    /// The instance whose spend leases the records' costs are taken from, if it holds any.
    public var leaseHolder: String?

    public init(records: [UsageRecord], debits: [UsageDebit] = [], leaseHolder: String? = nil) {
        self.records = records
        self.debits = debits
        self.leaseHolder = leaseHolder
    }
}

/// Stored per-minute usage and the totals read back from it.
public protocol UsageRepository: Sendable {
    /// Adds each record's counts to the stored row for its key, minute, category and model
    /// (creating it if needed), takes the batch's debits from the credit balance, and settles
    /// its costs against the holder's spend leases, all in one transaction.
    func add(_ batch: UsageBatch) async throws

    /// Totals for `query`, one per bucket and group that has any use.
    func totals(_ query: UsageQuery) async throws -> [UsageTotal]
}

extension UsageRepository {
    /// Adds records that cost nothing to take out of a balance.
    public func add(_ records: [UsageRecord]) async throws {
        try await add(UsageBatch(records: records))
    }
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
    public var groupByModel: Bool
    /// Only these projects, when not empty.
    public var projectIDs: [String]
    /// Only these keys, when not empty.
    public var apiKeyIDs: [String]
    /// Only these models, when not empty.
    public var models: [String]
    /// Only these categories, when not empty.
    public var categories: [UsageCategory]

    public init(
        organizationID: String, start: Date, end: Date, bucketWidth: Int, groupByProject: Bool = false,
        groupByAPIKey: Bool = false, groupByModel: Bool = false, projectIDs: [String] = [], apiKeyIDs: [String] = [],
        models: [String] = [], categories: [UsageCategory] = []
    ) {
        self.organizationID = organizationID
        self.start = start
        self.end = end
        self.bucketWidth = bucketWidth
        self.groupByProject = groupByProject
        self.groupByAPIKey = groupByAPIKey
        self.groupByModel = groupByModel
        self.projectIDs = projectIDs
        self.apiKeyIDs = apiKeyIDs
        self.models = models
        self.categories = categories
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
    /// Set when grouping by model (empty for calls that named none).
    public var model: String?
    public var requests: Int
    public var errors: Int
    public var promptTokens: Int
    public var completionTokens: Int
    /// What the input tokens cost, in nano-units.
    public var inputCostNanos: Int64
    /// What the output tokens cost, in nano-units.
    public var outputCostNanos: Int64

    public init(
        bucket: Int, projectID: String? = nil, apiKeyID: String? = nil, model: String? = nil, requests: Int,
        errors: Int, promptTokens: Int, completionTokens: Int, inputCostNanos: Int64 = 0, outputCostNanos: Int64 = 0
    ) {
        self.bucket = bucket
        self.projectID = projectID
        self.apiKeyID = apiKeyID
        self.model = model
        self.requests = requests
        self.errors = errors
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.inputCostNanos = inputCostNanos
        self.outputCostNanos = outputCostNanos
    }

    /// What the group cost, in nano-units.
    public var costNanos: Int64 { inputCostNanos.addingSaturated(outputCostNanos) }
}

/// One finished call, as the gateway meters it.
public struct MeteredCall: Sendable {
    public var apiKeyID: String
    public var projectID: String
    public var organizationID: String
    public var category: UsageCategory
    public var model: String
    public var failed: Bool
    public var promptTokens: Int
    public var completionTokens: Int
    public var inputCostNanos: Int64
    public var outputCostNanos: Int64

    public init(
        apiKeyID: String, projectID: String, organizationID: String, category: UsageCategory = .completions,
        model: String = "", failed: Bool, promptTokens: Int = 0, completionTokens: Int = 0, inputCostNanos: Int64 = 0,
        outputCostNanos: Int64 = 0
    ) {
        self.apiKeyID = apiKeyID
        self.projectID = projectID
        self.organizationID = organizationID
        self.category = category
        self.model = model
        self.failed = failed
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.inputCostNanos = inputCostNanos
        self.outputCostNanos = outputCostNanos
    }
}

/// Counts calls per key, minute, category and model in memory; a background service drains it
/// to storage in batches, so metering never writes per request. The costs drained are turned
/// into whole micro-unit debits per organization and day; the nano-units left over wait for
/// the next write.
public final class UsageMeter: Sendable {
    struct Slot: Hashable {
        var apiKeyID: String
        var minute: Int64
        var category: UsageCategory
        var model: String
    }

    struct DebitSlot: Hashable {
        var organizationID: String
        var day: Int64
    }

    private let pending = Mutex<[Slot: UsageRecord]>([:])
    /// Nano-units of cost already written as usage but not yet whole micro-units of debit.
    private let carried = Mutex<[DebitSlot: Int64]>([:])
    /// The instance whose spend leases flushed costs settle.
    public let leaseHolder: String?
    /// Told of every batch written (the spend checks, which hold back what is unwritten).
    private let onWritten = Mutex<(@Sendable ([UsageRecord]) -> Void)?>(nil)

    /// Creates an empty meter.
    ///
    /// - Parameter leaseHolder: the instance whose spend leases the costs are taken from.
    public init(leaseHolder: String? = nil) {
        self.leaseHolder = leaseHolder
    }

    /// Rows counted and not yet written, for the metrics.
    public var bufferedRows: Int { pending.withLock { $0.count } }

    /// Tells `handler` of the records of every batch once it is written.
    public func whenWritten(_ handler: @escaping @Sendable ([UsageRecord]) -> Void) {
        onWritten.withLock { $0 = handler }
    }

    /// Counts one finished call.
    public func record(
        apiKeyID: String, projectID: String, organizationID: String, at date: Date, failed: Bool, promptTokens: Int,
        completionTokens: Int
    ) {
        record(
            MeteredCall(
                apiKeyID: apiKeyID, projectID: projectID, organizationID: organizationID, failed: failed,
                promptTokens: promptTokens, completionTokens: completionTokens),
            at: date)
    }

    /// Counts one finished call.
    public func record(_ call: MeteredCall, at date: Date) {
        let minute = Int64(date.timeIntervalSince1970.rounded(.down)) / 60 * 60
        let slot = Slot(apiKeyID: call.apiKeyID, minute: minute, category: call.category, model: call.model)
        let counted = UsageRecord(
            apiKeyID: call.apiKeyID, projectID: call.projectID, organizationID: call.organizationID,
            minute: Date(timeIntervalSince1970: TimeInterval(minute)), category: call.category, model: call.model,
            requests: 1, errors: call.failed ? 1 : 0, promptTokens: call.promptTokens,
            completionTokens: call.completionTokens, inputCostNanos: call.inputCostNanos,
            outputCostNanos: call.outputCostNanos)
        pending.withLock { pending in
            if pending[slot] == nil {
                pending[slot] = counted
            } else {
                pending[slot]!.add(counted)
            }
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
                let slot = Slot(
                    apiKeyID: record.apiKeyID, minute: Int64(record.minute.timeIntervalSince1970),
                    category: record.category, model: record.model)
                if pending[slot] == nil {
                    pending[slot] = record
                } else {
                    pending[slot]!.add(record)
                }
            }
        }
    }

    /// The debits `records` make with `carried`, and the nano-units left to carry after them.
    static func debits(
        for records: [UsageRecord], carried: [DebitSlot: Int64]
    ) -> (debits: [UsageDebit], carried: [DebitSlot: Int64]) {
        var nanos: [DebitSlot: Int64] = [:]
        for record in records where record.costNanos != 0 {
            let slot = DebitSlot(
                organizationID: record.organizationID, day: Int64(record.minute.timeIntervalSince1970) / 86_400)
            nanos[slot, default: 0] = nanos[slot, default: 0].addingSaturated(record.costNanos)
        }
        var after = carried
        var debits: [UsageDebit] = []
        for (slot, cost) in nanos {
            let total = cost.addingSaturated(after[slot] ?? 0)
            after[slot] = total % 1000
            if total / 1000 != 0 {
                debits.append(
                    UsageDebit(
                        organizationID: slot.organizationID,
                        day: Date(timeIntervalSince1970: TimeInterval(slot.day * 86_400)), micros: total / 1000))
            }
        }
        // Only the latest two days can still collect usage; older remainders are under a micro-unit.
        let latest = nanos.keys.map(\.day).max() ?? 0
        return (debits, after.filter { $0.value != 0 && $0.key.day >= latest - 1 })
    }

    /// Drains the meter into `repository`; on failure the records go back for the next try.
    public func flush(to repository: any UsageRepository) async throws {
        let records = drain()
        guard !records.isEmpty else { return }
        // The remainders are taken with the records, so two flushes at once never both count them.
        let taken = carried.withLock { carried in
            defer { carried.removeAll() }
            return carried
        }
        let (debits, after) = Self.debits(for: records, carried: taken)
        do {
            try await repository.add(UsageBatch(records: records, debits: debits, leaseHolder: leaseHolder))
            carry(after)
            onWritten.withLock { $0 }?(records)
        } catch {
            restore(records)
            carry(taken)
            throw error
        }
    }

    func carry(_ remainders: [DebitSlot: Int64]) {
        carried.withLock { carried in
            for (slot, nanos) in remainders { carried[slot, default: 0] += nanos }
        }
    }
}
