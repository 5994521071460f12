import Foundation
import KeywardenCore
import Logging

/// The server secret that keys HMACs of one-time codes and phone numbers.
public enum ServerSecret {
    /// The configured secret, or, for a development SQLite deployment, the one stored in
    /// `<data-dir>/secret` (generated there on first run, with a warning).
    ///
    /// - Parameter generate: whether a missing development secret is made; tools that only use
    ///   an existing deployment pass `false` and get an error naming the file instead.
    public static func resolve(
        _ configuration: KeywardenConfiguration, logger: Logger, generate: Bool = true
    ) throws -> String {
        if let secret = configuration.storage.secret { return secret }
        if case .postgres = try configuration.database {
            throw ConfigurationError(
                key: "secret",
                message:
                    "set KEYWARDEN_SECRET (32+ random characters, the same on every instance) when using PostgreSQL")
        }
        let file = URL(fileURLWithPath: configuration.storage.dataDirectory).appendingPathComponent("secret")
        if let stored = try? String(contentsOf: file, encoding: .utf8) {
            let secret = stored.trimmingWhitespace()
            guard secret.utf8.count >= 32 else {
                throw ConfigurationError(.secret, "\(file.path) holds fewer than 32 characters")
            }
            return secret
        }
        guard generate else {
            throw ConfigurationError(
                key: "secret",
                message: "no KEYWARDEN_SECRET and no \(file.standardizedFileURL.path); use the server's data directory")
        }
        let secret = SecureRandom.base62(length: 43)
        try Data((secret + "\n").utf8).write(to: file, options: .withoutOverwriting)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        logger.warning(
            "generated a development server secret; set KEYWARDEN_SECRET in production",
            metadata: ["path": .string(file.path)])
        return secret
    }
}
