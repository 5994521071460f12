import ArgumentParser
import KeywardenServer

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending database migrations and exit.")

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let (configuration, logger) = try await options.load(extraFlags: ["migrate": "true"])
        let database = try await openDatabase(configuration: configuration, logger: logger)
        try await database.shutdown()
        print("database is up to date")
    }
}
