import Foundation
import HTTPTypes
import KeywardenServer
import SQLKit
import Testing

// What the teams tests need: invites sent and accepted through the API, headers naming an
// organization, and project roles set directly.

extension TestAPI {
    /// Headers that name the organization a request is about.
    static func acting(in organization: String) -> HTTPFields {
        var headers = HTTPFields()
        headers[.init("Keywarden-Organization")!] = organization
        return headers
    }

    /// `POST /v1/organization/invites` as `token`.
    func invite(
        _ token: String, email: String, role: String = "reader", projects: String? = nil
    ) async throws -> TestResponse {
        let list = projects.map { #","projects":\#($0)"# } ?? ""
        return try await request(
            .post, "/v1/organization/invites", token: token,
            json: #"{"email":"\#(email)","role":"\#(role)"\#(list)}"#)
    }

    /// `POST /v1/invites/accept` as `token`.
    func accept(_ inviteToken: String, as token: String) async throws -> TestResponse {
        try await request(.post, "/v1/invites/accept", token: token, json: #"{"token":"\#(inviteToken)"}"#)
    }

    /// Signs `email` up and accepts the latest invite mailed to it: their token and user id.
    func join(_ email: String, mailbox: TestMailbox) async throws -> (token: String, id: String) {
        let signUp = try await signUp(email)
        let token = try #require(signUp.string("session_token"))
        let accepted = try await accept(try #require(mailbox.inviteToken(to: email)), as: token)
        #expect(accepted.status == .ok, "\(String(decoding: accepted.body, as: UTF8.self))")
        return (token, try #require(signUp.string("user.id")))
    }
}

extension TestMailbox {
    /// The token of the latest invite link mailed to `address`.
    func inviteToken(to address: String) -> String? {
        guard let link = link(to: address, containing: "/invite?token=") else { return nil }
        return URLComponents(string: link)?.queryItems?.first { $0.name == "token" }?.value
    }
}

extension KeywardenServices {
    /// Gives a member of the project's organization a role in the project.
    func addProjectMember(_ userID: String, to project: String, role: String) async throws {
        try await database.withConnection { db in
            try await db.raw(
                """
                INSERT INTO project_members (project_id, user_id, role, added_at)
                VALUES (\(bind: project), \(bind: userID), \(bind: role), 1)
                """
            ).run()
        }
    }
}
