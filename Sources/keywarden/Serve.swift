import ArgumentParser
import Hummingbird
import KeywardenServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the Keywarden server.",
        discussion: """
            Every option can also come from a KEYWARDEN_* environment variable or a JSON config \
            file; flags win over the environment, the environment over the file. The server \
            secret is read from KEYWARDEN_SECRET (32+ characters); on SQLite, when it is unset, \
            one is generated into the data directory with a warning. PostgreSQL deployments must \
            set it. SQLite databases are migrated on start; PostgreSQL ones only with --migrate.

            Settings (config-file key, environment variable):

            """
                + Setting.allCases.map(\.helpLine).joined(separator: "\n"))

    @OptionGroup var options: ConfigurationOptions

    @Option(help: "Address to listen on. Env: KEYWARDEN_HOST. Default: 127.0.0.1.")
    var host: String?

    @Option(help: "Port to listen on. Env: KEYWARDEN_PORT. Default: 8080.")
    var port: Int?

    @Flag(help: "Apply pending PostgreSQL migrations before serving. Env: KEYWARDEN_MIGRATE=true.")
    var migrate = false

    @Option(help: "bcrypt cost for password hashes, 4-31. Env: KEYWARDEN_BCRYPT_COST. Default: 12.")
    var bcryptCost: Int?

    @Option(
        name: [.customLong("upstream-url"), .customLong("upstream")],
        help: """
            Where authenticated /v1/* calls go: an http(s) base URL, or 'echo', a development upstream that \
            answers chat completions (streamed or not), models and embeddings itself. Env: KEYWARDEN_UPSTREAM_URL. \
            Default: no gateway.
            """)
    var upstreamURL: String?

    func run() async throws {
        var flags: [String: String] = [:]
        flags[Setting.host.key] = host
        flags[Setting.port.key] = port.map(String.init)
        flags[Setting.bcryptCost.key] = bcryptCost.map(String.init)
        flags[Setting.upstreamURL.key] = upstreamURL
        if migrate { flags[Setting.migrate.key] = "true" }
        let (configuration, logger) = try await options.load(extraFlags: flags)
        do {
            let instance = try await KeywardenInstance.build(configuration: configuration, logger: logger)
            try await instance.run()
        } catch let error as StartupError {
            logger.critical("not starting: \(error.description)")
            throw ExitCode(1)
        } catch let error as ConfigurationError {
            logger.critical("not starting: \(error.description)")
            throw ExitCode(1)
        }
    }
}
