import ArgumentParser
import Foundation
import KeywardenServer

struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Operator actions on the configured database.",
        subcommands: [Organization.self, Operator.self, Email.self])

    struct Organization: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "org", abstract: "Inspect and manage organizations.",
            subcommands: [Show.self, ResetVerification.self, SetTier.self, GrantCredits.self])
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print an organization, its verification and its members as JSON.")

        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The organization id (org_...).") var organization: String

        func run() async throws {
            let (configuration, logger) = try await options.load()
            let admin = try await Administration.open(configuration: configuration, logger: logger)
            do {
                print(try await admin.showOrganization(organization))
            } catch {
                try await admin.close()
                throw ValidationError("\(error)")
            }
            try await admin.close()
        }
    }

    struct ResetVerification: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Return an organization to unverified; recorded in its audit log.",
            discussion: "Its verified number stops counting toward that number's organization limit.")

        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The organization id (org_...).") var organization: String
        @Option(help: "Why, for the audit log.") var reason: String?

        func run() async throws {
            let (configuration, logger) = try await options.load()
            let admin = try await Administration.open(configuration: configuration, logger: logger)
            do {
                try await admin.resetVerification(organization, reason: reason)
            } catch {
                try await admin.close()
                throw ValidationError("\(error)")
            }
            try await admin.close()
            print("organization \(organization) is unverified")
        }
    }
}

extension Admin {
    struct SetTier: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-tier",
            abstract: "Pin an organization's usage tier; recorded in its audit log.",
            discussion:
                "Tiers come from the usage_tiers setting (or the older rate_limit_tiers). A pinned tier stays whatever the organization pays; 'default' removes the pin, so the organization has the tier its payments earn. Running servers apply it within 10 seconds."
        )

        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The organization id (org_...).") var organization: String
        @Argument(help: "A configured tier name, or 'default'.") var tier: String

        func run() async throws {
            let (configuration, logger) = try await options.load()
            let admin = try await Administration.open(configuration: configuration, logger: logger)
            do {
                try await admin.setTier(organization, tier: tier == "default" ? nil : tier)
            } catch {
                try await admin.close()
                throw ValidationError("\(error)")
            }
            try await admin.close()
            print("organization \(organization) is on tier \(tier)")
        }
    }
}

extension Admin {
    struct GrantCredits: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "grant-credits",
            abstract: "Add credit to an organization's balance; recorded in its audit log.",
            discussion: "The amount is in the billing currency, such as 25 or 25.00; it is a grant entry of the ledger."
        )

        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The organization id (org_...).") var organization: String
        @Argument(help: "The amount, such as 25 or 25.00.") var amount: String
        @Option(help: "Why, for the history and the audit log.") var reason: String?

        func run() async throws {
            print(
                try await withServices(options) {
                    try await $0.grantCredits(organization, amount: amount, reason: reason)
                })
        }
    }
}

struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Print the latest messages of the development (log) SMS or, with --email, email provider.")

    @OptionGroup var options: ConfigurationOptions
    @Option(help: "How many messages, 1 to 1000.") var count = 10
    @Flag(help: "Show the email of the log email provider instead: time, recipient, subject, then the text.")
    var email = false

    func validate() throws {
        guard (1...1000).contains(count) else {
            throw ValidationError("--count must be from 1 to 1000.")
        }
    }

    func run() async throws {
        let (configuration, _) = try await options.load()
        if email {
            try EmailOutboxListing.print(in: configuration.storage.dataDirectory, count: count)
            return
        }
        let entries = try KeywardenOutbox.latest(in: configuration.storage.dataDirectory, count: count)
        if entries.isEmpty {
            let path = URL(fileURLWithPath: configuration.storage.dataDirectory).appendingPathComponent("outbox.jsonl")
                .standardizedFileURL.path
            print(
                "no messages in \(path); run this where 'keywarden serve' keeps its data (--data-dir), with the log SMS provider"
            )
        }
        for entry in entries {
            print("\(entry.sentAt)  \(entry.to)  \(entry.verificationID)  \(entry.body)")
        }
    }
}
