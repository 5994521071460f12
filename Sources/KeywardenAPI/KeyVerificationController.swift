import Crypto
import Foundation
import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// `POST /v1/keys/verify`: for the operator's own services that do not use the gateway.
/// Authorized by the operator token from configuration; answered from the in-memory index.
public struct KeyVerificationController: Sendable {
    let index: APIKeyIndex
    let operatorTokenDigest: [UInt8]?
    let clock: Clock

    /// Creates the controller; without an operator token the endpoint refuses every request.
    public init(index: APIKeyIndex, operatorToken: String?, clock: Clock = .live) {
        self.index = index
        self.operatorTokenDigest = operatorToken.map { Array(SHA256.hash(data: Data($0.utf8))) }
        self.clock = clock
    }

    /// Registers the route.
    public func addRoutes(to router: CatalogingRouter<KeywardenRequestContext>) {
        router.post("/v1/keys/verify", use: verify)
    }

    struct VerifyBody: JSONRequestBody {
        static let fields: Set<String> = ["key"]
        let key: String
    }

    struct Answer: ResponseEncodable {
        let valid: Bool
        var code: String?
        var key: APIKey?

        enum CodingKeys: String, CodingKey {
            case valid, code, permissions, scopes
            case keyID = "key_id"
            case projectID = "project_id"
            case organizationID = "organization_id"
            case expiresAt = "expires_at"
        }

        /// `{valid: false, code}`, or every field of a valid key with nulls written out.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(valid, forKey: .valid)
            guard let key else {
                try container.encode(code, forKey: .code)
                return
            }
            try container.encode(key.id.rawValue, forKey: .keyID)
            try container.encode(key.projectID?.rawValue, forKey: .projectID)
            try container.encode(key.organizationID.rawValue, forKey: .organizationID)
            try container.encode(key.permissions.name, forKey: .permissions)
            try container.encode(key.permissions.scopes, forKey: .scopes)
            try container.encode(key.expiresAt?.unixSeconds, forKey: .expiresAt)
        }
    }

    @Sendable func verify(_ request: Request, context: KeywardenRequestContext) async throws -> Answer {
        guard let expected = operatorTokenDigest, let presented = request.headers.bearerToken,
            Self.constantTimeEquals(Array(SHA256.hash(data: Data(presented.utf8))), expected)
        else {
            throw DomainError(
                .unauthenticated, code: "invalid_operator_token",
                message: "Send 'Authorization: Bearer <operator token>' (KEYWARDEN_OPERATOR_TOKEN) to verify keys.")
        }
        let body = try await request.decodeBody(VerifyBody.self, context: context)
        switch index.authenticate(body.key, now: clock.now()) {
        case .valid(let key):
            return Answer(valid: true, key: key)
        case .invalid(let reason):
            return Answer(valid: false, code: reason)
        }
    }

    static func constantTimeEquals(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}
