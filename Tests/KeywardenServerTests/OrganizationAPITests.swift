import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenServer
import KeywardenStorage
import Testing

@Suite("Organization and projects API")
struct OrganizationAPITests {
    @Test func organizationShowsItselfWithTheCallersRole() async throws {
        try await withApp { api, _ in
            let signUp = try await api.signUp()
            let token = try #require(signUp.string("session_token"))
            let organization = try await api.request(.get, "/v1/organization", token: token)
            #expect(organization.status == .ok)
            #expect(organization.string("object") == "organization")
            #expect(organization.string("id") == signUp.string("organization.id"))
            #expect(organization.string("role") == "owner")
        }
    }

    @Test func organizationHeaderSelectsAMembershipAndOtherOrganizationsAreNotFound() async throws {
        try await withApp { api, _ in
            let ada = try await api.signUp("ada@example.com")
            let grace = try await api.signUp("grace@example.com")
            let token = try #require(ada.string("session_token"))
            let own = try #require(ada.string("organization.id"))
            var headers = HTTPFields()
            headers[.init("Keywarden-Organization")!] = own
            let selected = try await api.request(.get, "/v1/organization", token: token, headers: headers)
            #expect(selected.string("id") == own)

            for foreign in [try #require(grace.string("organization.id")), "org_doesnotexist"] {
                headers[.init("Keywarden-Organization")!] = foreign
                let refused = try await api.request(.get, "/v1/organization/projects", token: token, headers: headers)
                #expect(refused.status == .notFound)
                #expect(refused.string("error.code") == "organization_not_found")
            }
        }
    }

