import ArgumentParser
import KeywardenServer

@main
struct Keywarden: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keywarden",
        abstract: "A self-hostable API platform: accounts, organizations, projects and API keys.",
        subcommands: [Serve.self, Migrate.self, Keys.self, OutboxCommand.self, Admin.self, Phone.self, Version.self],
        defaultSubcommand: Serve.self)
}

struct Version: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.")

    func run() async throws {
        print("keywarden \(KeywardenVersion.current)")
    }
}
