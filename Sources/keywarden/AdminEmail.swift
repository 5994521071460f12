import ArgumentParser
import Foundation
import KeywardenCore
import KeywardenServer

extension Admin {
    struct Email: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the email settings.",
            subcommands: [SendTest.self])
    }

    struct SendTest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "test",
            abstract: "Send 'Keywarden test message' through the configured email provider.",
            discussion:
                "Exits 0 once the provider has taken the message; otherwise prints why (the failed SMTP step and the server's reply code) and exits 1. Needs no database."
        )

        @OptionGroup var options: ConfigurationOptions
        @Option(help: "The address to send the test message to.") var to: String

        func run() async throws {
            let (configuration, logger) = try await options.load()
            do {
                print(try await EmailTestMessage.send(to: to, configuration: configuration, logger: logger))
            } catch let error as DomainError {
                throw ValidationError("--to: \(error.message)")
            } catch {
                FileHandle.standardError.write(Data("keywarden: the test message was not sent: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}

/// `keywarden outbox --email`: the latest messages of the log email provider.
enum EmailOutboxListing {
    /// Prints each message's time, recipient and subject, then its text indented.
    static func print(in directory: String, count: Int) throws {
        let entries = try KeywardenEmailOutbox.latest(in: directory, count: count)
        if entries.isEmpty {
            let path = URL(fileURLWithPath: directory).appendingPathComponent(KeywardenEmailOutbox.fileName)
                .standardizedFileURL.path
            Swift.print(
                "no email in \(path); run this where 'keywarden serve' keeps its data (--data-dir), with the log email provider"
            )
        }
        let formatter = ISO8601DateFormatter()
        for entry in entries {
            let sent = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(entry.sentAt)))
            Swift.print("\(sent)  \(entry.to)  \(entry.subject)")
            // "\r\n" is one Character, so split on "\n" only once it is "\n".
            let text = entry.text.replacingOccurrences(of: "\r\n", with: "\n")
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                Swift.print(line.isEmpty ? "" : "    " + String(line))
            }
        }
    }
}
