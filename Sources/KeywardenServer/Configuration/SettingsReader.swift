import Configuration
import Foundation

/// Reads settings through swift-configuration, turning what it finds into typed values or a
/// ``ConfigurationError`` that names the setting.
///
/// Every value is read as the text a flag would give: the command line and the environment only
/// hold text, and the config file's numbers and booleans are read as the same text, so a value
/// means the same wherever it comes from.
public struct SettingsReader: Sendable {
    /// The providers, in order of precedence.
    public let reader: ConfigReader
    /// The settings the config file holds as JSON booleans.
    let fileBooleans: Set<String>

    /// Reads from `reader`.
    ///
    /// - Parameter fileBooleans: the keys the config file sets to `true` or `false`, which
    ///   read as that text even where the setting wants a number (and so are refused).
    public init(_ reader: ConfigReader, fileBooleans: Set<String> = []) {
        self.reader = reader
        self.fileBooleans = fileBooleans
    }

    /// The value's text, or `nil` when no source sets it.
    public func text(_ setting: Setting) -> String? {
        let key = ConfigKey([setting.key])
        let secret = setting.isSecret
        // Asked for text, a config file's number or boolean is a type mismatch, which the
        // reader reports as absent; the file is checked for other kinds of value beforehand.
        if let text = reader.string(forKey: key, isSecret: secret) { return text }
        // The JSON provider would also read a boolean as the integer 0 or 1.
        if fileBooleans.contains(setting.key), let flag = reader.bool(forKey: key, isSecret: secret) {
            return flag ? "true" : "false"
        }
        if let number = reader.int(forKey: key, isSecret: secret) { return String(number) }
        if let flag = reader.bool(forKey: key, isSecret: secret) { return flag ? "true" : "false" }
        return nil
    }

    /// An integer within `range`.
    public func integer(_ setting: Setting, in range: ClosedRange<Int>) throws -> Int? {
        guard let raw = text(setting) else { return nil }
        guard let value = Int(raw), range.contains(value) else {
            throw ConfigurationError(
                setting, "expected an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// `true`, `1`, `yes`, `false`, `0` or `no`.
    public func boolean(_ setting: Setting) throws -> Bool? {
        guard let raw = text(setting) else { return nil }
        switch raw.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw ConfigurationError(setting, "expected true or false")
        }
    }

    /// One of a type's raw values, refused with `expected` otherwise.
    public func choice<Value: RawRepresentable<String>>(
        _ setting: Setting, as type: Value.Type, expected: String
    ) throws -> Value? {
        guard let raw = text(setting) else { return nil }
        guard let value = Value(rawValue: raw) else { throw ConfigurationError(setting, expected) }
        return value
    }

    /// A secret of at least `minimum` bytes.
    public func secret(_ setting: Setting, minimum: Int, message: String) throws -> String? {
        guard let value = text(setting) else { return nil }
        guard value.utf8.count >= minimum else { throw ConfigurationError(setting, message) }
        return value
    }

    /// The value, which `needed` requires.
    public func required(_ setting: Setting, by needed: String) throws -> String {
        guard let value = text(setting) else { throw ConfigurationError(setting, "required by \(needed)") }
        return value
    }
}

/// A setting whose value cannot be used.
public struct ConfigurationError: Error, CustomStringConvertible {
    /// The setting's key, as in the config file.
    public var key: String
    /// What was expected.
    public var message: String

    /// A refusal of `setting`.
    public init(_ setting: Setting, _ message: String) {
        self.init(key: setting.key, message: message)
    }

    /// A refusal of `key`, the config file itself or a key that is not a setting.
    init(key: String, message: String) {
        (self.key, self.message) = (key, message)
    }

    public var description: String { "invalid setting '\(key)': \(message)" }
}
