import Testing

@testable import KeywardenProviders

@Suite("SMTP replies")
struct SMTPReplyParserTests {
    static let ehlo = [
        "250-mail.example.com Hello", "250-SIZE 10240000", "250-auth plain LOGIN", "250-STARTTLS", "250 SMTPUTF8",
    ].map { $0 + "\r\n" }.joined()

    /// Every reply in `bytes`.
    static func replies(in bytes: [UInt8]) throws -> [SMTPReply] {
        var parser = SMTPReplyParser()
        parser.append(bytes)
        var replies: [SMTPReply] = []
        while let reply = try parser.next() { replies.append(reply) }
        return replies
    }

    @Test func aMultiLineReplyIsOneReplyWhoseLinesAreTheCapabilities() throws {
        var parser = SMTPReplyParser()
        parser.append(Array(Self.ehlo.utf8))
        let reply = try #require(try parser.next())
        #expect(reply.code == 250)
        #expect(reply.lines == ["mail.example.com Hello", "SIZE 10240000", "auth plain LOGIN", "STARTTLS", "SMTPUTF8"])
        #expect(try parser.next() == nil)
        #expect(!parser.hasBufferedBytes)
        let offered = SMTPCapabilities(ehlo: reply)
        #expect(offered.contains("STARTTLS") && offered.contains("smtputf8") && offered.contains("SIZE"))
        #expect(!offered.contains("8BITMIME"))
        #expect(offered.authMechanisms == ["PLAIN", "LOGIN"])
    }

    @Test func bytesArrivingOneAtATimeMakeTheSameReplies() throws {
        var parser = SMTPReplyParser()
        var replies: [SMTPReply] = []
        for byte in Array((Self.ehlo + "220 2.0.0 Ready to start TLS\r\n").utf8) {
            parser.append([byte])
            while let reply = try parser.next() { replies.append(reply) }
        }
        #expect(replies.map(\.code) == [250, 220])
        #expect(replies.last?.lines == ["2.0.0 Ready to start TLS"])
    }

    @Test func bareLineFeedsAndACodeAloneAreReplies() throws {
        var parser = SMTPReplyParser()
        parser.append(Array("354\n250 OK\n".utf8))
        #expect(try parser.next() == SMTPReply(code: 354, lines: [""]))
        #expect(try parser.next() == SMTPReply(code: 250, lines: ["OK"]))
    }

    @Test func whatFollowsAReplyIsKeptAndSeen() throws {
        var parser = SMTPReplyParser()
        parser.append(Array("220 go ahead\r\n250 inj".utf8))
        #expect(try parser.next()?.code == 220)
        #expect(try parser.next() == nil)
        #expect(parser.hasBufferedBytes)
        parser.append(Array("ected\r\n".utf8))
        #expect(try parser.next() == SMTPReply(code: 250, lines: ["injected"]))
    }

    @Test(arguments: [
        "hello\r\n", "25\r\n", "250+OK\r\n", "650 six hundred\r\n", "2x0 OK\r\n", "250-first\r\n251 second\r\n",
    ])
    func linesThatAreNotRepliesAreRefused(_ text: String) {
        #expect(throws: SMTPFailure.malformedReply) { _ = try Self.replies(in: Array(text.utf8)) }
    }

    @Test func aLineLongerThanTheLimitIsRefusedBeforeItEnds() {
        let unending = Array(repeating: UInt8(ascii: "2"), count: SMTPReplyParser.maximumLineLength + 1)
        #expect(throws: SMTPFailure.malformedReply) { _ = try Self.replies(in: unending) }
    }

    @Test func aReplySummaryHasTheCodesButNotTheServersText() {
        let refused = SMTPReply(code: 535, lines: ["5.7.8 Authentication credentials invalid for mailer"])
        #expect(refused.enhancedCode == "5.7.8")
        #expect(refused.summary == "535 5.7.8")
        #expect(SMTPReply(code: 250, lines: ["OK"]).summary == "250")
        #expect(SMTPReply(code: 550, lines: ["5.1 not quite"]).enhancedCode == nil)
    }

    @Test func theOldAuthEqualsFormIsReadToo() {
        let reply = SMTPReply(code: 250, lines: ["mail.example.com", "AUTH=LOGIN", "AUTH CRAM-MD5"])
        #expect(SMTPCapabilities(ehlo: reply).authMechanisms == ["LOGIN", "CRAM-MD5"])
    }
}
