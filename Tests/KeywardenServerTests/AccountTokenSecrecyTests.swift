import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenServer
import KeywardenStorage
import SQLKit
import Testing

@Suite("Account tokens stay in the emailed links")
struct AccountTokenSecrecyTests {
    /// Every token the mailbox's links carry.
    func tokens(in mailbox: TestMailbox) -> [String] {
        mailbox.sent.flatMap { message in
            message.text.split(whereSeparator: \.isWhitespace).compactMap { word -> String? in
                guard let range = word.range(of: "?token=") else { return nil }
                return String(word[range.upperBound...])
            }
        }
    }

    @Test func noTokenReachesALogLineAnAnswerTheAuditLogOrStorage() async throws {
        let mailbox = TestMailbox()
        let logs = CapturedLogs()
        try await withApp(mailbox: mailbox, logger: logs.logger) { api, services in
            var answers: [TestResponse] = []
            let signUp = try await api.signUp(confirmed: false)
            let session = try #require(signUp.string("session_token"))
            answers.append(signUp)
            answers.append(try await api.request(.post, "/v1/auth/email/confirmation", token: session))
            answers.append(try await api.confirm("ada@example.com", from: mailbox))
            answers.append(
                try await api.request(.post, "/v1/auth/password/forgot", json: #"{"email":"ada@example.com"}"#))
            let reset = try #require(mailbox.token(to: "ada@example.com", path: "/reset-password"))
            answers.append(
                try await api.request(
                    .post, "/v1/auth/password/reset", json: #"{"token":"\#(reset)","password":"a new passphrase"}"#))
            answers.append(
                try await api.request(
                    .post, "/v1/auth/password/reset", json: #"{"token":"\#(reset)","password":"a new passphrase"}"#))
            let signedIn = try await api.logIn(password: "a new passphrase")
            answers.append(try await api.request(.get, "/v1/me/sessions", token: signedIn))
            answers.append(try await api.request(.get, "/v1/organization/audit_logs", token: signedIn))

            let mailed = tokens(in: mailbox)
            #expect(mailed.count == 3)
            #expect(mailed.allSatisfy { $0.count == 43 })
            let stored = try await services.database.withConnection { db in
                let audit = try await db.raw("SELECT actor, details FROM audit_logs").all().map {
                    (try $0.decode(column: "actor", as: String.self))
                        + (try $0.decode(column: "details", as: String.self))
                }
                let digests = try await db.raw("SELECT token_digest FROM account_tokens").all().map {
                    try $0.decode(column: "token_digest", as: String.self)
                }
                return (audit, digests)
            }
            #expect(Set(stored.1) == Set(mailed.map { Digest.sha256Hex($0) }))
            #expect(!logs.all.isEmpty)
            for token in mailed {
                let leaking = logs.all.filter { $0.contains(token) }
                #expect(leaking.isEmpty, "log lines hold a mailed token: \(leaking)")
                #expect(!answers.contains { String(decoding: $0.body, as: UTF8.self).contains(token) })
                #expect(!stored.0.contains { $0.contains(token) }, "the audit log holds a mailed token")
                #expect(!stored.1.contains(token), "a token is stored as itself")
            }
        }
    }
}
