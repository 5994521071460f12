import Foundation

/// Keys reported as found in public (GitHub's secret scanning): a live one is revoked at once.
extension APIKeyService {
    /// A key that was found in public and has just been revoked.
    public struct LeakedKey: Equatable, Sendable {
        /// The key as it now is: revoked.
        public var key: APIKey
        /// The name of its project; `nil` for an admin key.
        public var projectName: String?
        /// Where it was found, as reported (at most ``maxURLLength`` characters).
        public var url: String
        /// What held it, as reported (such as `commit`).
        public var source: String
    }

    /// What a reported token turned out to be.
    public enum LeakOutcome: Equatable, Sendable {
        /// Not a key of this server: not its format, a wrong checksum, or no key with its digest.
        case notOurs
        /// A key of this server that no longer worked (revoked or expired): nothing to do.
        case alreadyInactive
        /// A live key of this server, now revoked.
        case revoked(LeakedKey)
    }

    /// The most characters of a reported URL kept in the audit log.
    public static let maxURLLength = 2048
    /// The most characters of a reported source kept in the audit log.
    public static let maxSourceLength = 64

    /// Revokes the key whose value is `token` if it still works, recording `api_key.leaked` with
    /// where it was found; `reporter` names who found it. The token is never stored or logged.
    ///
    /// Throws when storage fails. Every read comes first and the event is recorded before the key
    /// is revoked: no key is revoked without its event, and a failure before the revocation
    /// leaves the key live, to be acted on when the report is delivered again.
    public func revokeLeaked(
        _ token: String, url: String?, source: String?, reporter: String
    ) async throws -> LeakOutcome {
        switch format.read(token) {
        case .malformed, .badChecksum: return .notOurs
        case .valid, .foreign: break
        }
        // A revoked or expired key stays so: the index's word is enough. A live one, or one the
        // index has not heard of yet (made on another instance since the last poll), is read from
        // storage as it is now.
        let now = wholeMilliseconds(clock.now())
        if let indexed = index.key(matching: token), !indexed.isActive(at: now) { return .alreadyInactive }
        guard let known = try await keys.key(digest: APIKeyIndex.digest(token)) else { return .notOurs }
        index.put(known)
        guard known.isActive(at: now) else { return .alreadyInactive }
        var leaked = LeakedKey(
            key: known, projectName: nil, url: String((url ?? "").prefix(Self.maxURLLength)),
            source: String((source ?? "").prefix(Self.maxSourceLength)))
        if let project = known.projectID {
            leaked.projectName = try await projects.project(project, in: known.organizationID)?.name
        }
        try await record(
            .apiKeyLeaked, known, actor: .system,
            extra: ["url": leaked.url, "source": leaked.source, "reported_by": reporter])
        guard let revoked = try await keys.revoke(known.id, in: known.organizationID, at: now) else { return .notOurs }
        index.put(revoked)
        // Revoked a moment earlier elsewhere (its owner, on another instance): the owner acted
        // already, so there is nothing to mail.
        guard let revokedAt = revoked.revokedAt, abs(revokedAt.timeIntervalSince(now)) < 0.001 else {
            return .alreadyInactive
        }
        leaked.key = revoked
        return .revoked(leaked)
    }
}
