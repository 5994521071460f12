import ArgumentParser
import Foundation
import KeywardenCore
import KeywardenServer

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list, change, disable, enable, revoke and import API keys on the configured database.",
        discussion: "A running server picks up keys created or changed here within a few seconds.",
        subcommands: [
            Create.self, List.self, Update.self, Disable.self, Enable.self, Revoke.self, Import.self,
        ])

    /// The entries of an `--allowed-ips` value: addresses or CIDR ranges separated by commas.
    static func addressList(_ text: String) -> [String] {
        text.split(separator: ",").map(String.init)
    }

    /// `active`, `disabled`, `expired` or `revoked`, as `keys list` and the other commands print it.
    static func state(of key: APIKey, now: Date) -> String {
        if key.revokedAt != nil { return "revoked" }
        if !key.isActive(at: now) { return "expired" }
        return key.isDisabled ? "disabled" : "active"
    }

    /// How the commands print a key: its id, redacted value and state, then its allowed IP ranges
    /// if it has any.
    static func summary(of key: APIKey, now: Date) -> String {
        let ranges = key.allowedIPs.allowsAnyAddress ? "" : "  allowed_ips=" + key.allowedIPs.stored
        return "\(key.id.rawValue)  \(key.redactedValue)  \(state(of: key, now: now))\(ranges)"
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a project key (the issuance policy applies); prints the key once.")

        @OptionGroup var options: ConfigurationOptions
        @Option(help: "The project id (proj_...).") var project: String
        @Option(help: "A name for the key.") var name: String?
        @Option(help: "all, read_only or restricted.") var permissions = "all"
        @Option(parsing: .upToNextOption, help: "Scopes of a restricted key.") var scopes: [String] = []
        @Option(
            name: [.customLong("expires-in-seconds"), .customLong("expires-in")],
            help: "Seconds until the key expires: 60 to 157680000 (five years). Without it, never.")
        var expiresInSeconds: Int?
        @Option(
            name: .customLong("allowed-ips"),
            help: "Addresses or CIDR ranges the key accepts calls from, separated by commas (at most 32).")
        var allowedIPs: String?

        func run() async throws {
            try await withKeyService(options) { keys, _ in
                let request = try APIKeyService.Request(
                    name: name,
                    permissions: try KeyPermissions(name: permissions, scopes: scopes.isEmpty ? nil : scopes),
                    expiresInSeconds: expiresInSeconds, allowedIPs: allowedIPs.map(Keys.addressList))
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
                    print("\(Keys.summary(of: key, now: clock.now()))\(key.legacy ? "  legacy" : "")  \(key.name)")
                }
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a key's name, permissions, scopes or allowed IP ranges; what is not given stays.",
            discussion: """
                The key keeps its value, so nothing that uses it needs a new one. The same rules apply as \
                when a key is created. --allowed-ips '' lets the key be used from any address again.
                """)

        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The key id (key_...).") var key: String
        @Option(help: "A new name.") var name: String?
        @Option(help: "all, read_only or restricted.") var permissions: String?
        @Option(parsing: .upToNextOption, help: "The scopes of a restricted key.") var scopes: [String] = []
        @Option(
            name: .customLong("allowed-ips"),
            help: "Addresses or CIDR ranges the key accepts calls from, separated by commas; '' for any address.")
        var allowedIPs: String?

        func run() async throws {
            try await withKeyService(options) { keys, clock in
                let change = APIKeyService.Change(
                    name: name, permissions: permissions, scopes: scopes.isEmpty ? nil : scopes,
                    allowedIPs: allowedIPs.map(Keys.addressList))
                let updated = try await keys.updateByOperator(key, change: change)
                print("updated \(Keys.summary(of: updated, now: clock.now()))  \(updated.permissions.stored)")
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a key: it is refused until it is enabled again, and keeps its value and settings.")

        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The key id (key_...).") var key: String

        func run() async throws {
            try await withKeyService(options) { keys, clock in
                let disabled = try await keys.disableByOperator(key)
                print("disabled \(Keys.summary(of: disabled, now: clock.now()))")
            }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enable a disabled key again; a revoked or expired key cannot be enabled.")

        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The key id (key_...).") var key: String

        func run() async throws {
            try await withKeyService(options) { keys, clock in
                let enabled = try await keys.enableByOperator(key)
                print("enabled \(Keys.summary(of: enabled, now: clock.now()))")
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
