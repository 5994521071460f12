import Foundation

/// Keeping the in-memory key index in step with storage: loading it at start, taking in keys
/// changed elsewhere, and writing back the uses it noted.
extension APIKeyService {
    /// Loads every key into the index (at start).
    public func loadIndex() async throws {
        index.load(try await keys.allKeys())
    }

    /// Brings the index up to date with keys changed since `date` (by other instances or the
    /// command line), returning how many it applied.
    @discardableResult
    public func refreshIndex(changedSince date: Date) async throws -> Int {
        let changed = try await keys.keys(changedSince: date)
        for key in changed { index.put(key) }
        return changed.count
    }

    /// Reloads one key into the index (when another instance announces it changed).
    public func refreshKey(_ id: APIKeyID) async throws {
        if let key = try await keys.key(id) { index.put(key) }
    }

    /// Writes the noted key uses to storage (called every few seconds, never per request).
    public func flushUses() async throws {
        let uses = index.drainUses()
        guard !uses.isEmpty else { return }
        try await keys.recordUse(uses)
    }
}
