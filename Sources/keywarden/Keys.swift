import ArgumentParser
import Foundation
import KeywardenCore
import KeywardenServer

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list, revoke and import API keys on the configured database.",
        discussion: "A running server picks up keys created or revoked here within a few seconds.",
        subcommands: [Create.self, List.self, Revoke.self, Import.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a project key (the issuance policy applies); prints the key once.")

        @OptionGroup var options: ConfigurationOptions
        @Option(help: "The project id (proj_...).") var project: String
        @Option(help: "A name for the key.") var name: String?
        @Option(help: "all, read_only or restricted.") var permissions = "all"
        @Option(parsing: .upToNextOption, help: "Scopes of a restricted key.") var scopes: [String] = []
        @Option(help: "Seconds until the key expires.") var expiresIn: Int?

        func run() async throws {
            try await withKeyService(options) { keys, _ in
                let request = try APIKeyService.Request(
                    name: name,
                    permissions: try KeyPermissions(name: permissions, scopes: scopes.isEmpty ? nil : scopes),
                    expiresInSeconds: expiresIn)
                let issued = try await keys.createByOperator(project: project, request: request)
                print("\(issued.key.id.rawValue)  \(issued.value)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a project's keys, redacted.")

        @OptionGroup var options: ConfigurationOptions
        @Option(help: "The project id (proj_...).") var project: String

        func run() async throws {
            try await withKeyService(options) { keys, clock in
                for key in try await keys.keysByOperator(project: project) {
                    let state =
                        key.revokedAt != nil
                        ? "revoked" : (key.expiresAt.map { $0 <= clock.now() } ?? false) ? "expired" : "active"
                    print(
                        "\(key.id.rawValue)  \(key.redactedValue)  \(state)\(key.legacy ? "  legacy" : "")  \(key.name)"
                    )
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key at once.")

        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The key id (key_...).") var key: String

        func run() async throws {
            try await withKeyService(options) { keys, _ in
                let revoked = try await keys.revokeByOperator(key)
                print("revoked \(revoked.id.rawValue) (\(revoked.redactedValue))")
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import keys from an earlier system.",
            discussion: """
                The CSV has a header with name, key (the key itself) or sha256 (its hex SHA-256), and \
                created_at (ISO 8601 or Unix seconds). Keys created before the enforcement date are legacy \
                and work without verification; later ones follow the issuance policy.
                """)

        @OptionGroup var options: ConfigurationOptions
        @Option(help: "The project id (proj_...).") var project: String
        @Option(help: "The CSV file.") var file: String

        func run() async throws {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            let entries: [APIKeyService.ImportedKey]
            do {
                entries = try KeyImportFile.parse(text)
            } catch {
                throw ValidationError("\(file): \(error)")
            }
            try await withKeyService(options) { keys, _ in
                let imported = try await keys.importKeys(entries, project: project)
                for key in imported {
                    print("\(key.id.rawValue)  \(key.redactedValue)\(key.legacy ? "  legacy" : "")  \(key.name)")
                }
                print("imported \(imported.count) key(s)")
            }
        }
    }
}

/// Runs `body` with the key service over the configured database and the clock its services
/// read, closing the database after, and turns refusals into command-line errors.
func withKeyService(
    _ options: ConfigurationOptions, _ body: (APIKeyService, Clock) async throws -> Void
) async throws {
    let (configuration, logger) = try await options.load()
    let services = try await KeywardenServices.open(configuration: configuration, logger: logger)
    do {
        try await body(services.keys, services.clock)
    } catch let error as DomainError {
        try await services.database.shutdown()
        throw ValidationError(error.message)
    } catch {
        try await services.database.shutdown()
        throw error
    }
    try await services.database.shutdown()
}
