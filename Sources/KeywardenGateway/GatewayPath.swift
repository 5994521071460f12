import Foundation
import KeywardenCore

/// Reads the path of a gateway call the way an upstream will, so that authorization looks at
/// the resource the upstream serves.
///
/// A path with `.` or `..` segments, empty segments or encoded slashes is refused rather than
/// normalised: an upstream that resolves `/v1/files/../chat/completions` itself would otherwise
/// answer a model call that was authorized as a files call.
enum GatewayPath {
    /// The path's segments, percent-decoded, or a refusal naming what is wrong with it.
    static func segments(of path: String) throws -> [String] {
        // Most paths have nothing to decode: they are split as bytes, with the same checks.
        if !path.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "\\") }) {
            var raw = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            if raw.first?.isEmpty == true { raw.removeFirst() }
            if raw.count > 1, raw.last?.isEmpty == true { raw.removeLast() }
            var segments: [String] = []
            segments.reserveCapacity(raw.count)
            for segment in raw {
                if segment.isEmpty || segment.elementsEqual(".".utf8) || segment.elementsEqual("..".utf8) {
                    throw refusal(path)
                }
                segments.append(String(Substring(segment)))
            }
            return segments
        }
        var raw = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        // "/v1/models" splits into "", "v1", "models"; a trailing slash leaves one more empty segment.
        if raw.first == "" { raw.removeFirst() }
        if raw.count > 1, raw.last == "" { raw.removeLast() }
        var segments: [String] = []
        for segment in raw {
            guard let decoded = segment.removingPercentEncoding else { throw refusal(path) }
            if decoded.isEmpty || decoded == "." || decoded == ".." || decoded.contains("/")
                || decoded.contains("\\")
            {
                throw refusal(path)
            }
            segments.append(decoded)
        }
        return segments
    }

    static func refusal(_ path: String) -> DomainError {
        DomainError(
            .invalidRequest, code: .invalidPath,
            message:
                "The path \(path) has a '.', '..' or empty segment, or an encoded slash. Send the path in its plain form, such as /v1/chat/completions."
        )
    }
}
