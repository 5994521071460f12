import Foundation
import KeywardenCore
import KeywardenProviders
import NIOCore
import NIOPosix
import Testing

@Suite("SMTP client against a scripted server")
struct SMTPClientTests {
    static let message = EmailMessage(
        to: EmailAddress(stored: "person@example.com"), subject: "Welcome to Keywarden",
        text: "Hello\n.hidden line\nBye", html: "<p>Hello</p>")

    static func relay(
        _ port: Int, security: SMTPSecurity = .plaintext, password: String? = "right-password"
    ) -> SMTPRelay {
        SMTPRelay(
            host: "127.0.0.1", port: port, security: security,
            credentials: password.map { SMTPCredentials(username: "mailer", password: $0) }, timeout: 1)
    }

    static func send(_ relay: SMTPRelay) async throws {
        try await SMTPClient(relay: relay, from: .keywarden).send(message)
    }

    @Test func aLoopbackConversationSignsInSendsTheMessageDotStuffedAndQuits() async throws {
        let server = ScriptedSMTPServer()
        try await server.run { port in try await Self.send(Self.relay(port)) }
        let lines = server.lines
        let token = Data("\u{0}mailer\u{0}right-password".utf8).base64EncodedString()
        let commands = lines.filter { $0.hasPrefix("EHLO") || $0.hasPrefix("AUTH") || $0 == "DATA" || $0 == "QUIT" }
        #expect(commands == ["EHLO localhost", "AUTH PLAIN \(token)", "DATA", "QUIT"])
        #expect(lines.contains("MAIL FROM:<keywarden@localhost>"))
        #expect(lines.contains("RCPT TO:<person@example.com>"))
        #expect(lines.contains("Subject: Welcome to Keywarden"))
        #expect(lines.contains("..hidden line"), "the line starting with a dot was not stuffed")
        #expect(!lines.contains(".hidden line"))
        #expect(lines.firstIndex(of: ".")! < lines.firstIndex(of: "QUIT")!)
    }

    @Test func authLoginIsUsedWhenPlainIsNotOffered() async throws {
        let server = ScriptedSMTPServer(SMTPScript(extensions: ["AUTH LOGIN"]))
        try await server.run { port in try await Self.send(Self.relay(port)) }
        let lines = server.lines
        #expect(lines.contains("AUTH LOGIN"))
        #expect(lines.contains(Data("mailer".utf8).base64EncodedString()))
        #expect(lines.contains("DATA"))
    }

    @Test func aWrongPasswordFailsNamingTheStepAndCodeButNotThePassword() async throws {
        let server = ScriptedSMTPServer()
        try await server.run { port in
            let error = await #expect(throws: ProviderError.self) {
                try await Self.send(Self.relay(port, password: "wrong-password-1234"))
            }
            #expect(error?.provider == "smtp")
            #expect(error?.detail.contains("AUTH PLAIN was answered 535 5.7.8") == true, "\(String(describing: error))")
            #expect(error?.description.contains("wrong-password-1234") == false)
        }
        #expect(!server.lines.contains { $0.hasPrefix("MAIL") })
    }

    @Test func starttlsThatIsNotOfferedSendsNothingInPlainText() async throws {
        let server = ScriptedSMTPServer()
        try await server.run { port in
            let error = await #expect(throws: ProviderError.self) {
                try await Self.send(Self.relay(port, security: .starttls))
            }
            #expect(error?.detail.contains("does not offer STARTTLS") == true, "\(String(describing: error))")
        }
        #expect(server.lines.filter { !$0.hasPrefix("EHLO") }.allSatisfy { $0 == "QUIT" })
        #expect(!server.lines.contains { $0.hasPrefix("AUTH") || $0.hasPrefix("MAIL") })
    }

    @Test func bytesAfterTheAnswerToSTARTTLSEndTheConnectionBeforeTLS() async throws {
        // An attacker between client and server can add a reply in plain text after the 220.
        let server = ScriptedSMTPServer(
            SMTPScript(extensions: ["STARTTLS", "AUTH PLAIN"], starttlsAnswer: "220 2.0.0 Ready\r\n250 injected"))
        try await server.run { port in
            let error = await #expect(throws: ProviderError.self) {
                try await Self.send(Self.relay(port, security: .starttls))
            }
            #expect(error?.detail.contains("STARTTLS") == true, "\(String(describing: error))")
        }
        #expect(Array(server.lines.prefix(2)) == ["EHLO localhost", "STARTTLS"])
        #expect(server.lines.filter { $0.hasPrefix("EHLO") }.count == 1, "EHLO again after a failed STARTTLS")
        #expect(!server.lines.contains { $0.hasPrefix("AUTH") || $0.hasPrefix("MAIL") })
    }

    @Test func aServerThatNeverGreetsFailsWithinTheTimeout() async throws {
        let server = ScriptedSMTPServer(SMTPScript(greets: false))
        try await server.run { port in
            let started = Date()
            let error = await #expect(throws: ProviderError.self) { try await Self.send(Self.relay(port)) }
            #expect(error?.detail == "no answer to greeting within 1 seconds")
            #expect(Date().timeIntervalSince(started) < 5)
        }
    }

    @Test func aPortNobodyListensOnFailsAtOnceNamingTheServer() async throws {
        // Bind a port, then free it: nothing listens there while the client tries it.
        let probe = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = probe.localAddress?.port ?? 1
        let closed = probe.eventLoop.makePromise(of: Void.self)
        probe.close(promise: closed)
        try await closed.futureResult.get()
        let error = await #expect(throws: ProviderError.self) { try await Self.send(Self.relay(port)) }
        #expect(error?.detail.hasPrefix("cannot connect to 127.0.0.1:\(port)") == true, "\(String(describing: error))")
    }

    @Test func aSubjectWithALineBreakIsRefusedBeforeConnecting() async throws {
        let server = ScriptedSMTPServer()
        try await server.run { port in
            let message = EmailMessage(
                to: EmailAddress(stored: "person@example.com"), subject: "Hello\r\nBcc: victim@example.com", text: "Hi")
            await #expect(throws: ProviderError.self) {
                try await SMTPClient(relay: Self.relay(port), from: .keywarden).send(message)
            }
        }
        #expect(server.lines.isEmpty)
    }
}
