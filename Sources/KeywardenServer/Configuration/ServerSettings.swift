/// Where the server listens, how it logs, and how it keeps connections.
public struct ServerSettings: Sendable {
    /// The address to listen on.
    public var host = "127.0.0.1"
    /// The port to listen on.
    public var port = 8080
    /// The log level: trace, debug, info, notice, warning, error or critical.
    public var logLevel = "info"
    /// Text lines, or one JSON object a line.
    public var logFormat = LogFormat.text
    /// Where the line per request goes: `stdout` (with the rest of the log), `off`, or a file path.
    public var accessLog = "stdout"
    /// The size at which the access log file is rotated.
    public var accessLogMaxBytes = 100 << 20
    /// How many rotated access log files are kept.
    public var accessLogFiles = 5
    /// The address the metrics listener binds.
    public var metricsHost = "127.0.0.1"
    /// The port of the metrics listener; `nil` turns metrics off.
    public var metricsPort: Int?

    /// How log lines are written.
    public enum LogFormat: String, Sendable, CaseIterable {
        case text, json
    }
    /// Seconds a new connection has to send its first request head.
    public var httpHeaderTimeout = 10
    /// Seconds a connection may stay idle (between requests, or mid-request without a byte)
    /// before it is closed.
    public var httpIdleTimeout = 30
    /// Connections held open at once; more wait in the listen queue.
    public var maxConnections = 4096
    /// Seconds requests in flight may take to finish after SIGTERM or SIGINT before they are
    /// cancelled and the process ends.
    public var shutdownTimeout = 5

    /// The log levels, quietest last.
    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// The defaults.
    public init() {}

    /// Reads the server's settings.
    public init(reading settings: SettingsReader) throws {
        if let host = settings.text(.host) { self.host = host }
        if let port = try settings.integer(.port, in: 1...65535) { self.port = port }
        if let level = settings.text(.logLevel) {
            guard Self.logLevels.contains(level) else {
                throw ConfigurationError(.logLevel, "expected one of \(Self.logLevels.joined(separator: ", "))")
            }
            logLevel = level
        }
        if let format = settings.text(.logFormat) {
            guard let known = LogFormat(rawValue: format) else {
                throw ConfigurationError(.logFormat, "expected text or json")
            }
            logFormat = known
        }
        if let destination = settings.text(.accessLog) {
            guard !destination.isEmpty, !destination.contains("\0") else {
                throw ConfigurationError(.accessLog, "expected stdout, off or a file path")
            }
            accessLog = destination
        }
        if let size = try settings.integer(.accessLogMaxBytes, in: (1 << 20)...(100 << 30)) { accessLogMaxBytes = size }
        if let files = try settings.integer(.accessLogFiles, in: 1...100) { accessLogFiles = files }
        if let host = settings.text(.metricsHost) { metricsHost = host }
        if let port = try settings.integer(.metricsPort, in: 1...65535) {
            guard port != self.port else {
                throw ConfigurationError(
                    .metricsPort, "must differ from port \(self.port): metrics are never served on the public port")
            }
            metricsPort = port
        }
        let bounded: [(Setting, ClosedRange<Int>, WritableKeyPath<ServerSettings, Int>)] = [
            (.httpHeaderTimeout, 1...300, \.httpHeaderTimeout),
            (.httpIdleTimeout, 1...3600, \.httpIdleTimeout),
            (.maxConnections, 16...1_000_000, \.maxConnections),
            (.shutdownTimeout, 1...300, \.shutdownTimeout),
        ]
        for (setting, range, path) in bounded {
            if let number = try settings.integer(setting, in: range) { self[keyPath: path] = number }
        }
    }
}
