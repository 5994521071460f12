import KeywardenCore

extension DomainError {
    /// 504 `upstream_timeout`: the upstream did not connect or answer within its timeouts.
    static let upstreamTimeout = DomainError(
        .gatewayTimeout, code: .upstreamTimeout, message: "The upstream API did not answer in time. Try again.")
    /// 502 `upstream_unavailable`: the upstream could not be reached, or broke off its answer.
    static let upstreamUnavailable = DomainError(
        .badGateway, code: .upstreamUnavailable, message: "The upstream API could not be reached. Try again shortly.")
}
