/// The email domains sign-up refuses (`refused_email_domains`), such as throwaway-mail services.
/// A refused domain refuses its subdomains too: refusing `example.com` refuses
/// `mail.example.com`, but not `notexample.com`.
public struct RefusedEmailDomains: Equatable, Sendable {
    /// The refused domains, lowercased, without leading dots.
    public let domains: Set<String>

    /// Refuses `domains` (trimmed, lowercased; a leading `.` or `@` is ignored; empty ones dropped).
    public init(_ domains: [String]) {
        var kept = Set<String>()
        for domain in domains {
            var cleaned = domain.trimmingWhitespace().lowercased()
            while cleaned.hasPrefix(".") || cleaned.hasPrefix("@") { cleaned.removeFirst() }
            if !cleaned.isEmpty { kept.insert(cleaned) }
        }
        self.domains = kept
    }

    /// Refuses nothing.
    public static let none = RefusedEmailDomains([])

    /// Whether `address` is at a refused domain or one of its subdomains.
    public func refuses(_ address: EmailAddress) -> Bool {
        guard !domains.isEmpty, let at = address.value.lastIndex(of: "@") else { return false }
        var domain = Substring(address.value[address.value.index(after: at)...])
        while true {
            if domains.contains(String(domain)) { return true }
            guard let dot = domain.firstIndex(of: ".") else { return false }
            domain = domain[domain.index(after: dot)...]
        }
    }

    /// Refuses with `email_domain_not_allowed` (400, naming `email`) when `address` is refused.
    public func check(_ address: EmailAddress) throws {
        guard refuses(address) else { return }
        throw DomainError(
            .invalidRequest, code: .emailDomainNotAllowed,
            message: "Accounts cannot be made with an email address at this domain. Use another email address.",
            param: "email")
    }
}
