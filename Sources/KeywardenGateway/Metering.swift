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
        var found: [Int] = []
        scan(key, in: bytes) { found.append($0) }
        return found
    }

    /// The largest value given to any of `keys`, or `nil` when none is given one; nothing is
    /// collected on the way.
    static func largest(of keys: [String], in bytes: UnsafeRawBufferPointer) -> Int? {
        var largest: Int?
        for key in keys {
            scan(key, in: bytes) { largest = max(largest ?? $0, $0) }
        }
        return largest
    }

    /// The last value given to `key`, or `nil`.
    static func last(of key: String, in bytes: UnsafeRawBufferPointer) -> Int? {
        var last: Int?
        scan(key, in: bytes) { last = $0 }
        return last
    }

    /// Shows each value given to `key` to `found`, in order.
    private static func scan(_ key: String, in bytes: UnsafeRawBufferPointer, _ found: (Int) -> Void) {
        var quoted = "\"" + key + "\""
        quoted.withUTF8 { needle in scan(needle, in: bytes, found) }
    }

    private static func scan(
        _ needle: UnsafeBufferPointer<UInt8>, in bytes: UnsafeRawBufferPointer, _ found: (Int) -> Void
    ) {
        guard bytes.count >= needle.count else { return }
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
                if digits > 0 { found(value) }
            }
            index += needle.count
        }
    }
}

/// Finds string values of JSON keys in raw bytes, as ``JSONNumberScan`` finds numbers.
///
/// The key's opening quote must not follow a backslash. In valid JSON a key opens after `{`, `,`
/// or white space, so a backslash there means the quote is escaped inside a string (a key named
/// `\"model`, or a kept tail cut inside a message). Message text such as `\"model\": \"x\"` cannot
/// match either way: its closing quote follows a backslash, not the key's last letter.
enum JSONStringScan {
    /// The last string given to `key` in `bytes`, skipping any that does not decode or decodes to
    /// more than ``ModelName/maximumLength`` bytes.
    static func lastValue(of key: String, in bytes: UnsafeRawBufferPointer) -> String? {
        var last: String?
        scan(key, in: bytes) { value in
            last = value
            return true
        }
        return last
    }

    /// The first string given to `key` in `bytes`, skipping any that does not decode or decodes
    /// to more than ``ModelName/maximumLength`` bytes.
    static func firstValue(of key: String, in bytes: UnsafeRawBufferPointer) -> String? {
        var first: String?
        scan(key, in: bytes) { value in
            first = value
            return false
        }
        return first
    }

    /// Every string given to `key` in `bytes`, in order, skipping any that does not decode.
    static func values(of key: String, in bytes: UnsafeRawBufferPointer) -> [String] {
        var values: [String] = []
        scan(key, in: bytes) { value in
            values.append(value)
            return values.count < 16
        }
        return values
    }

    /// Shows each decoded value of `key` to `found`, in order, until it answers `false`.
    private static func scan(_ key: String, in bytes: UnsafeRawBufferPointer, _ found: (String) -> Bool) {
        let needle = Array("\"\(key)\"".utf8)
        guard bytes.count >= needle.count else { return }
        var index = 0
        let last = bytes.count - needle.count
        while index <= last {
            guard bytes[index] == needle[0], index == 0 || bytes[index - 1] != UInt8(ascii: "\\"),
                needle.indices.allSatisfy({ bytes[index + $0] == needle[$0] })
            else {
                index += 1
                continue
            }
            var cursor = skippingWhitespace(bytes, from: index + needle.count)
            if cursor < bytes.count, bytes[cursor] == UInt8(ascii: ":") {
                cursor = skippingWhitespace(bytes, from: cursor + 1)
                if let value = string(in: bytes, at: cursor), !found(value) { return }
            }
            index += needle.count
        }
    }

    private static func skippingWhitespace(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var cursor = start
        while cursor < bytes.count {
            switch bytes[cursor] {
            case 0x20, 0x0A, 0x09, 0x0D: cursor += 1
            default: return cursor
            }
        }
        return cursor
    }

    /// The JSON string opening at `start`, decoded; `nil` when none opens there, or it has an
    /// invalid escape or a raw control character, is not terminated, or decodes to more than
    /// ``ModelName/maximumLength`` bytes (decoding stops there, so a huge value costs little).
    private static func string(in bytes: UnsafeRawBufferPointer, at start: Int) -> String? {
        guard start < bytes.count, bytes[start] == UInt8(ascii: "\"") else { return nil }
        var decoded: [UInt8] = []
        var cursor = start + 1
        while cursor < bytes.count {
            let byte = bytes[cursor]
            cursor += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: decoded, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard cursor < bytes.count else { return nil }
                let escape = bytes[cursor]
                cursor += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"):
                    guard let scalar = unicodeEscape(in: bytes, at: &cursor) else { return nil }
                    UTF8.encode(scalar) { decoded.append($0) }
                default:
                    return nil
                }
            case 0x00..<0x20:
                return nil
            default:
                decoded.append(byte)
            }
            if decoded.count > ModelName.maximumLength { return nil }
        }
        return nil
    }

    /// The scalar of a `\uXXXX` escape whose `\u` is just behind `cursor`, joining a surrogate
    /// pair; `nil` for bad hex or a lone surrogate.
    private static func unicodeEscape(in bytes: UnsafeRawBufferPointer, at cursor: inout Int) -> Unicode.Scalar? {
        guard let unit = hexQuad(in: bytes, at: &cursor) else { return nil }
        switch unit {
        case 0xD800...0xDBFF:
            guard cursor + 1 < bytes.count, bytes[cursor] == UInt8(ascii: "\\"), bytes[cursor + 1] == UInt8(ascii: "u")
            else { return nil }
            cursor += 2
            guard let low = hexQuad(in: bytes, at: &cursor), (0xDC00...0xDFFF).contains(low) else { return nil }
            return Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
        case 0xDC00...0xDFFF:
            return nil
        default:
            return Unicode.Scalar(unit)
        }
    }

    private static func hexQuad(in bytes: UnsafeRawBufferPointer, at cursor: inout Int) -> UInt32? {
        guard cursor + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[cursor]
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x41...0x46: digit = byte - 0x41 + 10
            case 0x61...0x66: digit = byte - 0x61 + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
            cursor += 1
        }
        return value
    }
}