    @Test func usersListsMembersWithTheirRoles() async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            let users = try await api.request(.get, "/v1/organization/users", token: token)
            #expect(users.status == .ok)
            #expect(users.string("object") == "list")
            let data = try #require(users.value("data") as? [[String: Any]])
            #expect(data.count == 1)
            #expect(data.first?["object"] as? String == "organization.user")
            #expect(data.first?["email"] as? String == "ada@example.com")
            #expect(data.first?["role"] as? String == "owner")
            #expect(users.value("has_more") as? Bool == false)
        }
    }

    @Test func projectCanBeCreatedRetrievedRenamedAndArchived() async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            let created = try await api.request(
                .post, "/v1/organization/projects", token: token, json: #"{"name":"  Search  "}"#)
            #expect(created.status == .created)
            #expect(created.string("object") == "organization.project")
            #expect(created.string("name") == "Search")
            #expect(created.string("status") == "active")
            #expect(created.json["archived_at"] is NSNull)
            let id = try #require(created.string("id"))

            let listed = try await api.request(.get, "/v1/organization/projects", token: token)
            let names = (listed.value("data") as? [[String: Any]])?.compactMap { $0["name"] as? String }
            #expect(names == ["Default project", "Search"], "oldest first, even within one second")

            let fetched = try await api.request(.get, "/v1/organization/projects/\(id)", token: token)
            #expect(fetched.body == created.body)

            let renamed = try await api.request(
                .post, "/v1/organization/projects/\(id)", token: token, json: #"{"name":"Search v2"}"#)
            #expect(renamed.status == .ok)
            #expect(renamed.string("name") == "Search v2")

            let archived = try await api.request(.post, "/v1/organization/projects/\(id)/archive", token: token)
            #expect(archived.status == .ok)
            #expect(archived.string("status") == "archived")
            #expect(archived.value("archived_at") is Int)

            let active = try await api.request(.get, "/v1/organization/projects", token: token)
            let activeIDs = (active.value("data") as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(activeIDs?.contains(id) == false)
            let all = try await api.request(.get, "/v1/organization/projects?include_archived=true", token: token)
            let allIDs = (all.value("data") as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(allIDs?.contains(id) == true)

            let renameArchived = try await api.request(
                .post, "/v1/organization/projects/\(id)", token: token, json: #"{"name":"Again"}"#)
            #expect(renameArchived.status == .conflict)
            #expect(renameArchived.string("error.code") == "project_archived")
        }
    }

    @Test func defaultProjectCannotBeArchived() async throws {
        try await withApp { api, _ in
            let signUp = try await api.signUp()
            let token = try #require(signUp.string("session_token"))
            let id = try #require(signUp.string("default_project.id"))
            let response = try await api.request(.post, "/v1/organization/projects/\(id)/archive", token: token)
            #expect(response.status == .conflict)
            #expect(response.string("error.code") == "cannot_archive_default_project")
            let still = try await api.request(.get, "/v1/organization/projects/\(id)", token: token)
            #expect(still.string("status") == "active")
        }
    }

    @Test func projectListPagesWithLimitAndAfter() async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            for name in ["One", "Two", "Three"] {
                _ = try await api.request(
                    .post, "/v1/organization/projects", token: token, json: #"{"name":"\#(name)"}"#)
            }
            var seen: [String] = []
            var after: String?
            var pages = 0
            repeat {
                let query = "/v1/organization/projects?limit=2" + (after.map { "&after=\($0)" } ?? "")
                let page = try await api.request(.get, query, token: token)
                #expect(page.status == .ok)
                let ids = (page.value("data") as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
                #expect(page.string("first_id") == ids.first)
                #expect(page.string("last_id") == ids.last)
                seen += ids
                after = page.value("has_more") as? Bool == true ? ids.last : nil
                pages += 1
            } while after != nil && pages < 10
            #expect(pages == 2)
            #expect(seen.count == 4)
            #expect(Set(seen).count == 4)
        }
    }

    @Test(arguments: [
        "limit=0", "limit=101", "limit=ten", "after=proj_%21", "after=user_abc", "include_archived=maybe",
    ])
    func badListParametersAreRefusedNamingTheParameter(_ query: String) async throws {
        try await withApp { api, _ in
            let token = try await api.token()
            let response = try await api.request(.get, "/v1/organization/projects?\(query)", token: token)
            #expect(response.status == .badRequest)
            #expect(response.string("error.param") == String(query.prefix { $0 != "=" }))
        }
    }

    @Test func projectOfAnotherOrganizationIsNotFound() async throws {
        try await withApp { api, _ in
            let ada = try await api.token("ada@example.com")
            let grace = try await api.token("grace@example.com")
            let created = try await api.request(
                .post, "/v1/organization/projects", token: grace, json: #"{"name":"Private"}"#)
            let id = try #require(created.string("id"))
            for (method, path) in [
                (HTTPRequest.Method.get, "/v1/organization/projects/\(id)"),
                (.post, "/v1/organization/projects/\(id)/archive"),
            ] {
                let response = try await api.request(method, path, token: ada)
                #expect(response.status == .notFound)
                #expect(response.string("error.code") == "project_not_found")
            }
            let stillActive = try await api.request(.get, "/v1/organization/projects/\(id)", token: grace)
            #expect(stillActive.string("status") == "active")
        }
    }

    @Test func readersCanReadButNotChange() async throws {
        try await withApp { api, services in
            let owner = try await api.signUp("ada@example.com")
            let organization = try #require(owner.string("organization.id"))
            let reader = try await api.signUp("grace@example.com")
            let readerID = try #require(reader.string("user.id"))
            let readerToken = try #require(reader.string("session_token"))
            try await services.addReader(readerID, to: organization)
            // A reader reaches the projects they were added to: here the default one, as a viewer.
            try await services.addProjectMember(
                readerID, to: try #require(owner.string("default_project.id")), role: "viewer")
            var headers = HTTPFields()
            headers[.init("Keywarden-Organization")!] = organization
            let org = try await api.request(.get, "/v1/organization", token: readerToken, headers: headers)
            #expect(org.string("role") == "reader")
            let list = try await api.request(.get, "/v1/organization/projects", token: readerToken, headers: headers)
            #expect(list.status == .ok)

            let create = try await api.request(
                .post, "/v1/organization/projects", token: readerToken, json: #"{"name":"Nope"}"#, headers: headers)
            #expect(create.status == .forbidden)
            #expect(create.string("error.code") == "insufficient_permissions")
            let defaultProject = try #require(owner.string("default_project.id"))
            let rename = try await api.request(
                .post, "/v1/organization/projects/\(defaultProject)", token: readerToken, json: #"{"name":"Nope"}"#,
                headers: headers)
            #expect(rename.status == .forbidden)
            let after = try await api.request(.get, "/v1/organization/projects", token: readerToken, headers: headers)
            #expect((after.value("data") as? [Any])?.count == 1)
        }
    }
}

@Suite("Audit log of accounts and projects")
struct AccountAuditTests {
    @Test func loginsLogoutsAndProjectChangesAreAudited() async throws {
        try await withApp { api, _ in
            try await api.signUp()
            _ = try await api.request(
                .post, "/v1/auth/login", json: #"{"email":"ada@example.com","password":"wrong password!"}"#)
            let login = try await api.request(
                .post, "/v1/auth/login", json: #"{"email":"ada@example.com","password":"correct horse battery"}"#)
            let token = try #require(login.string("session_token"))
            let project = try await api.request(
                .post, "/v1/organization/projects", token: token, json: #"{"name":"Search"}"#)
            let id = try #require(project.string("id"))
            _ = try await api.request(.post, "/v1/organization/projects/\(id)", token: token, json: #"{"name":"Find"}"#)
            _ = try await api.request(.post, "/v1/organization/projects/\(id)/archive", token: token)
            _ = try await api.request(.post, "/v1/organization/projects/\(id)/archive", token: token)
            let other = try await api.request(
                .post, "/v1/auth/login", json: #"{"email":"ada@example.com","password":"correct horse battery"}"#)
            let otherToken: String = try #require(other.string("session_token"))
            _ = try await api.request(.post, "/v1/auth/logout", token: token)
            let audit = try await api.request(.get, "/v1/organization/audit_logs", token: otherToken)
            let events = try #require(audit.value("data") as? [[String: Any]])
            #expect(
                events.compactMap { $0["type"] as? String } == [
                    "logout.succeeded", "login.succeeded", "project.archived", "project.updated", "project.created",
                    "login.succeeded", "login.failed",
                ])
            let created = events.first { $0["type"] as? String == "project.created" }
            #expect((created?["project.created"] as? [String: Any])?["id"] as? String == id)
            let failed = events.last
            #expect((failed?["login.failed"] as? [String: Any])?["error_code"] as? String == "invalid_credentials")
        }
    }
}
