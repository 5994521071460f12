import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore

/// The one error body every failing response carries:
/// `{"error":{"message","type","param","code"}}`, all four keys always present.
public struct ErrorEnvelope: Encodable, Sendable {
    /// The inner object.
    public struct Body: Encodable, Sendable {
        public var message: String
        public var type: String
        @ExplicitNull public var param: String?
        @ExplicitNull public var code: String?
    }

    public var error: Body
}

extension DomainError {
    /// The HTTP status of this refusal. This is the only place a domain refusal meets HTTP.
    public var status: HTTPResponse.Status {
        switch kind {
        case .invalidRequest: .badRequest
        case .unauthenticated: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .conflict: .conflict
        case .paymentRequired: .paymentRequired
        case .gone: .gone
        case .payloadTooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .rateLimited, .quotaExceeded: .tooManyRequests
        case .badGateway: .badGateway
        case .gatewayTimeout: .gatewayTimeout
        case .unavailable: .serviceUnavailable
        case .internal: .internalServerError
        }
    }

    /// The envelope's `type`, following OpenAI's names.
    public var errorType: String {
        switch kind {
        case .invalidRequest, .notFound, .methodNotAllowed, .conflict, .gone, .payloadTooLarge, .unsupportedMediaType:
            "invalid_request_error"
        case .unauthenticated: "authentication_error"
        case .forbidden: "permission_error"
        case .paymentRequired: "card_error"
        case .rateLimited: "rate_limit_error"
        case .quotaExceeded: "insufficient_quota"
        case .unavailable, .internal, .badGateway, .gatewayTimeout: "server_error"
        }
    }

    /// The refusal as a complete HTTP response in the error envelope.
    public func response(extraHeaders: HTTPFields = [:]) -> Response {
        let (headers, body) = envelope(extraHeaders: extraHeaders)
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }

    /// The headers and body of ``response(extraHeaders:)``, for a handler that writes its answer
    /// itself.
    public func envelope(extraHeaders: HTTPFields = [:]) -> (headers: HTTPFields, body: ByteBuffer) {
        let envelope = ErrorEnvelope(error: .init(message: message, type: errorType, param: param, code: code.rawValue))
        var headers = extraHeaders
        headers[.contentType] = "application/json; charset=utf-8"
        if let retryAfterSeconds {
            headers[.retryAfter] = String(retryAfterSeconds)
        }
        // The refused body has not been read: end the connection rather than drain it.
        if kind == .payloadTooLarge { headers[.connection] = "close" }
        // Encoding four strings cannot fail; fall back to an empty object rather than crash.
        let data = (try? JSONEncoder.keywarden.encode(envelope)) ?? Data("{}".utf8)
        return (headers, ByteBuffer(bytes: data))
    }
}

extension HTTPResponse.Status {
    /// 402: a card was declined or a charge failed.
    public static let paymentRequired = HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required")
}
