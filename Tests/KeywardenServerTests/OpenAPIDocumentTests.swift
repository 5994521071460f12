import Foundation
import HTTPTypes
import KeywardenCore
import KeywardenServer
import Testing

@Suite("openapi.yaml")
struct OpenAPIDocumentTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `(METHOD, path)` for every operation in the document's `paths`.
    static func operations(in document: String) -> Set<String> {
        var operations: Set<String> = []
        var inPaths = false
        var currentPath: String?
        let methods: Set<String> = ["get", "post", "put", "patch", "delete", "head", "options"]
        for line in document.split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" ") && !line.isEmpty {
                inPaths = line.hasPrefix("paths:")
                continue
            }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                currentPath = String(line.dropFirst(2).dropLast())
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), let currentPath {
                // `get:`, or `post: *anchor` when operations share one description.
                let key = line.trimmingCharacters(in: .whitespaces).split(separator: ":").first.map(String.init) ?? ""
                if methods.contains(key) {
                    operations.insert("\(key.uppercased()) \(currentPath)")
                }
            }
        }
        return operations
    }

    @Test func documentDescribesEveryRouteAndNoOthers() async throws {
        try await withServices(configure: { $0.gateway.upstream = .echo }) { services in
            let (_, catalog) = try buildRouter(services: services)
            let routes = Set(catalog.routes.map { "\($0.method.rawValue) \($0.path)" })
            let document = try String(
                contentsOf: Self.repositoryRoot.appendingPathComponent("openapi.yaml"), encoding: .utf8)
            let documented = Self.operations(in: document)
            #expect(routes.subtracting(documented).isEmpty, "routes missing from openapi.yaml")
            #expect(documented.subtracting(routes).isEmpty, "openapi.yaml describes routes that do not exist")
            #expect(routes.count > 10)
        }
    }

    @Test func servedDocumentIsTheRepositorysOpenAPIFile() async throws {
        let file = try String(contentsOf: Self.repositoryRoot.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        #expect(OpenAPIDocument.text == file)
        try await withApp { api, _ in
            let response = try await api.request(.get, "/openapi.yaml")
            #expect(response.status == .ok)
            #expect(String(decoding: response.body, as: UTF8.self) == file)
        }
    }

    /// The values of the `enum` of the component schema `name`, one per line as the document lists them.
    static func enumeration(_ name: String, in document: String) -> [String] {
        let lines = document.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(of: "    \(name):") else { return [] }
        var values: [String] = []
        var inEnum = false
        for line in lines[(start + 1)...] {
            if line.hasPrefix("    "), !line.hasPrefix("     ") { break }
            if line == "      enum:" {
                inEnum = true
            } else if inEnum, line.hasPrefix("        - ") {
                values.append(String(line.dropFirst("        - ".count)))
            } else if inEnum {
                break
            }
        }
        return values
    }

    @Test func theDocumentListsExactlyTheErrorCodesTheServerCanGive() throws {
        let document = try String(
            contentsOf: Self.repositoryRoot.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        let documented = Self.enumeration("ErrorCode", in: document)
        #expect(documented.count > 40)
        #expect(documented == DomainError.Code.allCases.map(\.rawValue).sorted())
    }

    @Test func theDocumentListsExactlyTheAuditEventTypes() throws {
        let document = try String(
            contentsOf: Self.repositoryRoot.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        let documented = Self.enumeration("AuditEventType", in: document)
        #expect(documented.count > 20)
        #expect(documented == AuditEventType.allCases.map(\.rawValue))
    }
}
