import HTTPTypes
import KeywardenCore

/// What a key's permissions let it call through the gateway.
extension Gateway {
    /// The first path segment after `/v1` of calls that reach a model.
    static let modelResources: Set<String> = [
        "chat", "completions", "embeddings", "responses", "audio", "images", "moderations",
    ]

    /// `read_only` keys may only read; `restricted` keys need `model.request` for model calls
    /// (no `api.*` scope stands in for it) and `api.<resource>.read`/`.write` for the rest.
    ///
    /// - Parameter segments: the decoded segments of a path ``GatewayPath`` accepted.
    static func authorize(_ key: APIKey, method: HTTPRequest.Method, segments: [String], path: String) throws {
        let reads = method == .get || method == .head
        switch key.permissions {
        case .all:
            return
        case .readOnly:
            guard reads else {
                throw DomainError(
                    .forbidden, code: .insufficientPermissions,
                    message: "This key is read-only: it can make GET requests only.")
            }
        case .restricted(let scopes):
            let resource = segments.dropFirst().first ?? ""
            let granted: Bool
            let needed: String
            if modelResources.contains(resource) && !reads {
                needed = "model.request"
                granted = scopes.contains(needed)
            } else {
                needed = "api.\(resource).\(reads ? "read" : "write")"
                granted = scopes.contains(needed) || scopes.contains("api.*.\(reads ? "read" : "write")")
            }
            guard granted else {
                throw DomainError(
                    .forbidden, code: .insufficientPermissions,
                    message: "This key lacks the scope '\(needed)' that \(method.rawValue) \(path) needs.")
            }
        }
    }
}
