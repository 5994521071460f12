import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenServer
import KeywardenStorage
import SQLKit
import Testing

/// What Keywarden keeps and sends is no easier to read than it must be.
@Suite("Secrets at rest and in answers")
struct SecretsAtRestTests {
    @Test func everyAnswerSaysNosniffAndAnswersWithTokensOrKeysAreNotStored() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: { $0.gateway.upstream = .echo }) { api, _ in
            let signUp = try await api.signUp()
            let login = try await api.request(
                .post, "/v1/auth/login", json: #"{"email":"ada@example.com","password":"correct horse battery"}"#)
            let token = try await api.verifiedOrganization("bob@example.com", number: Numbers.usE164, outbox: outbox)
            let project = try await api.defaultProject(token)
            let created = try await api.createKey(token, project: project)
            let keyID = try #require(created.string("id"))
            let key = try #require(created.string("value"))
            let carryingSecrets = [
                signUp, login, created,
                try await api.request(
                    .post, "/v1/organization/projects/\(project)/api_keys/\(keyID)/rotate", token: token),
                try await api.request(.post, "/v1/organization/admin_api_keys", token: token, json: "{}"),
                try await api.request(
                    .post, "/v1/organization/projects/\(project)/service_accounts", token: token,
                    json: #"{"name":"bot"}"#),
                try await api.request(.post, "/v1/api-keys", token: key, json: "{}"),
            ]
            for response in carryingSecrets {
                #expect(response.status.kind == .successful, "\(String(decoding: response.body, as: UTF8.self))")
                #expect(response.headers[.cacheControl] == "no-store")
                #expect(response.headers[.init("X-Content-Type-Options")!] == "nosniff")
            }
            for response in [
                try await api.request(.get, "/healthz"), try await api.request(.get, "/nowhere"),
                try await api.request(.get, "/v1/models", token: key), try await api.request(.get, "/openapi.yaml"),
            ] {
                #expect(response.headers[.init("X-Content-Type-Options")!] == "nosniff")
            }
        }
    }

    func permissions(_ path: String) throws -> Int? {
        try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    }

    @Test func theDatabaseItsJournalsAndTheDataDirectoryAreTheOwnersAlone() async throws {
        var configuration = KeywardenConfiguration()
        configuration.storage.dataDirectory = try temporaryDirectory() + "/data"
        configuration.accounts.bcryptCost = 4
        let instance = try await KeywardenInstance.build(configuration: configuration, logger: quietLogger)
        _ = try await instance.services.accounts.signUp(
            email: "ada@example.com", password: "correct horse battery", name: nil)
        let database = configuration.storage.dataDirectory + "/keywarden.sqlite"
        #expect(try permissions(configuration.storage.dataDirectory) == 0o700)
        for file in [database, database + "-wal", database + "-shm", configuration.storage.dataDirectory + "/secret"] {
            #expect(FileManager.default.fileExists(atPath: file), "\(file)")
            #expect(try permissions(file) == 0o600, "\(file)")
        }
        try await instance.services.shutdown()
    }

    @Test func aDatabaseFileLeftReadableByOthersIsTightenedOnOpen() async throws {
        let directory = try temporaryDirectory()
        let path = directory + "/keywarden.sqlite"
        #expect(FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644]))
        let database = try await DatabaseClient.sqlite(path: path, logger: quietLogger)
        #expect(try permissions(path) == 0o600)
        try await database.shutdown()
    }

    @Test func aPendingNumberIsStoredSealedAndNeverInTheClearInTheDatabaseFiles() async throws {
        var configuration = KeywardenConfiguration()
        configuration.storage.dataDirectory = try temporaryDirectory()
        let database = try await openDatabase(configuration: configuration, logger: quietLogger)
        let outbox = TestOutbox()
        let services = KeywardenServices(
            database: database, configuration: configuration, secret: testSecret, logger: quietLogger,
            hasher: testHasher, delivery: .local(outbox.sender))
        let account = try await services.signUpConfirmed("ada@example.com")
        let requester = PhoneVerificationService.Requester(
            membership: Membership(organization: account.organization, role: .owner, addedAt: Date()),
            user: account.user, clientAddress: nil)
        let verification = try await services.verifications.start(
            phoneNumber: Numbers.usE164, country: nil, channel: nil, by: requester)
        let stored = try await database.withConnection { db in
            try await db.raw("SELECT phone_number FROM phone_verifications").first()?.decode(
                column: "phone_number", as: String?.self)
        }
        let sealed = try #require(stored)
        #expect(!sealed.contains(Numbers.usE164.dropFirst()))
        // Resending opens the seal and sends to the real number.
        _ = try? await services.verifications.resend(id: verification.id.rawValue, by: requester)
        #expect(outbox.sent.allSatisfy { $0.to == Numbers.usE164 })
        let digits = Data(Numbers.usE164.dropFirst().utf8)
        for file in ["keywarden.sqlite", "keywarden.sqlite-wal"] {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: configuration.storage.dataDirectory + "/" + file))
            #expect(bytes.range(of: digits) == nil, "\(file)")
        }
        try await services.shutdown()
    }
}
