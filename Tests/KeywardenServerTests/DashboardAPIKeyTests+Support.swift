import Foundation
import HTTPTypes
import Testing

// What the API keys page tests need: a verified organization, the create form sent, and what
// the pages show read back.

extension TestAPI {
    /// Verifies the phone of the organization `token`'s session acts in, through the JSON API.
    func verifyOrganizationPhone(_ token: String, outbox: TestOutbox) async throws {
        let started = try await startVerification(token, number: Numbers.usE164, country: nil)
        let id = try #require(started.string("id"), "\(String(decoding: started.body, as: UTF8.self))")
        let code = try #require(outbox.code(for: id))
        let approved = try await check(token, id, code: code)
        #expect(approved.string("status") == "approved")
    }

    /// The keys of `project` as the JSON API lists them.
    func projectKeyObjects(_ token: String, project: String) async throws -> [[String: Any]] {
        let listed = try await request(.get, "/v1/organization/projects/\(project)/api_keys", token: token)
        return try #require(listed.value("data") as? [[String: Any]])
    }
}

extension TestBrowser {
    /// The browser's session token, which the JSON API accepts as a bearer token too.
    var cookieSessionToken: String? { cookies["keywarden_session"] }

    /// Signs up through the pages, then verifies the new organization's phone through the JSON API
    /// with the browser's own session.
    func signUpVerified(outbox: TestOutbox) async throws {
        try await signUp()
        try await api.verifyOrganizationPhone(try #require(cookieSessionToken), outbox: outbox)
    }

    /// Opens "Create new secret key" and sends it with `fields`, in the project the page chose
    /// unless `fields` name one.
    @discardableResult
    func createKey(_ fields: [(String, String)]) async throws -> TestResponse {
        try await get("/api-keys/new")
        var all = fields
        if !fields.contains(where: { $0.0 == "project_id" }), let project = pageProject {
            all.append(("project_id", project))
        }
        return try await post("/api-keys", all)
    }

    /// The project the last page works in: the one selected in a project list, or else the one
    /// its key forms carry.
    var pageProject: String? {
        if let selected = lastPage.firstMatch(of: /<option value="(proj_[A-Za-z0-9]+)" selected>/) {
            return String(selected.output.1)
        }
        return lastPage.firstMatch(of: /name="project_id" value="(proj_[A-Za-z0-9]+)"/).map { String($0.output.1) }
    }

    /// The key value "Save your key" shows on the last page.
    var shownKey: String? {
        lastPage.firstMatch(of: /<code id="new-key-value" class="secret">([^<]*)<\/code>/).map { String($0.output.1) }
    }

    /// The ids of the keys listed on the last page, in its order.
    var listedKeyIDs: [String] {
        lastPage.matches(of: /action="\/api-keys\/(key_[A-Za-z0-9]+)\/revoke"/).map { String($0.output.1) }
    }
}
