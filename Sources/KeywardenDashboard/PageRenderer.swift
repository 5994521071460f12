import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// The templates and assets bundled with the dashboard, loaded once.
struct PageRenderer: Sendable {
    let library: MustacheLibrary
    let assets: Assets

    /// A template or asset is missing or does not parse.
    struct LoadError: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads every `.mustache` template and the assets from the bundle.
    init() throws {
        MustacheContentTypes.register(ScalarEscapedHTML(), named: ScalarEscapedHTML.name)
        guard let root = Bundle.module.resourceURL else {
            throw LoadError(description: "the dashboard bundle is missing")
        }
        var library = MustacheLibrary()
        let templates = root.appendingPathComponent("templates")
        let names = try FileManager.default.contentsOfDirectory(atPath: templates.path).filter {
            $0.hasSuffix(".mustache")
        }
        for name in names.sorted() {
            let text = try String(contentsOf: templates.appendingPathComponent(name), encoding: .utf8)
            do {
                // Every template and partial escapes with ``ScalarEscapedHTML`` (a partial starts
                // again from the engine's default, so each one names it).
                try library.register(
                    "{{% CONTENT_TYPE: \(ScalarEscapedHTML.name) }}" + text,
                    named: String(name.dropLast(".mustache".count)))
            } catch {
                throw LoadError(description: "template \(name) does not parse: \(error)")
            }
        }
        self.library = library
        self.assets = try Assets(directory: root.appendingPathComponent("assets"))
    }

    /// Renders `template` for `view` as a page: HTML, never cached, with the page headers.
    func page(_ template: String, _ view: some Sendable, status: HTTPResponse.Status = .ok) -> Response {
        let html = library.render(view, withTemplate: template) ?? ""
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A page that only says what went wrong, in the signed-out layout.
    func errorPage(status: HTTPResponse.Status, heading: String, request: Request) -> Response {
        let view = ErrorView(
            layout: Layout.signedOut(title: heading, assets: assets), heading: heading, status: status.code)
        return page("error", view, status: status)
    }
}

/// The view of ``PageRenderer/errorPage(status:heading:request:)``.
struct ErrorView: Sendable {
    let layout: Layout
    let heading: String
    let status: Int
}
