import HTTPTypes

extension HTTPFields {
    /// The `User-Agent` header, which sessions keep a short summary of.
    public var userAgent: String? { self[.userAgent] }
}
