import Foundation
import Hummingbird
import HummingbirdTesting
import KeywardenHTTP
import KeywardenServer
import Logging
import Testing

@Suite("Log format and the access log")
struct LogFormatTests {
    /// What `body` logs through a JSON handler, one decoded object per line.
    func jsonLines(_ body: (Logger) -> Void) throws -> [[String: Any]] {
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        let output = LineOutput(descriptor: descriptors[1])
        var logger = Logger(label: "keywarden.test") { label in JSONLogHandler(label: label, output: output) }
        logger.logLevel = .debug
        body(logger)
        close(descriptors[1])
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(descriptors[0], &chunk, chunk.count)
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        close(descriptors[0])
        return try String(decoding: bytes, as: UTF8.self).split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }

    @Test func jsonLogsWriteOneObjectALineWithTheRequestIDAndFields() throws {
        let lines = try jsonLines { logger in
            var logger = logger
            logger[metadataKey: "request_id"] = "req_abc"
            logger.info("a \"quoted\"\nmessage\u{1}", metadata: ["count": "\(3)", "nested": ["a": "b"]])
            logger.warning("second")
        }
        #expect(lines.count == 2)
        let first = lines[0]
        #expect(first["message"] as? String == "a \"quoted\"\nmessage\u{1}")
        #expect(first["level"] as? String == "info")
        #expect(first["logger"] as? String == "keywarden.test")
        #expect(first["request_id"] as? String == "req_abc")
        #expect(first["count"] as? String == "3")
        #expect((first["nested"] as? [String: Any])?["a"] as? String == "b")
        let time = try #require(first["time"] as? String)
        #expect(time.count == 24 && time.hasSuffix("Z"))
        #expect(ISO8601DateFormatter.withFractionalSeconds.date(from: time) != nil)
        #expect(lines[1]["level"] as? String == "warning")
    }

    @Test func metadataCannotOverwriteTheLinesOwnFields() throws {
        let lines = try jsonLines { logger in
            logger.info("real", metadata: ["message": "forged", "level": "critical"])
        }
        #expect(lines.first?["message"] as? String == "real")
        #expect(lines.first?["level"] as? String == "info")
    }

    @Test func theAccessLogFileRotatesBySizeAndKeepsOnlyItsFiles() throws {
        let directory = try temporaryDirectory()
        let path = directory + "/access.log"
        let file = try RotatingLogFile(path: path, maxBytes: 100_000, keep: 2)
        let line = Array((String(repeating: "x", count: 99) + "\n").utf8)
        // As the server does: lines between flushes, a flush every 500 lines (50 kB).
        for round in 1...9 {
            for _ in 0..<500 { file.write(line) }
            #expect(file.flush() == nil, "round \(round)")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(names == ["access.log", "access.log.1", "access.log.2"])
        for name in names {
            let size = try #require(
                try FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.size] as? Int)
            #expect(size <= 100_000, "\(name) is \(size) bytes")
        }
        #expect(!FileManager.default.fileExists(atPath: path + ".3"))
    }

    @Test func linesBeyondWhatWaitsAreDroppedAndSaidSoOnce() throws {
        let directory = try temporaryDirectory()
        let file = try RotatingLogFile(path: directory + "/access.log", maxBytes: 1 << 30, keep: 1)
        let line = [UInt8](repeating: 120, count: 1023) + [10]
        for _ in 0..<(RotatingLogFile.maxPendingBytes / 1024 + 10) { file.write(line) }
        let problem = try #require(file.flush())
        #expect(problem.contains("10 access log lines were dropped"))
        #expect(file.flush() == nil)
        let size = try FileManager.default.attributesOfItem(atPath: directory + "/access.log")[.size] as? Int
        #expect(size == RotatingLogFile.maxPendingBytes)
    }

    @Test func aFileThatCannotBeRotatedIsEmptiedAndTheProblemReported() throws {
        let directory = try temporaryDirectory()
        let path = directory + "/access.log"
        // A directory where the rotated file would go makes the rename fail.
        try FileManager.default.createDirectory(atPath: path + ".1", withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: path + ".1/keep", withIntermediateDirectories: false)
        let file = try RotatingLogFile(path: path, maxBytes: 1000, keep: 1)
        file.write(Array((String(repeating: "y", count: 1999) + "\n").utf8))
        let problem = try #require(file.flush())
        #expect(problem.contains("cannot rotate"))
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
        #expect(size == 0)
    }

    @Test func requestsWriteJSONLinesWithoutQueriesToTheAccessLogFile() async throws {
        let directory = try temporaryDirectory()
        let path = directory + "/access.log"
        let file = try RotatingLogFile(path: path, maxBytes: 1 << 20, keep: 1)
        var services = try await makeServices()
        services.accessLog = .file(file, json: true)
        let (router, _) = try buildRouter(services: services)
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/healthz?token=secret-value", method: .get) { _ in }
            try await client.execute(
                uri: "/v1/auth/login", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"email":"a@example.com","password":"hunter2hunter2"}"#)
            ) { _ in }
        }
        file.flush()
        try? await services.shutdown()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains("secret-value"))
        #expect(!text.contains("hunter2"))
        let lines = try text.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        #expect(lines.count == 2)
        #expect(lines[0]["path"] as? String == "/healthz")
        #expect(lines[0]["status"] as? Int == 200)
        #expect((lines[0]["request_id"] as? String)?.hasPrefix("req_") == true)
        #expect(lines[1]["method"] as? String == "POST")
        #expect(lines[1]["status"] as? Int == 401)
        #expect(lines[1]["duration_ms"] is Double || lines[1]["duration_ms"] is Int)
    }

    @Test func theAccessLogGoesWithTheLogByDefaultAndCanBeTurnedOff() async throws {
        let standard = CapturedLogs()
        try await withApp(logger: standard.logger) { api, _ in
            _ = try await api.request(.get, "/healthz")
        }
        #expect(standard.all.contains { $0.contains("GET /healthz 200") })
        let off = CapturedLogs()
        try await withApp(logger: off.logger, configure: { $0.server.accessLog = "off" }) { api, _ in
            _ = try await api.request(.get, "/healthz")
        }
        #expect(!off.all.contains { $0.contains("/healthz") })
    }
}

extension ISO8601DateFormatter {
    static var withFractionalSeconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
