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
            var output = BufferedOutput()
            defer { output.flush() }
            if jsonl {
                let decoder = JSONDecoder()
                while let line = readLine(strippingNewline: true) {
                    guard !line.isEmpty else { continue }
                    guard
                        let request = InspectRequest(plain: line)
                            ?? (try? decoder.decode(InspectRequest.self, from: Data(line.utf8)))
                    else {
                        output.write(#"{"error":"invalid_request_line"}"#)
                        continue
                    }
                    output.write(PhoneInspection(input: request.input, region: request.region).jsonLine)
                }
            } else {
                for number in numbers {
                    output.write(PhoneInspection(input: number, region: region).jsonLine)
                }
            }
        }
    }
}

/// Standard output in blocks of 64 KiB rather than a write per line.
struct BufferedOutput {
    private var buffer: [UInt8] = []

    init() {
        buffer.reserveCapacity(1 << 16)
    }

    mutating func write(_ line: String) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        guard !buffer.isEmpty else { return }
        FileHandle.standardOutput.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}

struct InspectRequest: Decodable {
    let input: String
    let region: String?

    init(input: String, region: String?) {
        self.input = input
        self.region = region
    }

    /// The request from a line of the usual shape, `{"input": "...", "region": "US"}` (either
    /// order, `region` a string, `null` or absent), with no escape in either string; `nil` for
    /// anything else, which the JSON decoder then reads (or refuses) as it always has.
    init?(plain line: String) {
        let utf8 = Array(line.utf8)
        var at = 0
        let count = utf8.count
        func space() {
            while at < count, utf8[at] == 0x20 || utf8[at] == 0x09 { at += 1 }
        }
        func literal(_ text: StaticString) -> Bool {
            let length = text.utf8CodeUnitCount
            guard at + length <= count else { return false }
            let matches = text.withUTF8Buffer { expected in
                (0..<length).allSatisfy { utf8[at + $0] == expected[$0] }
            }
            if matches { at += length }
            return matches
        }
        func string() -> String? {
            guard literal("\"") else { return nil }
            let start = at
            while at < count, utf8[at] != UInt8(ascii: "\""), utf8[at] != UInt8(ascii: "\\"), utf8[at] >= 0x20 {
                at += 1
            }
            guard at < count, utf8[at] == UInt8(ascii: "\"") else { return nil }
            let value = String(decoding: utf8[start..<at], as: UTF8.self)
            at += 1
            return value
        }
        var input: String?
        var region: String??
        space()
        guard literal("{") else { return nil }
        repeat {
            space()
            if literal("\"input\"") {
                space()
                guard input == nil, literal(":") else { return nil }
                space()
                guard let value = string() else { return nil }
                input = value
            } else if literal("\"region\"") {
                space()
                guard region == nil, literal(":") else { return nil }
                space()
                if literal("null") {
                    region = .some(nil)
                } else {
                    guard let value = string() else { return nil }
                    region = .some(value)
                }
            } else {
                return nil
            }
            space()
        } while literal(",")
        guard literal("}") else { return nil }
        space()
        guard at == count, let input else { return nil }
        self.init(input: input, region: region ?? nil)
    }
}

/// What `phone inspect` says about one input.
struct PhoneInspection {
    let input: String
    let result: PhoneNumberInspection

    init(input: String, region: String?) {
        self.input = input
        self.result = PhoneNumberInspection(input: input, defaultRegion: region)
    }

    /// The fields in the documented order, as one JSON line, appended one by one (a list of
    /// the fields would be made anew for every line).
    var jsonLine: String {
        var line = "{\"input\":"
        line.reserveCapacity(192)
        JSONText.append(input, to: &line)
        line += ",\"valid\":"
        line += result.valid.map { $0 ? "true" : "false" } ?? "null"
        line += ",\"e164\":"
        JSONText.append(result.e164, to: &line)
        line += ",\"region\":"
        JSONText.append(result.region, to: &line)
        line += ",\"type\":"
        JSONText.append(result.type, to: &line)
        line += ",\"international\":"
        JSONText.append(result.international, to: &line)
        line += ",\"national\":"
        JSONText.append(result.national, to: &line)
        line += ",\"error\":"
        JSONText.append(result.error, to: &line)
        line += "}"
        return line
    }
}

/// JSON text for strings, written by hand so fields keep their documented order.
enum JSONText {
    /// ``string(_:)`` appended to `line`.
    static func append(_ value: String?, to line: inout String) {
        guard let value else {
            line += "null"
            return
        }
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            line += "\""
            line += value
            line += "\""
        } else {
            line += string(value)
        }
    }

    static func string(_ value: String?) -> String {
        guard let value else { return "null" }
        // Most values need no escape.
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            return "\"" + value + "\""
        }
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
