import Hummingbird
import KeywardenCore

extension Request {
    /// An integer query parameter; a refusal naming it when it is present but not an integer.
    func integerQuery(_ name: String) throws -> Int? {
        guard let raw = uri.queryParameters[name[...]] else { return nil }
        guard let value = Int(raw) else {
            throw DomainError.invalidField(name, "'\(name)' must be an integer.")
        }
        return value
    }

    /// A boolean query parameter (`true` or `false`); a refusal naming it otherwise.
    func booleanQuery(_ name: String) throws -> Bool? {
        guard let raw = uri.queryParameters[name[...]] else { return nil }
        switch raw.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw DomainError.invalidField(name, "'\(name)' must be true or false.")
        }
    }

    /// A text query parameter.
    func textQuery(_ name: String) -> String? {
        uri.queryParameters[name[...]].map(String.init)
    }
}
