import Foundation
import KeywardenProviders
import Logging

/// Who sends email and as whom. The SMTP provider carries the settings it needs, so an
/// incomplete one cannot be configured.
public struct EmailSettings: Sendable {
    /// Who sends email.
    public var provider = EmailProvider.log
    /// The From of every message.
    public var from = EmailMailbox.keywarden

    /// The defaults.
    public init() {}

    /// Reads the email settings, requiring what the chosen provider needs.
    public init(reading settings: SettingsReader) throws {
        if let text = settings.text(.emailFrom) {
            guard let mailbox = EmailMailbox(parsing: text) else {
                throw ConfigurationError(
                    .emailFrom,
                    "expected an address, or a display name and an address, on one line: Keywarden <keywarden@example.com>"
                )
            }
            from = mailbox
        }
        let kind =
            try settings.choice(.emailProvider, as: EmailProvider.Kind.self, expected: "expected log or smtp") ?? .log
        switch kind {
        case .log: provider = .log
        case .smtp: provider = .smtp(try SMTPRelay(reading: settings))
        }
    }

    /// What the start-up log says of email: the provider, the From and, for SMTP, the server
    /// (never the credentials).
    var startupMetadata: Logger.Metadata {
        var metadata: Logger.Metadata = [
            "email_provider": .string(provider.kind.rawValue), "email_from": .string(from.description),
        ]
        if case .smtp(let relay) = provider {
            metadata["smtp"] = .string("\(relay.host):\(relay.port) \(relay.security.rawValue)")
            metadata["smtp_auth"] = .string(relay.credentials == nil ? "off" : "on")
        }
        return metadata
    }
}

/// Who sends email.
public enum EmailProvider: Sendable, Equatable {
    /// The server log and `<data-dir>/email-outbox.jsonl` (development).
    case log
    /// An SMTP server.
    case smtp(SMTPRelay)

    /// The `email_provider` values.
    public enum Kind: String, Sendable, CaseIterable {
        case log
        case smtp
    }

    /// The provider's `email_provider` value.
    public var kind: Kind {
        switch self {
        case .log: .log
        case .smtp: .smtp
        }
    }
}

extension SMTPRelay {
    /// Reads the SMTP settings, which `email_provider smtp` requires.
    init(reading settings: SettingsReader) throws {
        let host = try settings.required(.smtpHost, by: "email_provider smtp")
        guard !host.isEmpty, !host.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 })
        else { throw ConfigurationError(.smtpHost, "expected a host name or an IP address") }
        let securities = SMTPSecurity.allCases.map(\.rawValue).joined(separator: ", ")
        let security =
            try settings.choice(.smtpSecurity, as: SMTPSecurity.self, expected: "expected one of \(securities)")
            ?? Self.defaultSecurity
        if security == .plaintext, !Self.isLoopback(host) {
            throw ConfigurationError(
                .smtpSecurity,
                "none (plain text) is allowed only when smtp_host is a loopback address (localhost, 127.0.0.1, ::1), not \(host); use starttls or tls"
            )
        }
        let port = try settings.integer(.smtpPort, in: 1...65535) ?? Self.defaultPort
        let timeout = try settings.integer(.smtpTimeout, in: 1...300) ?? Self.defaultTimeout
        let credentials: SMTPCredentials?
        switch (settings.text(.smtpUsername), settings.text(.smtpPassword)) {
        case (let username?, let password?):
            credentials = SMTPCredentials(username: username, password: password)
        case (nil, nil):
            credentials = nil
        case (nil, _?):
            throw ConfigurationError(.smtpUsername, "required when smtp_password is set: set both or neither")
        case (_?, nil):
            throw ConfigurationError(.smtpPassword, "required when smtp_username is set: set both or neither")
        }
        let rootsFile = settings.text(.smtpCAFile)
        if let rootsFile {
            let contents = FileManager.default.contents(atPath: rootsFile).map { String(decoding: $0, as: UTF8.self) }
            guard let contents, contents.contains("-----BEGIN CERTIFICATE-----") else {
                throw ConfigurationError(.smtpCAFile, "expected a readable PEM file of certificates at \(rootsFile)")
            }
        }
        self.init(
            host: host, port: port, security: security, credentials: credentials, trustedRootsFile: rootsFile,
            timeout: timeout)
    }
}
