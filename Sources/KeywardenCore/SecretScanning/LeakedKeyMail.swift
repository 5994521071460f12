import Foundation

/// The email an organization's owners get when keys of theirs were found in public and revoked:
/// which keys (name, redacted value, project), where each was found, that it no longer works,
/// and that a new key replaces it. It never holds a key's value.
enum LeakedKeyMail {
    static func message(
        to address: EmailAddress, keys leaked: [APIKeyService.LeakedKey], publicURL: String
    ) -> EmailMessage {
        let many = leaked.count > 1
        let subject =
            many
            ? "\(leaked.count) of your Keywarden API keys were found in public and revoked"
            : "Your Keywarden API key \(leaked.first?.key.redactedValue ?? "") was found in public and revoked"
        let opening =
            many
            ? "GitHub's secret scanning found these API keys of your organization in public. Keywarden revoked them at once: calls made with them are refused from now on."
            : "GitHub's secret scanning found this API key of your organization in public. Keywarden revoked it at once: calls made with it are refused from now on."
        let entries = leaked.map(entry).joined(separator: "\n\n")
        let text = """
            \(opening)

            \(entries)

            Create a new key to take the place of \(many ? "each" : "it"), and remove the old \(many ? "ones" : "one") \
            from where \(many ? "they were" : "it was") published: \(publicURL)/api-keys

            Anyone could have used \(many ? "them" : "it") while \(many ? "they were" : "it was") public: look at your \
            usage for calls you did not make.
            """
        return EmailMessage(to: address, subject: subject, text: text + "\n")
    }

    /// One key: what it is, then where it was found.
    static func entry(_ leaked: APIKeyService.LeakedKey) -> String {
        let key = leaked.key
        let what =
            if let project = leaked.projectName {
                "\"\(key.name)\" (\(key.redactedValue)), a key of the project \"\(project)\""
            } else {
                "\"\(key.name)\" (\(key.redactedValue)), an admin key"
            }
        let place = leaked.url.isEmpty ? "an address GitHub did not give" : leaked.url
        let source = leaked.source.isEmpty ? "" : " (\(leaked.source))"
        return "- \(what)\n  found at \(place)\(source)"
    }
}
