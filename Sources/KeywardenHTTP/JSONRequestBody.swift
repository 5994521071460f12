import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore

/// A JSON request body with a closed set of fields.
///
/// Unknown fields are refused rather than ignored, so a misspelt option never silently
/// does nothing.
public protocol JSONRequestBody: Decodable, Sendable {
    /// The fields the body may carry.
    static var fields: Set<String> { get }
}

extension Request {
    /// Reads and decodes a JSON object body, refusing in the error envelope, with `param`
    /// naming the field, anything that is not exactly a valid body.
    public func decodeBody<Body: JSONRequestBody>(_ type: Body.Type, context: some RequestContext) async throws -> Body
    {
        let buffer = try await body.collect(upTo: context.maxUploadSize)
        return try BodyDecoder.decode(Body.self, from: Data(buffer: buffer))
    }
}

/// Decodes request bodies and explains every way they can be wrong.
public enum BodyDecoder {
    /// Decodes `data` as `Body` in one pass, refusing fields `Body` does not declare.
    public static func decode<Body: JSONRequestBody>(_ type: Body.Type, from data: Data) throws -> Body {
        guard !data.isEmpty else {
            throw DomainError(
                .invalidRequest, code: "invalid_json",
                message: "The request body is empty. Send a JSON object with Content-Type: application/json.")
        }
        do {
            return try JSONDecoder().decode(Strict<Body>.self, from: data).body
        } catch let error as DomainError {
            throw error
        } catch let DecodingError.typeMismatch(_, context) where context.codingPath.isEmpty {
            throw DomainError(.invalidRequest, code: "invalid_json", message: "The request body must be a JSON object.")
        } catch let error as DecodingError {
            throw describe(error)
        } catch {
            throw DomainError(
                .invalidRequest, code: "invalid_json",
                message: "We could not parse the JSON body of your request. Send valid UTF-8 JSON.")
        }
    }

    /// Checks the object's keys against `Body.fields`, then decodes `Body` from the same parse.
    struct Strict<Body: JSONRequestBody>: Decodable {
        let body: Body

        struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let keys = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
            if let unknown = keys.sorted().first(where: { !Body.fields.contains($0) }) {
                throw DomainError(
                    .invalidRequest, code: "unknown_parameter",
                    message: "Unrecognized request argument supplied: '\(unknown)'.", param: unknown)
            }
            body = try Body(from: decoder)
        }
    }

    static func describe(_ error: DecodingError) -> DomainError {
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return .missingField(field)
        case .valueNotFound(let expected, let context):
            let field = path(context.codingPath)
            return DomainError(
                .invalidRequest, code: "invalid_type",
                message: "Invalid type for '\(field)': expected \(describe(expected)), but got null.", param: field)
        case .typeMismatch(let expected, let context):
            let field = path(context.codingPath)
            return DomainError(
                .invalidRequest, code: "invalid_type",
                message: "Invalid type for '\(field)': expected \(describe(expected)).", param: field)
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            return DomainError(
                .invalidRequest, code: field.isEmpty ? "invalid_json" : "invalid_value",
                message: field.isEmpty
                    ? "We could not parse the JSON body of your request. Send valid UTF-8 JSON."
                    : "Invalid value for '\(field)'.",
                param: field.isEmpty ? nil : field)
        @unknown default:
            return DomainError(
                .invalidRequest, code: "invalid_json", message: "We could not parse the JSON body of your request.")
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            .replacingOccurrences(of: ".[", with: "[")
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is Double.Type: "a number"
        default: "a value of another type"
        }
    }
}
