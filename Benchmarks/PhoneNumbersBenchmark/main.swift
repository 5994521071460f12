import Foundation
import PhoneNumbers

// Times parse + isValid + type + region over a corpus written by Tools/phone-metadata/corpus.py,
// and what loading the metadata costs. Run through Benchmarks/phone-numbers.sh, which builds
// this in release mode and measures the Python port on the same corpus in the same run.

func residentMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
        let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
    else { return 0 }
    return kilobytes / 1024
}

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

struct Line: Decodable {
    let input: String
    let region: String?
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: phone-numbers-benchmark CORPUS.jsonl [ROUNDS]")
    exit(2)
}
let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5

// Measured before anything else touches the metadata.
let rssBefore = residentMegabytes()
var records = 0
let indexTime = seconds { records = PhoneNumbers.loadMetadata() }
let rssIndexed = residentMegabytes()
let compileTime = seconds { _ = PhoneNumbers.compileAllMetadata() }
let rssCompiled = residentMegabytes()

let text = try String(contentsOfFile: arguments[1], encoding: .utf8)
let decoder = JSONDecoder()
let corpus = try text.split(separator: "\n").map { try decoder.decode(Line.self, from: Data($0.utf8)) }

/// One pass over the corpus; the checksum keeps the optimizer from dropping the work.
func runOnce(_ corpus: [Line]) -> Int {
    var checksum = 0
    for line in corpus {
        guard let number = try? PhoneNumbers.parse(line.input, defaultRegion: line.region) else {
            checksum &+= 1
            continue
        }
        checksum &+= number.isValid ? 3 : 5
        checksum &+= number.type.rawValue.utf8.count
        checksum &+= number.region?.utf8.count ?? 7
    }
    return checksum
}
var checksum = runOnce(corpus)  // warm-up
var best = Double.infinity
for _ in 0..<rounds {
    best = min(best, seconds { checksum = runOnce(corpus) })
}
print(
    String(
        format: "metadata: %d records; index %.2f ms (+%.1f MB RSS); compile all %.1f ms (+%.1f MB RSS)",
        records, indexTime * 1000, rssIndexed - rssBefore, compileTime * 1000, rssCompiled - rssIndexed))
print(
    String(
        format: "swift: %d numbers in %.3f s (best of %d) = %.0f numbers/s (checksum %d)",
        corpus.count, best, rounds, Double(corpus.count) / best, checksum))
