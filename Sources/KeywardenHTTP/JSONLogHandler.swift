import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Writes each log event as one JSON object on one line (`log_format=json`), for a log pipeline:
/// `time` (UTC, milliseconds), `level`, `logger`, `message`, then the metadata's own keys
/// (`request_id` among them) as fields.
///
/// It writes what callers log and nothing else, so it keeps the rule every log line already
/// keeps: no header, body, token or key.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let output: LineOutput

    /// A handler for `label` writing to `output`.
    public init(label: String, output: LineOutput = .standardOutput) {
        self.label = label
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { $1 } }
        if let own = event.metadata { fields.merge(own) { $1 } }
        var line = JSONLine()
        line.field("time", LogTime.iso8601(Date()))
        line.field("level", event.level.rawValue)
        line.field("logger", label)
        line.field("message", event.message.description)
        if let error = event.error { line.field("error.type", String(describing: type(of: error))) }
        for key in fields.keys.sorted() where !JSONLine.reserved.contains(key) {
            if event.error != nil, key == "error.type" { continue }
            line.field(key, fields[key]!)
        }
        output.write(line.finished())
    }
}

/// Lines written whole to standard output, one writer at a time.
public final class LineOutput: Sendable {
    private let descriptor: Int32
    private let lock = Mutex(())

    /// Lines written to an open file descriptor, which stays open.
    public init(descriptor: Int32) { self.descriptor = descriptor }

    /// The process's standard output.
    public static let standardOutput = LineOutput(descriptor: 1)

    /// Writes `bytes` (a whole line with its newline) in as few writes as the system allows.
    public func write(_ bytes: [UInt8]) {
        lock.withLock { _ in _ = writeFully(bytes, to: descriptor) }
    }
}

/// Writes all of `bytes` to `descriptor`, however many writes that takes; gives up on an error
/// (a full disk or a closed pipe must not stop the server), returning whether all was written.
@discardableResult
func writeFully(_ bytes: [UInt8], to descriptor: Int32) -> Bool {
    bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let written = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }
}

/// One JSON object being written as a line, fields in the order given.
struct JSONLine {
    /// Keys the handler writes itself; metadata of the same name is left out rather than repeated.
    static let reserved: Set<String> = ["time", "level", "logger", "message"]

    private var bytes: [UInt8] = [UInt8(ascii: "{")]

    init() { bytes.reserveCapacity(256) }

    mutating func field(_ key: String, _ value: String) {
        name(key)
        string(value)
    }

    mutating func field(_ key: String, number: Int) {
        name(key)
        bytes.append(contentsOf: String(number).utf8)
    }

    mutating func field(_ key: String, raw: String) {
        name(key)
        bytes.append(contentsOf: raw.utf8)
    }

    mutating func field(_ key: String, _ value: Logger.Metadata.Value) {
        name(key)
        self.value(value)
    }

    /// The object closed, with its newline.
    func finished() -> [UInt8] {
        var line = bytes
        line.append(UInt8(ascii: "}"))
        line.append(UInt8(ascii: "\n"))
        return line
    }

    private mutating func name(_ key: String) {
        if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
        string(key)
        bytes.append(UInt8(ascii: ":"))
    }

    private mutating func value(_ value: Logger.Metadata.Value) {
        switch value {
        case .string(let text): string(text)
        case .stringConvertible(let convertible):
            // Numbers stay numbers, so a pipeline can compare and sum them.
            if convertible is any BinaryInteger {
                bytes.append(contentsOf: convertible.description.utf8)
            } else {
                string(convertible.description)
            }
        case .array(let values):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                self.value(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .dictionary(let entries):
            bytes.append(UInt8(ascii: "{"))
            for (index, key) in entries.keys.sorted().enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                string(key)
                bytes.append(UInt8(ascii: ":"))
                self.value(entries[key]!)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string: quotes, backslashes and control characters escaped, the rest as UTF-8.
    private mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [
                    UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)],
                    hex[Int(byte & 0xF)],
                ])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// Timestamps for log lines: UTC, to the millisecond, without a formatter per line.
enum LogTime {
    /// `2026-12-03T15:04:05.123Z`.
    static func iso8601(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = Int(milliseconds % 1000)
        let fraction = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):"
            + "\(two(parts.tm_min)):\(two(parts.tm_sec)).\(fraction)Z"
    }
}
