import Synchronization

/// The converted libphonenumber metadata, indexed at first use and compiled region by region.
///
/// Indexing only splits the compiled-in text into records; a region's patterns are compiled
/// the first time a number of that region is looked at, and kept.
final class PhoneMetadataStore: Sendable {
    /// The one store.
    static let shared = PhoneMetadataStore()

    /// Calling code to its regions, main region first (`001` for non-geographic codes).
    let regionsByCallingCode: [Int: [String]]
    /// Every supported region (ISO code) with its calling code.
    let callingCodeByRegion: [String: Int]
    /// Every supported region with its English name, read without compiling its patterns.
    let regionNames: [String: String]
    private let regionRecords: [String: Substring]
    private let nonGeographicRecords: [Int: Substring]
    private let compiled = Mutex<[String: PhoneMetadata]>([:])

    private init() {
        var regionsByCallingCode: [Int: [String]] = [:]
        for entry in phoneCallingCodeText.split(separator: ";") {
            let parts = entry.split(separator: ":")
            guard parts.count == 2, let code = Int(parts[0]) else { continue }
            regionsByCallingCode[code] = parts[1].split(separator: ",").map(String.init)
        }
        var regionRecords: [String: Substring] = [:]
        var nonGeographicRecords: [Int: Substring] = [:]
        var callingCodeByRegion: [String: Int] = [:]
        var regionNames: [String: String] = [:]
        for line in phoneMetadataText.split(separator: "\n") {
            let fields = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, let code = Int(fields[1]) else { continue }
            if fields[0] == "001" {
                nonGeographicRecords[code] = line
            } else {
                regionRecords[String(fields[0])] = line
                callingCodeByRegion[String(fields[0])] = code
                let nameField = line.split(separator: "\t", maxSplits: 12, omittingEmptySubsequences: false)
                if nameField.count > 11 { regionNames[String(fields[0])] = String(nameField[11]) }
            }
        }
        self.regionsByCallingCode = regionsByCallingCode
        self.regionRecords = regionRecords
        self.nonGeographicRecords = nonGeographicRecords
        self.callingCodeByRegion = callingCodeByRegion
        self.regionNames = regionNames
    }

    /// The metadata of a supported region (upper-case ISO code).
    func metadata(region: String) -> PhoneMetadata? {
        guard let record = regionRecords[region] else { return nil }
        return compile(key: region, record: record)
    }

    /// The metadata of a non-geographic calling code such as 800.
    func metadata(nonGeographic code: Int) -> PhoneMetadata? {
        guard let record = nonGeographicRecords[code] else { return nil }
        return compile(key: "001/\(code)", record: record)
    }

    /// Every record compiled, regions then non-geographic codes (for tests and the benchmark).
    func allMetadata() -> [PhoneMetadata] {
        regionRecords.keys.sorted().compactMap { metadata(region: $0) }
            + nonGeographicRecords.keys.sorted().compactMap { metadata(nonGeographic: $0) }
    }

    /// How many records the compiled-in text holds.
    var recordCount: Int { regionRecords.count + nonGeographicRecords.count }

    /// libphonenumber's `metadata_for_region_or_calling_code`.
    func metadata(callingCode: Int, region: String?) -> PhoneMetadata? {
        guard let region else { return nil }
        return region == "001" ? metadata(nonGeographic: callingCode) : metadata(region: region)
    }

    private func compile(key: String, record: Substring) -> PhoneMetadata? {
        if let cached = compiled.withLock({ $0[key] }) { return cached }
        guard let metadata = PhoneMetadata(record: record) else { return nil }
        return compiled.withLock { cache in
            if let existing = cache[key] { return existing }
            cache[key] = metadata
            return metadata
        }
    }
}
