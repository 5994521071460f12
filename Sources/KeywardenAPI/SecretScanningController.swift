import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// `POST /v1/secret-scanning/github`: GitHub's secret-scanning reports of Keywarden keys found in
/// public, acted on only when GitHub's signature over the raw body checks out.
///
/// No Keywarden credential is asked for: the signature is the credential. The body is read only
/// up to ``SecretScanningReport/maxBodyBytes`` and never logged.
public struct SecretScanningController: Sendable {
    let scanning: SecretScanningService

    /// The path to register with GitHub, after the server's public base URL.
    public static let path = "/v1/secret-scanning/github"

    /// Creates the controller.
    public init(scanning: SecretScanningService) {
        self.scanning = scanning
    }

    /// Registers the route.
    public func addRoutes(to router: CatalogingRouter<KeywardenRequestContext>) {
        router.post(RouterPath(Self.path), use: receive)
    }

    @Sendable func receive(
        _ request: Request, context: KeywardenRequestContext
    ) async throws -> [SecretScanningFeedback] {
        let limit = SecretScanningReport.maxBodyBytes
        let tooLarge = DomainError.requestTooLarge(limit: limit, what: "Secret-scanning reports")
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit { throw tooLarge }
        // Read by hand rather than with `collect(upTo:)`, so the refusal names this limit and not
        // the management API's.
        var body: [UInt8] = []
        for try await part in request.body {
            guard body.count + part.readableBytes <= limit else { throw tooLarge }
            body.append(contentsOf: part.readableBytesView)
        }
        return try await scanning.receive(
            body, keyIdentifier: request.headers[.init(SecretScanningReport.keyIdentifierHeader)!],
            signature: request.headers[.init(SecretScanningReport.signatureHeader)!])
    }
}
