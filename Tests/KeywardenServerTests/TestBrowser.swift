import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeywardenServer
import NIOCore
import Synchronization
import Testing

/// A browser over the test client: it keeps cookies, sends this site's `Origin` and the form
/// token of the last page it read with every form, and follows nothing by itself.
final class TestBrowser: Sendable {
    static let origin = "http://localhost"

    let api: TestAPI
    private let state = Mutex<(cookies: [String: String], lastPage: String)>(([:], ""))

    init(_ api: TestAPI) {
        self.api = api
    }

    /// The cookies the browser holds.
    var cookies: [String: String] { state.withLock { $0.cookies } }

    /// The last page's HTML.
    var lastPage: String { state.withLock { $0.lastPage } }

    /// The form token of the last page read.
    var formToken: String? {
        lastPage.firstMatch(of: /name="csrf_token" value="([0-9a-f]+)"/).map { String($0.output.1) }
    }

    /// `GET path`, keeping its cookies; the body becomes the last page.
    @discardableResult
    func get(_ path: String) async throws -> TestResponse {
        let response = try await api.request(.get, path, headers: requestHeaders())
        keep(response)
        return response
    }

    /// Posts `fields` as a form with the last page's token (unless `token` says otherwise) and
    /// this site's origin (unless `origin` says otherwise).
    @discardableResult
    func post(
        _ path: String, _ fields: [(String, String)] = [], token: String?? = .none, origin: String? = TestBrowser.origin
    ) async throws -> TestResponse {
        var all = fields
        let chosen: String? = token ?? formToken
        if let chosen { all.insert(("csrf_token", chosen), at: 0) }
        var headers = requestHeaders()
        headers[.contentType] = "application/x-www-form-urlencoded"
        if let origin { headers[.origin] = origin }
        let body = all.map { FormEncodingForTests.escape($0.0) + "=" + FormEncodingForTests.escape($0.1) }
            .joined(separator: "&")
        let response = try await api.request(.post, path, rawBody: Array(body.utf8), headers: headers)
        keep(response)
        return response
    }

    /// `GET` the `Location` of a redirect.
    @discardableResult
    func follow(_ response: TestResponse) async throws -> TestResponse {
        let location = try #require(response.headers[.location])
        return try await get(location)
    }

    private func requestHeaders() -> HTTPFields {
        var headers = HTTPFields()
        headers[HTTPField.Name("Host")!] = "localhost"
        let cookie = cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ")
        if !cookie.isEmpty { headers[.cookie] = cookie }
        return headers
    }

    private func keep(_ response: TestResponse) {
        state.withLock { state in
            for line in response.headers[values: .setCookie] {
                let pair = line.split(separator: ";", maxSplits: 1)[0].split(separator: "=", maxSplits: 1)
                let name = String(pair[0])
                let value = pair.count > 1 ? String(pair[1]) : ""
                if line.contains("Max-Age=0") { state.cookies[name] = nil } else { state.cookies[name] = value }
            }
            if response.headers[.contentType]?.hasPrefix("text/html") == true {
                state.lastPage = String(decoding: response.body, as: UTF8.self)
            }
        }
    }
}

/// Percent-encoding for form fields in tests.
enum FormEncodingForTests {
    static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }
}

extension TestBrowser {
    /// Signs up through the pages and returns the browser signed in; with `confirmed`, the
    /// address then counts as confirmed (as opening the mailed link makes it).
    @discardableResult
    func signUp(
        _ email: String = "ada@example.com", password: String = "correct horse battery", confirmed: Bool = true
    ) async throws
        -> TestResponse
    {
        try await get("/signup")
        let response = try await post("/signup", [("email", email), ("password", password), ("name", "Ada")])
        if confirmed, response.status == .seeOther { try await api.services?.confirmEmail(of: email) }
        return response
    }
}
