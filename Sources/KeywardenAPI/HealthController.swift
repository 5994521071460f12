import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// Liveness, readiness and the API description.
public struct HealthController: Sendable {
    let isDatabaseReachable: @Sendable () async -> Bool
    let openAPIDocument: String

    /// Creates the controller.
    ///
    /// - Parameters:
    ///   - isDatabaseReachable: asks the database for a trivial answer.
    ///   - openAPIDocument: the text of `openapi.yaml`.
    public init(isDatabaseReachable: @escaping @Sendable () async -> Bool, openAPIDocument: String) {
        self.isDatabaseReachable = isDatabaseReachable
        self.openAPIDocument = openAPIDocument
    }

    /// Registers the routes.
    public func addRoutes(to router: CatalogingRouter<KeywardenRequestContext>) {
        router.get("/healthz") { _, _ in Status(status: "ok") }
        router.get("/readyz") { _, _ in
            guard await isDatabaseReachable() else {
                throw DomainError(
                    .unavailable, code: .databaseUnavailable, message: "The database is not reachable.")
            }
            return Status(status: "ready")
        }
        router.get("/openapi.yaml") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: openAPIDocument)))
        }
    }

    struct Status: ResponseEncodable {
        let status: String
    }
}
