/// The mail server Keywarden hands its messages to (`email_provider smtp`), and how it talks to it.
public struct SMTPRelay: Equatable, Sendable {
    /// The server's host name or IP address; certificates are checked against it.
    public var host: String
    /// The server's port.
    public var port: Int
    /// How the connection is protected.
    public var security: SMTPSecurity
    /// The AUTH user name and password, or `nil` to send without signing in.
    public var credentials: SMTPCredentials?
    /// A PEM file of root certificates trusted besides the system's (private CAs, tests).
    public var trustedRootsFile: String?
    /// Seconds to connect, and seconds for each reply.
    public var timeout: Int

    /// The submission port, which `starttls` uses; `tls` usually wants 465.
    public static let defaultPort = 587
    /// STARTTLS, as submission servers on port 587 expect.
    public static let defaultSecurity = SMTPSecurity.starttls
    /// Ten seconds to connect and for each reply.
    public static let defaultTimeout = 10

    /// A relay; the caller has checked the settings.
    public init(
        host: String, port: Int = SMTPRelay.defaultPort, security: SMTPSecurity = SMTPRelay.defaultSecurity,
        credentials: SMTPCredentials? = nil, trustedRootsFile: String? = nil, timeout: Int = SMTPRelay.defaultTimeout
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.credentials = credentials
        self.trustedRootsFile = trustedRootsFile
        self.timeout = timeout
    }

    /// Whether `host` names this machine: `localhost`, an address in 127.0.0.0/8, or `::1`.
    public static func isLoopback(_ host: String) -> Bool {
        let name = host.lowercased()
        if name == "localhost" || name == "::1" || name == "[::1]" || name == "0:0:0:0:0:0:0:1" { return true }
        let octets = name.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.first == "127" else { return false }
        return octets.allSatisfy { octet in
            (1...3).contains(octet.count) && octet.allSatisfy(\.isASCIIDigit) && (Int(octet) ?? 256) <= 255
        }
    }
}

/// How the connection to the SMTP server is protected (`smtp_security`).
public enum SMTPSecurity: String, Sendable, CaseIterable {
    /// Plain text at first, then TLS after the STARTTLS command; refused when not offered.
    case starttls
    /// TLS from the first byte (often port 465).
    case tls
    /// Plain text throughout (`none`); allowed only towards a loopback address.
    case plaintext = "none"
}

/// The AUTH user name and password. Its descriptions never show the password.
public struct SMTPCredentials: Equatable, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The user name.
    public var username: String
    /// The password, sent only inside TLS (or to loopback with `smtp_security none`).
    public var password: String

    /// Credentials.
    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    public var description: String { "SMTPCredentials(username: \(username), password: <redacted>)" }
    public var debugDescription: String { description }
}

extension Character {
    /// `0` to `9`.
    var isASCIIDigit: Bool { isASCII && isNumber }
}
