import Foundation

/// The API description served at `/openapi.yaml`, bundled from the repository's `openapi.yaml`.
public enum OpenAPIDocument {
    /// The document's text.
    public static let text: String = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { return "openapi: 3.1.0\ninfo: {title: Keywarden, version: unknown}\npaths: {}\n" }
        return text
    }()
}
