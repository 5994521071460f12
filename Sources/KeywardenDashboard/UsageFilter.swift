import Foundation
import KeywardenCore

/// The usage page's filters, read from its query string and range-checked where they are read.
///
/// Dates are UTC days written `yyyy-MM-dd` from 1970-01-01 to 9999-12-31, From on or before To,
/// at most ``maxDays`` days; any refused date gives its field a sentence and the page the
/// default range (the last ``defaultDays`` days, today included). A project or key that is not
/// one of those the page offers is left out with a sentence.
struct UsageFilter: Sendable {
    static let defaultDays = 7
    static let maxDays = 366

    /// The first day shown.
    private(set) var from: UTCDay
    /// The last day shown (inclusive).
    private(set) var to: UTCDay
    /// Only this project's usage, when set.
    private(set) var projectID: String?
    /// Only this key's usage, when set.
    private(set) var apiKeyID: String?
    /// Sentences by field: `from`, `to`, `project`, `api_key`.
    private(set) var errors: [String: String] = [:]

    /// The fields in the order the form shows them, for refusals listed outside the page.
    static let fields = ["from", "to", "project", "api_key"]

    /// Reads the dates. A missing To is today; a missing From is ``defaultDays`` days before To.
    init(from rawFrom: String?, to rawTo: String?, today: UTCDay) {
        var errors: [String: String] = [:]
        func read(_ raw: String?, field: String) -> UTCDay? {
            guard let text = Self.present(raw) else { return nil }
            if let day = UTCDay(parsing: text) { return day }
            errors[field] =
                UTCDay.looksLikeDay(text) ? PageSentences.Usage.dayOutOfRange : PageSentences.Usage.malformedDay
            return nil
        }
        let chosenFrom = read(rawFrom, field: "from")
        let end = read(rawTo, field: "to") ?? today
        let start = chosenFrom ?? end.adding(days: -(Self.defaultDays - 1))
        if errors.isEmpty {
            if start > end {
                errors["to"] = PageSentences.Usage.toBeforeFrom
            } else if end.number - start.number + 1 > Self.maxDays {
                errors["to"] = PageSentences.Usage.rangeTooLong
            }
        }
        if errors.isEmpty {
            self.from = start
            self.to = end
        } else {
            self.from = today.adding(days: -(Self.defaultDays - 1))
            self.to = today
        }
        self.errors = errors
    }

    /// Keeps the project filter when `raw` names one of `projects` (the organization's active
    /// projects); a sentence for `project` otherwise.
    mutating func chooseProject(_ raw: String?, among projects: [Project]) {
        guard let raw = Self.present(raw) else { return }
        if projects.contains(where: { $0.id.rawValue == raw }) {
            projectID = raw
        } else {
            errors["project"] = PageSentences.Usage.unknownProject
        }
    }

    /// Keeps the key filter when `raw` names one of `keys` (the keys the form offers for the
    /// chosen project); a sentence for `api_key` otherwise.
    mutating func chooseKey(_ raw: String?, among keys: [APIKey]) {
        guard let raw = Self.present(raw) else { return }
        if keys.contains(where: { $0.id.rawValue == raw }) {
            apiKeyID = raw
        } else {
            errors["api_key"] = PageSentences.Usage.unknownKey
        }
    }

    /// The days shown, from From through To.
    var days: [UTCDay] {
        (from.number...to.number).map { UTCDay(number: $0) }
    }

    /// The store's query: one bucket per UTC day, from From's midnight to the midnight after To,
    /// every model call (completions, embeddings, images, audio, moderations), so the cost shown
    /// is what the balance was debited; other paths, such as `/v1/models`, are left out.
    func query(organizationID: String) -> UsageQuery {
        UsageQuery(
            organizationID: organizationID, start: from.start,
            end: Date(timeIntervalSince1970: TimeInterval((to.number + 1) * UTCDay.secondsPerDay)),
            bucketWidth: UTCDay.secondsPerDay, projectIDs: projectID.map { [$0] } ?? [],
            apiKeyIDs: apiKeyID.map { [$0] } ?? [], categories: UsageCategory.allCases.filter(\.isModelCall))
    }

    /// The filters as a query string, for links that keep them (the CSV download).
    var queryString: String {
        var fields = [("from", from.text), ("to", to.text)]
        if let projectID { fields.append(("project", projectID)) }
        if let apiKeyID { fields.append(("api_key", apiKeyID)) }
        return FormEncoding.encode(fields)
    }

    /// `raw` unless it is absent or empty (a form sends an empty field for "All").
    static func present(_ raw: String?) -> String? {
        guard let raw, !raw.isEmpty else { return nil }
        return raw
    }
}
