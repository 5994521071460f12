import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import NIOCore

/// Finds integer values of JSON keys in raw bytes without parsing the document, which is all
/// the gateway needs from bodies it otherwise passes through untouched.
///
/// A key in quotes followed by a colon can only be an object key in valid JSON (inside a
/// string its quotes would be escaped), so the scan cannot be fooled by message text.
enum JSONNumberScan {
    /// The largest value reported: twelve nines.
    static let maximum = 999_999_999_999

    /// Every non-negative integer given to `key` anywhere in `bytes`, at most ``maximum``.
    static func values(of key: String, in bytes: UnsafeRawBufferPointer) -> [Int] {
        let needle = Array("\"\(key)\"".utf8)
        guard bytes.count >= needle.count else { return [] }
        var found: [Int] = []
        var index = 0
        let last = bytes.count - needle.count
        while index <= last {
            guard bytes[index] == needle[0], needle.indices.allSatisfy({ bytes[index + $0] == needle[$0] }) else {
                index += 1
                continue
            }
            var cursor = index + needle.count
            while cursor < bytes.count,
                bytes[cursor] == 0x20 || bytes[cursor] == 0x0A || bytes[cursor] == 0x09
                    || bytes[cursor] == 0x0D
            {
                cursor += 1
            }
            if cursor < bytes.count, bytes[cursor] == UInt8(ascii: ":") {
                cursor += 1
                while cursor < bytes.count,
                    bytes[cursor] == 0x20 || bytes[cursor] == 0x0A || bytes[cursor] == 0x09
                        || bytes[cursor] == 0x0D
                {
                    cursor += 1
                }
                // Longer numbers saturate at twelve nines rather than being cut to their first digits.
                var value = 0
                var digits = 0
                while cursor < bytes.count, bytes[cursor] >= 0x30, bytes[cursor] <= 0x39 {
                    value = digits < 12 ? value * 10 + Int(bytes[cursor] - 0x30) : maximum
                    digits += 1
                    cursor += 1
                }
                if digits > 0 { found.append(value) }
            }
            index += needle.count
        }
        return found
    }
}

/// The tokens a call is charged before it runs: about one per four bytes of request body, plus
/// the most it asks to generate (`max_tokens`, `max_completion_tokens` or `max_output_tokens`).
enum TokenEstimate {
    static func tokens(in body: ByteBuffer) -> Int {
        body.withUnsafeReadableBytes { bytes in
            let input = tokens(forBytes: bytes.count)
            let output =
                ["max_tokens", "max_completion_tokens", "max_output_tokens"]
                .flatMap { JSONNumberScan.values(of: $0, in: bytes) }.max() ?? 0
            return input + min(output, 100_000_000)
        }
    }

    /// About one token per four bytes of input, rounded up (written so that no count overflows).
    static func tokens(forBytes count: Int) -> Int {
        count / 4 + (count % 4 == 0 ? 0 : 1)
    }
}

/// Watches a response body go by and reads the `usage` it ends with: the last JSON object of a
/// completion, or the final SSE chunk of a stream with `stream_options.include_usage`. Only the
/// tail is kept, so a body of any size costs a few kilobytes.
final class UsageTap {
    static let tailSize = 16 * 1024
    let active: Bool
    private var tail: [UInt8] = []

    init(active: Bool) {
        self.active = active
    }

    func observe(_ buffer: ByteBuffer) {
        guard active else { return }
        buffer.withUnsafeReadableBytes { bytes in
            if bytes.count >= Self.tailSize {
                tail = Array(bytes.suffix(Self.tailSize))
            } else {
                let overflow = tail.count + bytes.count - Self.tailSize
                if overflow > 0 { tail.removeFirst(overflow) }
                tail.append(contentsOf: bytes)
            }
        }
    }

    /// The prompt and completion tokens the body reported, if it did.
    var usage: (prompt: Int, completion: Int)? {
        tail.withUnsafeBytes { bytes in
            let prompt =
                JSONNumberScan.values(of: "prompt_tokens", in: bytes).last
                ?? JSONNumberScan.values(of: "input_tokens", in: bytes).last
            guard let prompt else { return nil }
            let completion =
                JSONNumberScan.values(of: "completion_tokens", in: bytes).last
                ?? JSONNumberScan.values(of: "output_tokens", in: bytes).last ?? 0
            return (prompt, completion)
        }
    }
}

/// Passes every write through to the real writer, showing each buffer to a ``UsageTap`` first.
struct TappingWriter: ResponseBodyWriter {
    var base: any ResponseBodyWriter
    let tap: UsageTap

    mutating func write(_ buffer: ByteBuffer) async throws {
        tap.observe(buffer)
        try await base.write(buffer)
    }

    mutating func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
        for buffer in buffers { tap.observe(buffer) }
        try await base.write(contentsOf: buffers)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        try await base.finish(trailingHeaders)
    }
}

extension HTTPField.Name {
    static let rateLimitLimitRequests = Self("x-ratelimit-limit-requests")!
    static let rateLimitRemainingRequests = Self("x-ratelimit-remaining-requests")!
    static let rateLimitResetRequests = Self("x-ratelimit-reset-requests")!
    static let rateLimitLimitTokens = Self("x-ratelimit-limit-tokens")!
    static let rateLimitRemainingTokens = Self("x-ratelimit-remaining-tokens")!
    static let rateLimitResetTokens = Self("x-ratelimit-reset-tokens")!
    static let retryAfterMilliseconds = Self("retry-after-ms")!
}

extension RateLimiter.Status {
    /// OpenAI's six rate-limit headers.
    func write(to headers: inout HTTPFields) {
        headers[.rateLimitLimitRequests] = String(limitRequests)
        headers[.rateLimitRemainingRequests] = String(remainingRequests)
        headers[.rateLimitResetRequests] = RateLimitDuration.format(resetRequests)
        headers[.rateLimitLimitTokens] = String(limitTokens)
        headers[.rateLimitRemainingTokens] = String(remainingTokens)
        headers[.rateLimitResetTokens] = RateLimitDuration.format(resetTokens)
    }
}