/// The model a metered call names, as usage is recorded under it.
enum ModelName {
    /// The longest name kept, in bytes.
    static let maximumLength = 100

    /// `raw` when it is 1 to ``maximumLength`` bytes of printable ASCII without spaces (0x21 to
    /// 0x7E); otherwise `""`, meaning unknown, so a client cannot write control characters or
    /// unbounded text into usage records.
    static func clean(_ raw: String?) -> String {
        guard let raw, (1...maximumLength).contains(raw.utf8.count), raw.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E })
        else { return "" }
        return raw
    }
}

/// The tokens a call is charged before it runs: about one per four bytes of request body, plus
/// the most it asks to generate (`max_tokens`, `max_completion_tokens` or `max_output_tokens`).
enum TokenEstimate {
    /// The keys a request names the most it may generate by.
    static let outputLimits = ["max_tokens", "max_completion_tokens", "max_output_tokens"]

    static func tokens(in body: ByteBuffer) -> Int {
        body.withUnsafeReadableBytes { bytes in
            let input = tokens(forBytes: bytes.count)
            let output = JSONNumberScan.largest(of: outputLimits, in: bytes) ?? 0
            return input + min(output, 100_000_000)
        }
    }

    /// The model a request body names (its first `"model"` string), or `""` when it names none
    /// that ``ModelName`` keeps.
    static func model(in body: ByteBuffer) -> String {
        body.withUnsafeReadableBytes { ModelName.clean(JSONStringScan.firstValue(of: "model", in: $0)) }
    }

    /// Every model a request body names, nested ones included, cleaned; or `[]` when the body
    /// cannot be trusted to name them all: one with a `\u` escape (which could spell a second
    /// `"model"` key) or with more names than the scan keeps. A call is let through without
    /// credit only when this lists models, every one of them listed at no cost.
    static func freeCandidates(in body: ByteBuffer) -> [String] {
        body.withUnsafeReadableBytes { bytes in
            for index in bytes.indices.dropLast() where bytes[index] == UInt8(ascii: "\\") {
                if bytes[index + 1] == UInt8(ascii: "u") { return [] }
            }
            let values = JSONStringScan.values(of: "model", in: bytes)
            return values.count < 16 ? values.map(ModelName.clean) : []
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
    /// The start of the answer, where it names its model before any text the client chose.
    static let headSize = 4 * 1024
    let active: Bool
    /// Whether the body is JSON or Server-Sent Events whose usage and model can be read;
    /// otherwise only its bytes are counted.
    let readsUsage: Bool
    private var tail: [UInt8] = []
    private var head: [UInt8] = []
    /// Bytes of answer seen, for an estimate when the answer reports no usage.
    private(set) var byteCount = 0

    init(active: Bool, readsUsage: Bool? = nil) {
        self.active = active
        self.readsUsage = readsUsage ?? active
    }

    func observe(_ buffer: ByteBuffer) {
        guard active else { return }
        byteCount += buffer.readableBytes
        buffer.withUnsafeReadableBytes { bytes in
            if head.count < Self.headSize { head.append(contentsOf: bytes.prefix(Self.headSize - head.count)) }
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
        guard readsUsage else { return nil }
        return tail.withUnsafeBytes { bytes in
            let prompt =
                JSONNumberScan.last(of: "prompt_tokens", in: bytes)
                ?? JSONNumberScan.last(of: "input_tokens", in: bytes)
            guard let prompt else { return nil }
            let completion =
                JSONNumberScan.last(of: "completion_tokens", in: bytes)
                ?? JSONNumberScan.last(of: "output_tokens", in: bytes) ?? 0
            return (prompt, completion)
        }
    }

    /// The model the answer names first (a completion, a response or a stream's first chunk
    /// names it near the start, before any text the client chose, such as a response's
    /// `metadata`), or `nil` when it named none that ``ModelName`` keeps.
    var model: String? {
        guard readsUsage else { return nil }
        let name = head.withUnsafeBytes { ModelName.clean(JSONStringScan.firstValue(of: "model", in: $0)) }
        return name.isEmpty ? nil : name
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
