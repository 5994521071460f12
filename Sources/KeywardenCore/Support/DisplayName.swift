/// Checks names that people give to things (users, projects).
public enum DisplayName {
    /// The name trimmed, or a refusal naming `field` when it is too long or holds control characters.
    ///
    /// Lengths count Unicode code points of the name as sent, as JSON Schema's `maxLength` does.
    public static func validate(_ raw: String, field: String, maximumLength: Int = 256) throws -> String {
        let name = raw.trimmingWhitespace()
        guard raw.unicodeScalars.count <= maximumLength else {
            throw DomainError.invalidField(field, "'\(field)' must be at most \(maximumLength) characters.")
        }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw DomainError.invalidField(field, "'\(field)' must not contain control characters.")
        }
        return name
    }

    /// Like ``validate(_:field:maximumLength:)``, and also refuses an empty name.
    public static func validateRequired(_ raw: String, field: String, maximumLength: Int = 256) throws -> String {
        let name = try validate(raw, field: field, maximumLength: maximumLength)
        guard !name.isEmpty else { throw DomainError.missingField(field) }
        return name
    }
}
