import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Where the one line per request goes (`access_log`): the server's log on standard output,
/// nowhere, or a file of its own that is rotated by size.
///
/// A line holds the request id, the method, the path without its query, the status and the
/// duration: never headers or bodies, which may hold secrets.
public struct AccessLog: Sendable {
    enum Destination: Sendable {
        case off
        case logger
        case file(RotatingLogFile)
    }

    let destination: Destination
    /// JSON objects (`log_format=json`) or text.
    let json: Bool

    /// No access log.
    public static let off = AccessLog(destination: .off, json: false)

    /// Lines through the server's own logger (and so to standard output, in its format).
    public static func logger(json: Bool) -> AccessLog { AccessLog(destination: .logger, json: json) }

    /// Lines to a file of their own, rotated when it passes its size.
    public static func file(_ file: RotatingLogFile, json: Bool) -> AccessLog {
        AccessLog(destination: .file(file), json: json)
    }

    /// The file, when lines go to one, for flushing it.
    /// Whether no line is written.
    public var isOff: Bool {
        if case .off = destination { return true }
        return false
    }

    public var file: RotatingLogFile? {
        if case .file(let file) = destination { return file }
        return nil
    }

    /// Writes one request's line.
    public func record(
        method: String, path: String, status: Int, duration: Duration, requestID: String, logger: Logger
    ) {
        switch destination {
        case .off:
            return
        case .logger:
            // The router's loggers carry the request id already; the line carries it for others.
            // (Metadata is made only when the logger writes the line.)
            func fields(_ line: Logger.Metadata) -> Logger.Metadata {
                guard logger[metadataKey: "request_id"] == nil else { return line }
                return line.merging(["request_id": .string(requestID)]) { own, _ in own }
            }
            if json {
                logger.info(
                    "request",
                    metadata: fields([
                        "method": .string(method), "path": .string(path), "status": .stringConvertible(status),
                        "duration_ms": .string(Self.milliseconds(duration)),
                    ]))
            } else {
                logger.info(
                    "\(method) \(path) \(status)",
                    metadata: fields(["duration_ms": .string(Self.milliseconds(duration))]))
            }
        case .file(let file):
            let now = Date()
            let milliseconds = Self.milliseconds(duration)
            if json {
                var line = JSONLine()
                line.field("time", LogTime.iso8601(now))
                line.field("request_id", requestID)
                line.field("method", method)
                line.field("path", path)
                line.field("status", number: status)
                line.field("duration_ms", raw: milliseconds)
                file.write(line.finished())
            } else {
                let text = "\(LogTime.iso8601(now)) \(requestID) \(method) \(path) \(status) \(milliseconds)ms\n"
                file.write(Array(text.utf8))
            }
        }
    }

    /// Milliseconds with one decimal, as text.
    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let tenths = max(0, seconds) &* 10_000 &+ max(0, attoseconds) / 100_000_000_000_000
        return "\(tenths / 10).\(tenths % 10)"
    }
}

/// A log file that is written in batches and rotated by size: when it passes `maxBytes` it is
/// renamed `NAME.1` (older ones moving to `.2` and on), the oldest beyond `keep` is deleted,
/// and a new file is started. The disk it can take is bounded by about `(keep + 1) × maxBytes`.
///
/// Requests only add their line to memory; ``flush()``, which the server calls every second
/// from a task of its own (and at shutdown), does the writing, so no request waits for the disk.
/// Should writing fall so far behind that 16 MiB wait, further lines are dropped and counted
/// rather than held without bound.
public final class RotatingLogFile: Sendable {
    /// The file's path.
    public let path: String
    let maxBytes: Int
    let keep: Int
    /// The most bytes that wait in memory for the next write.
    public static let maxPendingBytes = 16 << 20

    private struct Pending {
        var bytes: [UInt8] = []
        var dropped = 0
    }

    private struct Output {
        /// `nil` after the file could not be opened again; opening is tried at every flush.
        var descriptor: Int32?
        var size: Int
        /// The problem last reported, so a lasting one is reported once.
        var problem: String?
    }

    private let pending = Mutex(Pending())
    private let output: Mutex<Output>

    /// Opens (or creates, readable by its owner and group only) the file at `path` for appending.
    ///
    /// - Throws: ``AccessLogError`` when it cannot be opened.
    public init(path: String, maxBytes: Int, keep: Int) throws {
        self.path = path
        self.maxBytes = maxBytes
        self.keep = keep
        guard let descriptor = Self.open(path) else {
            throw AccessLogError("cannot open \(path) for writing: \(String(cString: strerror(errno)))")
        }
        var status = stat()
        let size = fstat(descriptor, &status) == 0 ? Int(status.st_size) : 0
        output = Mutex(Output(descriptor: descriptor, size: size))
    }

    deinit {
        flush()
        output.withLock { output in
            if let descriptor = output.descriptor { close(descriptor) }
        }
    }

    static func open(_ path: String) -> Int32? {
        let descriptor = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        return descriptor >= 0 ? descriptor : nil
    }

    /// Adds a whole line (with its newline) to what the next flush writes.
    public func write(_ line: [UInt8]) {
        pending.withLock { pending in
            if pending.bytes.count + line.count > Self.maxPendingBytes {
                pending.dropped += 1
            } else {
                pending.bytes.append(contentsOf: line)
            }
        }
    }

    /// Writes what has gathered, rotating the file when it has passed its size.
    ///
    /// - Returns: a sentence about a problem the first time it happens (lines dropped, the file
    ///   not writable or not rotatable), for the server's log; `nil` otherwise.
    @discardableResult
    public func flush() -> String? {
        output.withLock { output in
            let (bytes, dropped) = pending.withLock { pending in
                defer { pending = Pending() }
                return (pending.bytes, pending.dropped)
            }
            var problem: String?
            if dropped > 0 { problem = "\(dropped) access log lines were dropped: writing fell behind" }
            if output.descriptor == nil { output.descriptor = Self.open(path) }
            if let descriptor = output.descriptor, !bytes.isEmpty {
                if writeFully(bytes, to: descriptor) {
                    output.size += bytes.count
                } else {
                    problem = "cannot write \(path): \(String(cString: strerror(errno)))"
                }
            } else if output.descriptor == nil {
                problem = "cannot open \(path) for writing: \(String(cString: strerror(errno)))"
            }
            if output.size >= maxBytes, let descriptor = output.descriptor {
                close(descriptor)
                if let failure = rotate() { problem = failure }
                output.descriptor = Self.open(path)
                output.size = 0
            }
            defer { output.problem = problem }
            return problem != nil && problem != output.problem ? problem : nil
        }
    }

    /// `NAME.keep` is deleted, each `NAME.n` becomes `NAME.n+1`, and `NAME` becomes `NAME.1`.
    /// When the file cannot be renamed, it is emptied instead, so the disk stays bounded.
    private func rotate() -> String? {
        unlink("\(path).\(keep)")
        if keep > 1 {
            for number in stride(from: keep - 1, through: 1, by: -1) {
                Glibc.rename("\(path).\(number)", "\(path).\(number + 1)")
            }
        }
        guard Glibc.rename(path, "\(path).1") == 0 else {
            let reason = String(cString: strerror(errno))
            truncate(path, 0)
            return "cannot rotate \(path) (\(reason)); it was emptied instead"
        }
        return nil
    }
}

/// The access log file cannot be used.
public struct AccessLogError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
