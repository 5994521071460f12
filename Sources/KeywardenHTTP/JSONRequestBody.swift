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
    /// The fields that may be given as `null`; any other field given as `null` is refused.
    static var nullableFields: Set<String> { get }
}

extension JSONRequestBody {
    /// No field may be `null`.
    public static var nullableFields: Set<String> { [] }
}

extension Request {
    /// Reads and decodes a JSON object body, refusing in the error envelope, with `param`
    /// naming the field, anything that is not exactly a valid body.
    ///
    /// An empty body, whatever its content type, means an empty object: every optional field
    /// takes its default (`curl --data ''` works). A body that is not empty must be JSON.
    public func decodeBody<Body: JSONRequestBody>(_ type: Body.Type, context: some RequestContext) async throws -> Body
    {
        // A body declared too large is refused before any of it is read (or asked for).
        if let declared = headers[.contentLength].flatMap(Int.init), declared > context.maxUploadSize {
            throw DomainError.requestTooLarge(limit: context.maxUploadSize, what: "Management API requests")
        }
        let buffer = try await body.collect(upTo: context.maxUploadSize)
        if buffer.readableBytes > 0, let contentType = headers[.contentType], !Self.isJSON(contentType) {
            throw DomainError(
                .unsupportedMediaType, code: .unsupportedContentType,
                message:
                    "The body was sent as \(Self.mediaType(contentType)); send it as JSON with Content-Type: application/json."
            )
        }
        return try BodyDecoder.decode(Body.self, from: Data(buffer: buffer))
    }

    /// `application/json`, or a `+json` type, with any parameters.
    static func isJSON(_ contentType: String) -> Bool {
        let type = mediaType(contentType)
        return type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
    }

    /// The media type of a `Content-Type` value, without parameters, lowercased and cut short.
    static func mediaType(_ contentType: String) -> String {
        let type = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingWhitespace() } ?? ""
        return String(type.lowercased().prefix(100))
    }
}

/// Decodes request bodies and explains every way they can be wrong.
public enum BodyDecoder {
    /// Decodes `data` as `Body` in one pass, refusing fields `Body` does not declare.
    public static func decode<Body: JSONRequestBody>(_ type: Body.Type, from data: Data) throws -> Body {
        // No body at all reads as `{}`: a body whose fields are all optional takes every default,
        // and one with a required field names it. White space alone is not JSON, and is refused.
        do {
            return try JSONDecoder().decode(Strict<Body>.self, from: data.isEmpty ? Data("{}".utf8) : data).body
        } catch let error as DomainError {
            throw error
        } catch let DecodingError.typeMismatch(_, context) where context.codingPath.isEmpty {
            throw DomainError(.invalidRequest, code: .invalidJson, message: "The request body must be a JSON object.")
        } catch let error as DecodingError {
            throw describe(error, data: data)
        } catch {
            throw DomainError(
                .invalidRequest, code: .invalidJson,
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
            let container = try decoder.container(keyedBy: AnyKey.self)
            let keys = container.allKeys.map(\.stringValue).sorted()
            if let unknown = keys.first(where: { !Body.fields.contains($0) }) {
                throw DomainError(
                    .invalidRequest, code: .unknownParameter,
                    message: "Unrecognized request argument supplied: '\(unknown)'.", param: unknown)
            }
            for key in keys where !Body.nullableFields.contains(key) {
                if try container.decodeNil(forKey: AnyKey(stringValue: key)) {
                    throw DomainError(
                        .invalidRequest, code: .invalidType,
                        message: "Invalid type for '\(key)': null is not accepted; leave the field out instead.",
                        param: key)
                }
            }
            body = try Body(from: decoder)
        }
    }

    static func describe(_ error: DecodingError, data: Data) -> DomainError {
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return .missingField(field)
        case .valueNotFound(let expected, let context):
            let field = path(context.codingPath)
            return DomainError(
                .invalidRequest, code: .invalidType,
                message: "Invalid type for '\(field)': expected \(describe(expected)), but got null.", param: field)
        case .typeMismatch(let expected, let context):
            let field = path(context.codingPath)
            return DomainError(
                .invalidRequest, code: .invalidType,
                message: "Invalid type for '\(field)': expected \(describe(expected)).", param: field)
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            if field.isEmpty, let number = unfitNumberField(in: data) {
                return DomainError(
                    .invalidRequest, code: .invalidValue,
                    message: "Invalid value for '\(number)': expected a whole number within its range.",
                    param: number)
            }
            return DomainError(
                .invalidRequest, code: field.isEmpty ? .invalidJson : .invalidValue,
                message: field.isEmpty
                    ? "We could not parse the JSON body of your request. Send valid UTF-8 JSON."
                    : "Invalid value for '\(field)'.",
                param: field.isEmpty ? nil : field)
        @unknown default:
            return DomainError(
                .invalidRequest, code: .invalidJson, message: "We could not parse the JSON body of your request.")
        }
    }

    /// The first top-level field holding a number that is not a whole number within `Int64`:
    /// Foundation reports those without naming the field, as if the document were not JSON.
    static func unfitNumberField(in data: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object.keys.sorted().first { key in
            guard let number = object[key] as? NSNumber, !(object[key] is Bool) else { return false }
            let value = number.doubleValue
            return value.rounded() != value || Int64(exactly: value) == nil
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
