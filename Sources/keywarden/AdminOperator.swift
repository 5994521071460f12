import ArgumentParser
import Foundation
import KeywardenServer

extension Admin {
    struct Operator: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "operator",
            abstract: "Grant or revoke the operator role, which opens the operator console (/admin).",
            discussion:
                "Operators must also turn on two-factor authentication (Settings → Security) before the console opens. Grants and revocations are recorded in the console's audit log.",
            subcommands: [Grant.self, Revoke.self, List.self])
    }
}

extension Admin.Operator {
    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make the account with this email an operator.")

        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The email address the person signs in with.") var email: String

        func run() async throws {
            let granted = try await withServices(options) { try await $0.console.grantOperator(email: email) }
            print(granted ? "\(email) is an operator" : "\(email) was an operator already")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take the operator role away.")

        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The email address the person signs in with.") var email: String

        func run() async throws {
            let revoked = try await withServices(options) { try await $0.console.revokeOperator(email: email) }
            print(revoked ? "\(email) is no longer an operator" : "\(email) was not an operator")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every operator's email address.")

        @OptionGroup var options: ConfigurationOptions

        func run() async throws {
            let operators = try await withServices(options) { try await $0.console.operators() }
            for user in operators { print(user.email.value) }
        }
    }
}

/// Runs `work` on the services over the configured database, closing them whatever happens; a
/// refusal becomes the command's error message.
func withServices<Result: Sendable>(
    _ options: ConfigurationOptions, _ work: (KeywardenServices) async throws -> Result
) async throws -> Result {
    let (configuration, logger) = try await options.load()
    let services = try await KeywardenServices.open(configuration: configuration, logger: logger)
    let result: Result
    do {
        result = try await work(services)
    } catch {
        try await services.shutdown()
        throw ValidationError("\(error)")
    }
    try await services.shutdown()
    return result
}
