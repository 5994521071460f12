import Configuration
import Foundation
import KeywardenProviders
import KeywardenServer
import Testing

@Suite("Email settings")
struct EmailSettingsTests {
    static let smtp = ["KEYWARDEN_EMAIL_PROVIDER": "smtp", "KEYWARDEN_SMTP_HOST": "smtp.example.com"]

    func load(_ environment: [String: String]) async throws -> KeywardenConfiguration {
        try await KeywardenConfiguration.load(from: ConfigurationSources(flags: [:], environment: environment))
    }

    func refusal(_ environment: [String: String]) async -> ConfigurationError? {
        await #expect(throws: ConfigurationError.self) { try await load(environment) }
    }

    func caFile(_ contents: String) throws -> String {
        let name = "keywarden-ca-\(UUID().uuidString).pem"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(name)
        try Data(contents.utf8).write(to: path)
        return path.path
    }

    @Test func theLogProviderAndKeywardenAtLocalhostAreTheDefaults() async throws {
        let email = try await load([:]).email
        #expect(email.provider == .log)
        #expect(email.from == EmailMailbox(displayName: "Keywarden", address: "keywarden@localhost"))
        #expect(Setting.emailFrom.defaultValue == "Keywarden <keywarden@localhost>")
        #expect(Setting.smtpPort.defaultValue == "587")
        #expect(Setting.smtpSecurity.defaultValue == "starttls")
        #expect(Setting.smtpTimeout.defaultValue == "10")
    }

    @Test func smtpTakesEverySettingItNeeds() async throws {
        let roots = try caFile("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
        let email = try await load(
            Self.smtp.merging([
                "KEYWARDEN_SMTP_PORT": "465", "KEYWARDEN_SMTP_SECURITY": "tls", "KEYWARDEN_SMTP_USERNAME": "mailer",
                "KEYWARDEN_SMTP_PASSWORD": "hunter2-smtp", "KEYWARDEN_SMTP_CA_FILE": roots,
                "KEYWARDEN_SMTP_TIMEOUT": "30", "KEYWARDEN_EMAIL_FROM": "\"Keys, Inc.\" <keys@example.com>",
            ]) { $1 }
        ).email
        #expect(
            email.provider
                == .smtp(
                    SMTPRelay(
                        host: "smtp.example.com", port: 465, security: .tls,
                        credentials: SMTPCredentials(username: "mailer", password: "hunter2-smtp"),
                        trustedRootsFile: roots, timeout: 30)))
        #expect(email.from == EmailMailbox(displayName: "Keys, Inc.", address: "keys@example.com"))
    }

    @Test func smtpDefaultsToSTARTTLSOnPort587WithoutSigningIn() async throws {
        let email = try await load(Self.smtp).email
        #expect(email.provider == .smtp(SMTPRelay(host: "smtp.example.com")))
        #expect(SMTPRelay(host: "h").port == 587 && SMTPRelay(host: "h").security == .starttls)
        #expect(SMTPRelay(host: "h").timeout == 10 && SMTPRelay(host: "h").credentials == nil)
    }

    @Test func smtpWithoutAHostIsRefusedNamingIt() async {
        #expect(await refusal(["KEYWARDEN_EMAIL_PROVIDER": "smtp"])?.key == "smtp_host")
        #expect(await refusal(["KEYWARDEN_EMAIL_PROVIDER": "sendmail"])?.key == "email_provider")
    }

    @Test func plainTextIsAllowedOnlyTowardsLoopback() async throws {
        let error = await refusal(Self.smtp.merging(["KEYWARDEN_SMTP_SECURITY": "none"]) { $1 })
        #expect(error?.key == "smtp_security")
        #expect(error?.message.contains("loopback") == true)
        for host in ["127.0.0.1", "localhost", "::1", "127.8.9.10"] {
            let email = try await load([
                "KEYWARDEN_EMAIL_PROVIDER": "smtp", "KEYWARDEN_SMTP_HOST": host, "KEYWARDEN_SMTP_SECURITY": "none",
            ]).email
            #expect(email.provider == .smtp(SMTPRelay(host: host, security: .plaintext)), "\(host)")
        }
        for host in ["128.0.0.1", "localhost.example.com", "127.0.0.256", "10.0.0.1", "127.0.0"] {
            #expect(!SMTPRelay.isLoopback(host), "\(host)")
        }
        #expect(await refusal(Self.smtp.merging(["KEYWARDEN_SMTP_SECURITY": "ssl"]) { $1 })?.key == "smtp_security")
    }

    @Test func aUserNameAndAPasswordComeTogetherOrNotAtAll() async {
        let noPassword = await refusal(Self.smtp.merging(["KEYWARDEN_SMTP_USERNAME": "mailer"]) { $1 })
        #expect(noPassword?.key == "smtp_password")
        let noUser = await refusal(Self.smtp.merging(["KEYWARDEN_SMTP_PASSWORD": "hunter2-smtp"]) { $1 })
        #expect(noUser?.key == "smtp_username")
    }

    @Test(arguments: [
        ("KEYWARDEN_SMTP_PORT", "0"), ("KEYWARDEN_SMTP_PORT", "65536"), ("KEYWARDEN_SMTP_PORT", "smtp"),
        ("KEYWARDEN_SMTP_TIMEOUT", "0"), ("KEYWARDEN_SMTP_TIMEOUT", "301"), ("KEYWARDEN_SMTP_HOST", "smtp example"),
        ("KEYWARDEN_SMTP_CA_FILE", "/nonexistent/keywarden-ca.pem"),
    ])
    func valuesOutOfRangeAreRefusedNamingTheSetting(_ variable: String, _ value: String) async {
        let error = await refusal(Self.smtp.merging([variable: value]) { $1 })
        #expect(error?.key == variable.dropFirst("KEYWARDEN_".count).lowercased())
    }

    @Test func aFileWithoutCertificatesIsNoCAFile() async throws {
        let file = try caFile("not a certificate")
        let error = await refusal(Self.smtp.merging(["KEYWARDEN_SMTP_CA_FILE": file]) { $1 })
        #expect(error?.key == "smtp_ca_file")
    }

    @Test(arguments: ["Keywarden", "keys@example.com\r\nBcc: victim@example.com", "Keys <keys@example.com"])
    func anEmailFromThatIsNoMailboxOnOneLineIsRefused(_ value: String) async {
        #expect(await refusal(["KEYWARDEN_EMAIL_FROM": value])?.key == "email_from")
    }

    @Test func theSMTPPasswordIsASecretRedactedWhereSettingsAreReported() async throws {
        let password = "smtp-password-never-reported"
        #expect(Setting.smtpPassword.isSecret)
        let reporter = RecordingAccessReporter()
        let configuration = try await KeywardenConfiguration.load(
            from: ConfigurationSources(
                flags: [:],
                environment: Self.smtp.merging([
                    "KEYWARDEN_SMTP_USERNAME": "mailer", "KEYWARDEN_SMTP_PASSWORD": password,
                ]) { $1 }),
            accessReporter: reporter)
        guard case .smtp(let relay) = configuration.email.provider else {
            Issue.record("not the SMTP provider")
            return
        }
        #expect(relay.credentials?.password == password)
        #expect(!String(describing: relay).contains(password))
        let reported = reporter.descriptions.joined(separator: "\n")
        #expect(reported.contains("smtp_password"))
        #expect(!reported.contains(password))
    }
}
