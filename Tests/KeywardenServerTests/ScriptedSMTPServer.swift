import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// What a scripted SMTP server does: whether it greets, what it offers after EHLO, and the one
/// user name and password it accepts.
struct SMTPScript: Sendable {
    var greets = true
    var extensions = ["AUTH PLAIN LOGIN", "SMTPUTF8"]
    var username = "mailer"
    var password = "right-password"
    /// What STARTTLS is answered with, if it is offered at all.
    var starttlsAnswer: String?
}

/// A plain-text SMTP server on a loopback port that answers from a script and keeps every line
/// it receives, commands and message alike, as they came (dot-stuffing included).
final class ScriptedSMTPServer: Sendable {
    let script: SMTPScript
    private let received = Mutex<[String]>([])

    init(_ script: SMTPScript = SMTPScript()) {
        self.script = script
    }

    /// Every line received, in order.
    var lines: [String] { received.withLock { $0 } }

    func record(_ line: String) {
        received.withLock { $0.append(line) }
    }

    /// Runs the server for the duration of `body`, which is given its port.
    func run(_ body: @Sendable (Int) async throws -> Void) async throws {
        let server = self
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ScriptedSMTPHandler(server: server))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { channel.close(promise: nil) }
        try await body(channel.localAddress?.port ?? 0)
    }
}

/// One connection of a ``ScriptedSMTPServer``.
final class ScriptedSMTPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let server: ScriptedSMTPServer
    private var pending: [UInt8] = []
    private var readingMessage = false
    /// 1 after AUTH LOGIN (the user name comes next), 2 after the user name (the password).
    private var loginStep = 0
    private var loginUser = ""

    init(server: ScriptedSMTPServer) {
        self.server = server
    }

    func channelActive(context: ChannelHandlerContext) {
        if server.script.greets { answer("220 scripted.test ESMTP", context) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readBytes(length: buffer.readableBytes) ?? []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            var line = Array(pending[..<newline])
            pending.removeSubrange(...newline)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            handle(String(decoding: line, as: UTF8.self), context)
        }
    }

    private func handle(_ line: String, _ context: ChannelHandlerContext) {
        server.record(line)
        if readingMessage {
            if line == "." {
                readingMessage = false
                answer("250 2.0.0 queued", context)
            }
            return
        }
        let script = server.script
        switch loginStep {
        case 1:
            loginUser = decoded(line)
            loginStep = 2
            answer("334 UGFzc3dvcmQ6", context)
            return
        case 2:
            loginStep = 0
            let accepted = loginUser == script.username && decoded(line) == script.password
            answer(accepted ? "235 2.7.0 Authentication successful" : "535 5.7.8 Invalid credentials", context)
            return
        default:
            break
        }
        let words = line.split(separator: " ").map(String.init)
        switch words.first?.uppercased() ?? "" {
        case "EHLO":
            let offered = ["scripted.test"] + script.extensions
            var reply: [String] = []
            for text in offered { reply.append((reply.count == offered.count - 1 ? "250 " : "250-") + text) }
            answer(reply.joined(separator: "\r\n"), context)
        case "AUTH" where words.count == 3 && words[1].uppercased() == "PLAIN":
            let accepted = decoded(words[2]) == "\u{0}\(script.username)\u{0}\(script.password)"
            answer(accepted ? "235 2.7.0 Authentication successful" : "535 5.7.8 Invalid credentials", context)
        case "AUTH" where words.count == 2 && words[1].uppercased() == "LOGIN":
            loginStep = 1
            answer("334 VXNlcm5hbWU6", context)
        case "MAIL", "RCPT":
            answer("250 2.1.0 OK", context)
        case "DATA":
            readingMessage = true
            answer("354 End data with <CR><LF>.<CR><LF>", context)
        case "STARTTLS" where script.starttlsAnswer != nil:
            answer(script.starttlsAnswer ?? "", context)
        case "QUIT":
            answer("221 2.0.0 Bye", context)
        default:
            answer("502 5.5.2 Command not implemented", context)
        }
    }

    private func decoded(_ base64: String) -> String {
        String(decoding: Data(base64Encoded: base64) ?? Data(), as: UTF8.self)
    }

    private func answer(_ text: String, _ context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text + "\r\n")), promise: nil)
    }
}
