import Foundation
import KeywardenCore

// Parse + hash + look-up of API keys against an in-memory index, one core, release build.
// Baseline in the same run: SHA-256 of the same keys alone, the floor any index sits on.
//
//   swift run -c release key-index-benchmark [KEYS_IN_INDEX] [LOOKUPS]

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

let arguments = CommandLine.arguments
let indexSize = arguments.count > 1 ? Int(arguments[1]) ?? 100_000 : 100_000
let lookups = arguments.count > 2 ? Int(arguments[2]) ?? 2_000_000 : 2_000_000

let format = APIKeyFormat()
let index = APIKeyIndex(format: format)
let organization = OrganizationID.generate()
let project = ProjectID.generate()
var values: [String] = []
values.reserveCapacity(indexSize)
var records: [APIKey] = []
records.reserveCapacity(indexSize)
for _ in 0..<indexSize {
    let value = format.generate(.project)
    values.append(value)
    records.append(
        APIKey(
            id: .generate(), kind: .project, organizationID: organization, projectID: project, name: "k",
            owner: .user(.generate()), permissions: .all, digest: APIKeyIndex.digest(value),
            redactedValue: format.redacted(value), createdAt: Date(timeIntervalSince1970: 1_750_000_000)))
}
index.load(records)
// A quarter of the look-ups are mistyped keys, which the checksum turns away before hashing.
let presented: [String] = (0..<4096).map { offset in
    let value = values[offset % values.count]
    guard offset % 4 == 3 else { return value }
    var bytes = Array(value.utf8)
    bytes[12] = bytes[12] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
    return String(decoding: bytes, as: UTF8.self)
}
let now = Date()

/// Valid keys among `lookups` look-ups; the count keeps the optimizer from dropping the work.
func lookUp(_ index: APIKeyIndex, _ presented: [String], _ now: Date) -> Int {
    var valid = 0
    for round in 0..<lookups {
        if case .valid = index.authenticate(presented[round & 4095], now: now) { valid &+= 1 }
    }
    return valid
}
func hashOnly(_ presented: [String]) -> Int {
    var total = 0
    for round in 0..<lookups {
        total &+= APIKeyIndex.digest(presented[round & 4095]).utf8.count
    }
    return total
}
var valid = lookUp(index, presented, now)  // warm-up
var digestChecksum = 0
var indexTime = Double.infinity
var hashTime = Double.infinity
for _ in 0..<3 {
    indexTime = min(indexTime, seconds { valid = lookUp(index, presented, now) })
    hashTime = min(hashTime, seconds { digestChecksum = hashOnly(presented) })
}
print(
    String(
        format: "index of %d keys: %.0f look-ups/s (parse + checksum + SHA-256 + look-up, 1 core; %d valid)",
        indexSize, Double(lookups) / indexTime, valid))
print(
    String(format: "baseline, SHA-256 to hex alone: %.0f/s (checksum %d)", Double(lookups) / hashTime, digestChecksum))
print(String(format: "ratio look-up / hash alone: %.2f", hashTime / indexTime))
