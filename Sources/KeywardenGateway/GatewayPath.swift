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
        var raw = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        // "/v1/models" splits into "", "v1", "models"; a trailing slash leaves one more empty segment.
        if raw.first?.isEmpty == true { raw.removeFirst() }
        if raw.count > 1, raw.last?.isEmpty == true { raw.removeLast() }
        var segments: [String] = []
        segments.reserveCapacity(raw.count)
        for segment in raw {
            let text = String(Substring(segment))
            // Only a segment with an escape pays for decoding; most have none.
            guard let decoded = segment.contains(UInt8(ascii: "%")) ? text.removingPercentEncoding : text else {
                throw refusal(path)
            }
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
