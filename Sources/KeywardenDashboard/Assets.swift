import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The stylesheet and the script, served under names that carry a digest of their content, so
/// they can be cached for a year and a new version is a new name.
struct Assets: Sendable {
    /// One file.
    struct File: Sendable {
        let path: String
        let contentType: String
        let body: ByteBuffer
    }

    /// Files by their served path.
    let files: [String: File]
    /// The served path of the stylesheet.
    let stylesheet: String
    /// The served path of the script.
    let script: String

    init(directory: URL) throws {
        var files: [String: File] = [:]
        func load(_ name: String, type: String) throws -> String {
            let data = try Data(contentsOf: directory.appendingPathComponent(name))
            let digest = SHA256.hash(data: data).prefix(6).map { String(format: "%02x", $0) }.joined()
            let parts = name.split(separator: ".", maxSplits: 1)
            let path = "/assets/\(parts[0]).\(digest).\(parts[1])"
            files[path] = File(path: path, contentType: type, body: ByteBuffer(bytes: data))
            return path
        }
        stylesheet = try load("keywarden.css", type: "text/css; charset=utf-8")
        script = try load("keywarden.js", type: "text/javascript; charset=utf-8")
        self.files = files
    }

    /// The file at `path`, cacheable for a year; `nil` for any other path.
    func response(for path: String) -> Response? {
        guard let file = files[path] else { return nil }
        var headers = HTTPFields()
        headers[.contentType] = file.contentType
        headers[.cacheControl] = "public, max-age=31536000, immutable"
        PageMiddleware.addPageHeaders(to: &headers)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: file.body))
    }
}
