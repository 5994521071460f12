import Foundation
import Testing

@testable import PhoneNumbers

/// One corpus line: an input, a default region, and libphonenumber's answers.
struct CorpusCase: Decodable, Sendable {
    struct Expected: Decodable, Equatable, Sendable {
        let valid: Bool?
        let e164: String?
        let region: String?
        let type: String?
        let international: String?
        let national: String?
        let error: String?
    }

    let input: String
    let region: String?
    let expected: Expected

    /// What this library answers for the input.
    var actual: Expected {
        let inspection = PhoneNumberInspection(input: input, defaultRegion: region)
        return Expected(
            valid: inspection.valid, e164: inspection.e164, region: inspection.region, type: inspection.type,
            international: inspection.international, national: inspection.national, error: inspection.error)
    }

    /// The committed corpus generated from the pinned `phonenumbers` package.
    static func load() throws -> [CorpusCase] {
        let url = try #require(
            Bundle.module.url(forResource: "corpus.jsonl", withExtension: "gz", subdirectory: "Corpus"))
        let gunzip = Process()
        gunzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gunzip.arguments = ["gzip", "-dc", url.path]
        let pipe = Pipe()
        gunzip.standardOutput = pipe
        try gunzip.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        gunzip.waitUntilExit()
        let decoder = JSONDecoder()
        return try data.split(separator: UInt8(ascii: "\n")).map { try decoder.decode(CorpusCase.self, from: Data($0)) }
    }
}

@Suite("libphonenumber conformance")
struct ConformanceTests {
    @Test func everyCorpusCaseGetsLibphonenumbersAnswer() throws {
        let cases = try CorpusCase.load()
        #expect(cases.count >= 20_000)
        var strictMisses: [String] = []
        var misses: [String] = []
        for corpusCase in cases {
            let actual = corpusCase.actual
            let expected = corpusCase.expected
            guard actual != expected else { continue }
            let line = "\(corpusCase.input.debugDescription) \(corpusCase.region ?? "nil"): \(actual) != \(expected)"
            misses.append(line)
            if actual.valid != expected.valid || actual.region != expected.region || actual.type != expected.type
                || actual.e164 != expected.e164
            {
                strictMisses.append(line)
            }
        }
        #expect(strictMisses.isEmpty, "valid/region/type/e164 disagree: \(strictMisses.prefix(10))")
        #expect(Double(misses.count) <= Double(cases.count) * 0.001, "disagreements: \(misses.prefix(10))")
    }

    @Test func everyShippedPatternCompiles() {
        let all = PhoneMetadataStore.shared.allMetadata()
        #expect(all.count == PhoneMetadataStore.shared.recordCount)
        #expect(all.count > 250)
        let broken = all.filter { $0.uncompiledPatterns > 0 }.map(\.id)
        #expect(broken.isEmpty, "regions with patterns outside the supported syntax: \(broken)")
    }
}
