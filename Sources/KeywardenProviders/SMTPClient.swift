import Foundation
import KeywardenCore
import NIOCore
import NIOPosix
import NIOSSL

/// The SMTP email provider (`email_provider smtp`): one connection per message to the relay,
/// TLS from the first byte or after STARTTLS (never falling back to plain text), certificates
/// always checked, AUTH PLAIN or LOGIN when credentials are set.
///
/// Every failure is a ``ProviderError`` naming the step and the server's reply code; none holds
/// the password or the message.
public struct SMTPClient: Sendable {
    /// The server and how to reach it.
    public let relay: SMTPRelay
    /// The From of every message.
    public let from: EmailMailbox
    let clock: Clock
    let group: any EventLoopGroup
    /// The TLS settings, made once; `nil` for `smtp_security none`.
    private let tls: Result<NIOSSLContext, ProviderError>?

    /// A client for `relay`, sending as `from`.
    public init(
        relay: SMTPRelay, from: EmailMailbox, clock: Clock = .live,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.relay = relay
        self.from = from
        self.clock = clock
        self.group = group
        self.tls = relay.security == .plaintext ? nil : Self.makeTLSContext(trusting: relay.trustedRootsFile)
    }

    /// The sender to hand to the services.
    public var sender: EmailSender {
        EmailSender(name: "smtp") { message in try await self.send(message) }
    }

    /// Sends one message, or throws ``ProviderError`` saying which step failed.
    public func send(_ message: EmailMessage) async throws {
        let rendered = try MIMEMessage(message, from: from, date: clock.now()).rendered()
        let payload = SMTPData.payload(rendered)
        let connection = try await connect()
        do {
            try await converse(over: connection, recipient: message.to.value, payload: payload)
        } catch {
            connection.close()
            throw error
        }
        connection.close()
    }

    /// Greeting, EHLO, STARTTLS and EHLO again, AUTH, MAIL FROM, RCPT TO, DATA, the message, QUIT.
    private func converse(over connection: SMTPConnection, recipient: String, payload: [UInt8]) async throws {
        let name = MIMEMessage.hostName(of: from)
        try await connection.greet()
        let hello = try await connection.command("EHLO \(name)", step: "EHLO", expecting: [250])
        var offered = SMTPCapabilities(ehlo: hello)
        if relay.security == .starttls {
            guard offered.contains("STARTTLS") else {
                throw ProviderError(
                    provider: "smtp",
                    detail:
                        "\(relay.host):\(relay.port) does not offer STARTTLS, and smtp_security starttls does not go on in plain text; nothing was sent (use smtp_security tls for a server that wants TLS from the start)"
                )
            }
            try await connection.command("STARTTLS", step: "STARTTLS", expecting: [220], endsPlaintext: true)
            let context = try tlsContext()
            try await connection.startTLS(context, serverHostname: Self.serverHostname(relay.host))
            let helloAgain = try await connection.command("EHLO \(name)", step: "EHLO after STARTTLS", expecting: [250])
            offered = SMTPCapabilities(ehlo: helloAgain)
        }
        if let credentials = relay.credentials {
            try await authenticate(credentials, offered: offered, over: connection)
        }
        let international = !recipient.isAllASCII || !from.address.isAllASCII
        guard !international || offered.contains("SMTPUTF8") else {
            throw ProviderError(
                provider: "smtp",
                detail: "the server does not offer SMTPUTF8, which addresses that are not ASCII need; nothing was sent"
            )
        }
        let mailFrom = "MAIL FROM:<\(from.address)>" + (international ? " SMTPUTF8" : "")
        try await connection.command(mailFrom, step: "MAIL FROM", expecting: [250])
        try await connection.command("RCPT TO:<\(recipient)>", step: "RCPT TO", expecting: [250, 251])
        try await connection.command("DATA", step: "DATA", expecting: [354])
        try await connection.send(message: payload)
        // The message is accepted; how the server takes QUIT changes nothing.
        _ = try? await connection.command("QUIT", step: "QUIT", expecting: [221])
    }

