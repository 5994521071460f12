import HTTPTypes
import KeywardenCore
import NIOHTTP1

/// Which headers cross the gateway: the caller's go upstream without the connection's own, the
/// caller's key and what the gateway sets itself; the upstream's come back without the
/// connection's own.
extension Gateway {
    /// Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1).
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer",
        "transfer-encoding", "upgrade",
    ]

    /// RFC 7239 `Forwarded`: the caller's address (IPv6 bracketed and quoted) and the protocol.
    static func forwarded(_ clientAddress: String?) -> String {
        guard let address = clientAddress else { return "proto=http" }
        let node = address.contains(":") ? "\"[\(address)]\"" : address
        return "for=\(node);proto=http"
    }

    /// The headers a call carries upstream: the caller's, without hop-by-hop ones and those its
    /// `Connection` names, with the upstream's `Authorization` in place of the caller's key, and
    /// the gateway's own `x-request-id` and `Forwarded`.
    func upstreamHeaders(for fields: HTTPFields, requestID: String, clientAddress: String?) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.reserveCapacity(fields.count + 2)
        // Most calls name no header in `Connection`: no set is made for them.
        let connectionTokens: Set<String> =
            fields[.connection].map { Set($0.split(separator: ",").map { $0.trimmingWhitespace().lowercased() }) } ?? []
        for field in fields {
            let name = field.name.canonicalName
            if Self.hopByHop.contains(name) || connectionTokens.contains(name) || name == "authorization"
                || name == "host" || name == "x-request-id" || name == "forwarded"
            {
                continue
            }
            headers.add(name: field.name.rawName, value: field.value)
        }
        if let upstreamAuthorization { headers.add(name: "Authorization", value: upstreamAuthorization) }
        headers.add(name: "x-request-id", value: requestID)
        headers.add(name: "Forwarded", value: Self.forwarded(clientAddress))
        return headers
    }

    /// The upstream's answer headers, without hop-by-hop ones and those its `Connection` names.
    static func responseFields(_ headers: HTTPHeaders) -> HTTPFields {
        let connectionTokens: Set<String> =
            headers.contains(name: "connection")
            ? Set(headers[canonicalForm: "connection"].map { $0.lowercased() }) : []
        var fields = HTTPFields()
        fields.reserveCapacity(headers.count + 9)
        for (name, value) in headers {
            let lowered = name.lowercased()
            if hopByHop.contains(lowered) || connectionTokens.contains(lowered) { continue }
            if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
        }
        return fields
    }
}
