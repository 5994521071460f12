import Foundation
import HTTPTypes
import KeywardenServer
import Testing

@Suite("Keys follow their owner's access")
struct KeyAccessTests {
    @Test func aKeyStopsWorkingOnTheNextCallOnceItsOwnerLosesAccess() async throws {
        let outbox = TestOutbox()
        let mailbox = TestMailbox()
        try await withApp(outbox: outbox, mailbox: mailbox, configure: { $0.gateway.upstream = .echo }) { api, _ in
            let owner = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let organization = try #require(try await api.request(.get, "/v1/organization", token: owner).string("id"))
            let project = try await api.defaultProject(owner)
            let inAda = TestAPI.acting(in: organization)
            _ = try await api.invite(owner, email: "grace@example.com")
            _ = try await api.invite(owner, email: "alan@example.com")
            let (grace, graceID) = try await api.join("grace@example.com", mailbox: mailbox)
            let (alan, alanID) = try await api.join("alan@example.com", mailbox: mailbox)
            func key(_ token: String) async throws -> String {
                let created = try await api.request(
                    .post, "/v1/organization/projects/\(project)/api_keys", token: token, json: #"{"name":"mine"}"#,
                    headers: inAda)
                #expect(created.status == .created, "\(String(decoding: created.body, as: UTF8.self))")
                return try #require(created.string("value"))
            }
            let gracesKey = try await key(grace)
            let alansKey = try await key(alan)
            let adasKey = try await key(owner)
            for value in [gracesKey, alansKey, adasKey] {
                #expect(try await api.request(.get, "/v1/models", token: value).status == .ok)
            }

            // Removed from the organization: her key is refused on the very next call.
            let removed = try await api.request(.delete, "/v1/organization/users/\(graceID)", token: owner)
            #expect(removed.status == .ok)
            let refused = try await api.request(.get, "/v1/models", token: gracesKey)
            #expect(refused.status == .unauthorized)
            #expect(refused.string("error.code") == "invalid_api_key")

            // Removed from the project only: the same.
            let fromProject = try await api.request(
                .delete, "/v1/organization/projects/\(project)/users/\(alanID)", token: owner)
            #expect(fromProject.status == .ok)
            #expect(try await api.request(.get, "/v1/models", token: alansKey).status == .unauthorized)
            #expect(try await api.request(.get, "/v1/models", token: adasKey).status == .ok)

            let audit = try await api.request(
                .get, "/v1/organization/audit_logs?event_types[]=api_key.deleted", token: owner)
            let events = try #require(audit.value("data") as? [[String: Any]])
            #expect(events.count == 2)
            let reasons = events.compactMap { ($0["api_key.deleted"] as? [String: Any])?["reason"] as? String }
            #expect(reasons == ["owner_lost_access", "owner_lost_access"])
        }
    }

    @Test func membersChangeTheirOwnKeysOnlyAndViewersNone() async throws {
        let outbox = TestOutbox()
        let mailbox = TestMailbox()
        try await withApp(outbox: outbox, mailbox: mailbox) { api, _ in
            let owner = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let organization = try #require(try await api.request(.get, "/v1/organization", token: owner).string("id"))
            let project = try await api.defaultProject(owner)
            let inAda = TestAPI.acting(in: organization)
            _ = try await api.invite(owner, email: "grace@example.com")
            let (grace, graceID) = try await api.join("grace@example.com", mailbox: mailbox)
            let keys = "/v1/organization/projects/\(project)/api_keys"
            let adas = try #require(try await api.createKey(owner, project: project).string("id"))
            let mine = try await api.request(.post, keys, token: grace, json: #"{"name":"mine"}"#, headers: inAda)
            let mineID = try #require(mine.string("id"))
            #expect(mine.string("owner.id") == graceID)

            let notMine = try await api.request(.delete, "\(keys)/\(adas)", token: grace, headers: inAda)
            #expect(notMine.status == .forbidden)
            let rotateNotMine = try await api.request(.post, "\(keys)/\(adas)/rotate", token: grace, headers: inAda)
            #expect(rotateNotMine.status == .forbidden)
            let account = try await api.request(
                .post, "/v1/organization/projects/\(project)/service_accounts", token: grace, json: #"{"name":"bot"}"#,
                headers: inAda)
            #expect(account.status == .forbidden)
            let rotated = try await api.request(.post, "\(keys)/\(mineID)/rotate", token: grace, headers: inAda)
            #expect(rotated.status == .created)
            let rotatedID = try #require(rotated.string("id"))
            let listed = try await api.request(.get, keys, token: grace, headers: inAda)
            #expect((listed.value("data") as? [Any])?.count == 3)

            // As a viewer she reads the keys but changes none, her own included.
            _ = try await api.request(
                .post, "/v1/organization/projects/\(project)/users/\(graceID)", token: owner,
                json: #"{"role":"viewer"}"#)
            let asViewer = try await api.request(.delete, "\(keys)/\(rotatedID)", token: grace, headers: inAda)
            #expect(asViewer.status == .forbidden)
            #expect(try await api.request(.get, keys, token: grace, headers: inAda).status == .ok)
            let own = try await api.request(.delete, "\(keys)/\(rotatedID)", token: owner)
            #expect(own.status == .ok)
        }
    }
}