    /// AUTH PLAIN, or AUTH LOGIN where PLAIN is not offered; only inside TLS, or in plain text
    /// to a loopback address with `smtp_security none`.
    private func authenticate(
        _ credentials: SMTPCredentials, offered: SMTPCapabilities, over connection: SMTPConnection
    ) async throws {
        // Every other connection is inside TLS by now; the settings allow `none` only to loopback.
        guard relay.security != .plaintext || SMTPRelay.isLoopback(relay.host) else {
            throw ProviderError(provider: "smtp", detail: "AUTH in plain text to \(relay.host) is refused")
        }
        let mechanisms = offered.authMechanisms
        func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
        if mechanisms.contains("PLAIN") {
            let token = base64("\u{0}\(credentials.username)\u{0}\(credentials.password)")
            try await connection.command("AUTH PLAIN \(token)", step: "AUTH PLAIN", expecting: [235])
        } else if mechanisms.contains("LOGIN") {
            try await connection.command("AUTH LOGIN", step: "AUTH LOGIN", expecting: [334])
            try await connection.command(base64(credentials.username), step: "AUTH LOGIN user name", expecting: [334])
            try await connection.command(base64(credentials.password), step: "AUTH LOGIN password", expecting: [235])
        } else {
            let listed = mechanisms.isEmpty ? "none" : mechanisms.sorted().joined(separator: ", ")
            throw ProviderError(
                provider: "smtp",
                detail:
                    "smtp_username is set but the server offers no AUTH mechanism Keywarden speaks (PLAIN or LOGIN; offered: \(listed)); nothing was sent"
            )
        }
    }

    private func connect() async throws -> SMTPConnection {
        let implicitTLS: NIOSSLContext? = try relay.security == .tls ? tlsContext() : nil
        let serverHostname = Self.serverHostname(relay.host)
        let seconds = relay.timeout
        let timeout = TimeAmount.seconds(Int64(seconds))
        do {
            return try await ClientBootstrap(group: group)
                .connectTimeout(timeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: relay.host, port: relay.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let implicitTLS {
                            let tls = try NIOSSLClientHandler(context: implicitTLS, serverHostname: serverHostname)
                            try channel.pipeline.syncOperations.addHandler(tls)
                        }
                        let greeting = channel.eventLoop.makePromise(of: SMTPReply.self)
                        let handler = SMTPReplyHandler(timeout: timeout, greeting: greeting)
                        do {
                            try channel.pipeline.syncOperations.addHandler(handler)
                        } catch {
                            greeting.fail(error)
                            throw error
                        }
                        return SMTPConnection(
                            channel: channel, handler: handler, greeting: greeting.futureResult, timeout: seconds)
                    }
                }
        } catch {
            let reason =
                if let channelError = error as? ChannelError, case .connectTimeout = channelError {
                    "no connection within \(seconds) seconds"
                } else {
                    "\(error)"
                }
            throw ProviderError(provider: "smtp", detail: "cannot connect to \(relay.host):\(relay.port): \(reason)")
        }
    }

    private func tlsContext() throws -> NIOSSLContext {
        guard let tls else { throw ProviderError(provider: "smtp", detail: "TLS is not set up for smtp_security none") }
        return try tls.get()
    }

    /// The name for SNI and the certificate check: the host, unless it is an IP address (which
    /// SNI cannot carry; the certificate is then checked against the address connected to).
    static func serverHostname(_ host: String) -> String? {
        (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
    }

    /// TLS 1.2 or later, the certificate chain and host name always verified, against the
    /// system's roots and those in `smtp_ca_file`.
    static func makeTLSContext(trusting rootsFile: String?) -> Result<NIOSSLContext, ProviderError> {
        do {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            configuration.certificateVerification = .fullVerification
            if let rootsFile {
                configuration.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(rootsFile))]
            }
            return .success(try NIOSSLContext(configuration: configuration))
        } catch {
            let source = rootsFile.map { " with the roots in \($0)" } ?? ""
            return .failure(ProviderError(provider: "smtp", detail: "cannot set up TLS\(source): \(error)"))
        }
    }
}
