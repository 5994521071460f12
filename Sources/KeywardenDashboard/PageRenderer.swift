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
        let html = library.render(Self.flattened(view), withTemplate: template) ?? ""
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// `value` as dictionaries and arrays, reflected once. The engine would otherwise reflect on a
    /// view for every name it looks up, at every level of the context stack: a table of 100 keys
    /// took 50 ms that way, against well under one in dictionaries.
    static func flattened(_ value: Any) -> Any {
        flattenedValue(value) ?? value
    }

    /// `nil` for an absent optional, which a template then looks up further out, as it does when
    /// it reflects on a view itself.
    private static func flattenedValue(_ value: Any) -> Any? {
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .struct, .class:
            // A view that names its own fields is read by name, with no reflection at all.
            if value is any MustacheParent { return value }
            var fields: [String: Any] = [:]
            fields.reserveCapacity(mirror.children.count)
            for child in mirror.children {
                if let label = child.label, let field = flattenedValue(child.value) { fields[label] = field }
            }
            return fields
        case .collection:
            return mirror.children.compactMap { flattenedValue($0.value) }
        case .optional:
            return mirror.children.first.flatMap { flattenedValue($0.value) }
        default:
            return value
        }
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
