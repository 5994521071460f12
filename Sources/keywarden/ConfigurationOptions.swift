import ArgumentParser
import Foundation
import KeywardenHTTP
import KeywardenServer
import Logging

/// The flags every command that reads the configuration shares.
struct ConfigurationOptions: ParsableArguments {
    @Option(help: "A JSON file of settings (keys as in the README). Env: KEYWARDEN_CONFIG.")
    var config: String?

    @Option(
        help:
            "Directory for the SQLite file and the generated development secret. Env: KEYWARDEN_DATA_DIR. Default: ./.keywarden."
    )
    var dataDir: String?

    @Option(
        help:
            "postgres://USER:PASSWORD@HOST:PORT/DB, sqlite:PATH or sqlite::memory:. Env: KEYWARDEN_DATABASE_URL. Default: SQLite file in the data directory."
    )
    var databaseURL: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical. Env: KEYWARDEN_LOG_LEVEL. Default: info.")
    var logLevel: String?

    /// The flags given, by config key.
    var flags: [String: String] {
        var flags: [String: String] = [:]
        flags["config"] = config
        flags[Setting.dataDirectory.key] = dataDir
        flags[Setting.databaseURL.key] = databaseURL
        flags[Setting.logLevel.key] = logLevel
        return flags
    }

    /// Loads the configuration with extra flags, and starts logging at its level.
    func load(extraFlags: [String: String] = [:]) async throws -> (KeywardenConfiguration, Logger) {
        let configuration: KeywardenConfiguration
        do {
            configuration = try await KeywardenConfiguration.load(
                from: ConfigurationSources(flags: flags.merging(extraFlags) { $1 }))
        } catch let error as ConfigurationError {
            // One sentence naming the setting; the usage text would only bury it.
            FileHandle.standardError.write(Data("keywarden: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
        let level = Logger.Level(rawValue: configuration.server.logLevel) ?? .info
        let json = configuration.server.logFormat == .json
        LoggingSystem.bootstrap { label in
            if json {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = level
            return handler
        }
        return (configuration, Logger(label: "keywarden"))
    }
}
