import Configuration
import Foundation
import SystemPackage

/// Where settings come from, in order of precedence: command-line flags, `KEYWARDEN_*`
/// environment variables, the JSON config file (named by `--config` or `KEYWARDEN_CONFIG`), then
/// each setting's default.
public struct ConfigurationSources: Sendable {
    /// Values given as command-line flags, by config-file key (such as `database_url`).
    public var flags: [String: String]
    /// The process environment.
    public var environment: [String: String]

    /// Creates the sources.
    public init(flags: [String: String] = [:], environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.flags = flags
        self.environment = environment
    }

    /// A reader over every source.
    ///
    /// - Parameter accessReporter: told of every setting read (values of secrets redacted).
    /// - Throws: ``ConfigurationError`` for a config file that cannot be read, is not a JSON
    ///   object of strings, integers and booleans, or names a key that is not a setting.
    public func reader(accessReporter: (any AccessReporter)? = nil) async throws -> SettingsReader {
        let secrets = Set(Setting.allCases.filter(\.isSecret).map(\.key))
        let commandLine = InMemoryProvider(
            name: "command line",
            values: Dictionary(
                flags.map {
                    (AbsoluteConfigKey([$0.key]), ConfigValue(.string($0.value), isSecret: secrets.contains($0.key)))
                },
                uniquingKeysWith: { $1 }))
        let variables = EnvironmentVariablesProvider(
            environmentVariables: environment,
            secretsSpecifier: .specific(Set(Setting.allCases.filter(\.isSecret).map(\.environmentVariable)))
        ).prefixKeys(with: ConfigKey(["keywarden"]))
        var providers: [any ConfigProvider] = [commandLine, variables]
        var fileBooleans: Set<String> = []
        if let path = flags["config"] ?? environment["KEYWARDEN_CONFIG"] {
            fileBooleans = try Self.checkConfigFile(at: path)
            do {
                providers.append(
                    try await FileProvider<JSONSnapshot>(
                        parsingOptions: .init(secretsSpecifier: .specific(secrets)), filePath: FilePath(path)))
            } catch {
                throw ConfigurationError(key: "config", message: "cannot read config file at \(path)")
            }
        }
        return SettingsReader(
            ConfigReader(providers: providers, accessReporter: accessReporter), fileBooleans: fileBooleans)
    }

    /// Refuses a config file the JSON provider would read only in part: anything but an object of
    /// strings, integers and booleans, and keys that are not settings (a misspelt key would
    /// otherwise be ignored). Returns the keys it sets to booleans.
    static func checkConfigFile(at path: String) throws -> Set<String> {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigurationError(key: "config", message: "cannot read config file at \(path)")
        }
        guard let object = try? JSONDecoder().decode([String: FileValue].self, from: data) else {
            throw ConfigurationError(
                key: "config", message: "\(path) must hold a JSON object of settings (strings, numbers, booleans)")
        }
        if let unknown = object.keys.sorted().first(where: { Setting(rawValue: $0) == nil }) {
            throw ConfigurationError(key: unknown, message: "unknown setting in \(path)")
        }
        return Set(object.filter(\.value.isBoolean).keys)
    }

    /// A config-file value of a kind a setting can hold.
    private struct FileValue: Decodable {
        /// Whether the value is `true` or `false`.
        let isBoolean: Bool

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            isBoolean = (try? container.decode(Bool.self)) != nil
            guard isBoolean || (try? container.decode(String.self)) != nil || (try? container.decode(Int.self)) != nil
            else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "expected a string, integer or boolean")
            }
        }
    }
}
