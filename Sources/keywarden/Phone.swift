import ArgumentParser
import Foundation
import PhoneNumbers

struct Phone: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with phone numbers.",
        subcommands: [Inspect.self])

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Parse, validate and classify phone numbers, one JSON line per number.",
            discussion: """
                Prints {"input","valid","e164","region","type","international","national","error"} for \
                each number. With --jsonl, reads one JSON object per standard-input line, \
                {"input": "...", "region": "US"} (region optional or null), and answers in order.
                """)

        @Option(help: "Default region (ISO code) for numbers written without +.")
        var region: String?

        @Flag(help: "Read {\"input\", \"region\"} objects from standard input, one per line.")
        var jsonl = false

        @Argument(help: "Numbers to inspect.")
        var numbers: [String] = []

        func validate() throws {
            if jsonl && !numbers.isEmpty { throw ValidationError("Give numbers as arguments or --jsonl, not both.") }
            if !jsonl && numbers.isEmpty { throw ValidationError("Give at least one number, or --jsonl.") }
        }

        func run() async throws {
            var output = FileHandle.standardOutput
            if jsonl {
                while let line = readLine(strippingNewline: true) {
                    guard !line.isEmpty else { continue }
                    guard let request = try? JSONDecoder().decode(InspectRequest.self, from: Data(line.utf8)) else {
                        print(#"{"error":"invalid_request_line"}"#, to: &output)
                        continue
                    }
                    print(PhoneInspection(input: request.input, region: request.region).jsonLine, to: &output)
                }
            } else {
                for number in numbers {
                    print(PhoneInspection(input: number, region: region).jsonLine, to: &output)
                }
            }
        }
    }
}

struct InspectRequest: Decodable {
    let input: String
    let region: String?
}

/// What `phone inspect` says about one input.
struct PhoneInspection {
    let input: String
    let result: PhoneNumberInspection

    init(input: String, region: String?) {
        self.input = input
        self.result = PhoneNumberInspection(input: input, defaultRegion: region)
    }

    /// The fields in the documented order, as one JSON line.
    var jsonLine: String {
        let fields: [(String, String)] = [
            ("input", JSONText.string(input)), ("valid", result.valid.map { $0 ? "true" : "false" } ?? "null"),
            ("e164", JSONText.string(result.e164)), ("region", JSONText.string(result.region)),
            ("type", JSONText.string(result.type)), ("international", JSONText.string(result.international)),
            ("national", JSONText.string(result.national)), ("error", JSONText.string(result.error)),
        ]
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }
}

/// JSON text for strings, written by hand so fields keep their documented order.
enum JSONText {
    static func string(_ value: String?) -> String {
        guard let value else { return "null" }
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                result +=
                    "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

extension FileHandle: @retroactive TextOutputStream {
    public func write(_ string: String) {
        write(Data(string.utf8))
    }
}
