import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeywardenCore
import KeywardenServer
import Testing

@testable import KeywardenHTTP

/// One scrape, read as Prometheus reads the text format.
struct Scrape {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var samples: [Sample] = []
    /// `# TYPE` lines: the type of each family.
    var types: [String: String] = [:]

    /// Parses the text exposition format, failing on any line Prometheus would refuse.
    init(_ text: String) throws {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3])
                else { throw ScrapeError(line: String(line)) }
                types[String(parts[2])] = String(parts[3])
                continue
            }
            if line.hasPrefix("#") { continue }
            samples.append(try Self.sample(String(line)))
        }
    }

    static func sample(_ line: String) throws -> Sample {
        var rest = Substring(line)
        let nameEnd = rest.firstIndex { $0 == "{" || $0 == " " } ?? rest.endIndex
        let name = String(rest[..<nameEnd])
        guard let first = name.first, first.isLetter || first == "_" || first == ":",
            name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" })
        else { throw ScrapeError(line: line) }
        rest = rest[nameEnd...]
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                guard let equals = rest.firstIndex(of: "=") else { throw ScrapeError(line: line) }
                let label = String(rest[..<equals])
                rest = rest[rest.index(after: equals)...]
                guard rest.first == "\"" else { throw ScrapeError(line: line) }
                rest = rest.dropFirst()
                var value = ""
                while let character = rest.first, character != "\"" {
                    if character == "\\" {
                        rest = rest.dropFirst()
                        guard let escaped = rest.first else { throw ScrapeError(line: line) }
                        value.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.append(character)
                    }
                    rest = rest.dropFirst()
                }
                guard rest.first == "\"" else { throw ScrapeError(line: line) }
                rest = rest.dropFirst()
                labels[label] = value
                if rest.first == "," { rest = rest.dropFirst() }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " ", let value = Double(rest.dropFirst().split(separator: " ").first ?? "") else {
            throw ScrapeError(line: line)
        }
        return Sample(name: name, labels: labels, value: value)
    }

    /// The sum of every sample named `name` whose labels include `labels`.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double {
        samples.filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }.reduce(0) { $0 + $1.value }
    }
}

struct ScrapeError: Error, CustomStringConvertible {
    let line: String
    var description: String { "not a Prometheus sample line: \(line)" }
}

@Suite("Prometheus metrics")
struct MetricsTests {
    static let chat = #"{"model":"echo-1","messages":[{"role":"user","content":"hello metrics"}]}"#

    func configure(_ configuration: inout KeywardenConfiguration) {
        configuration.gateway.upstream = .echo
        configuration.server.metricsPort = 9464
        if let tiers = try? RateLimitTiers.parseTiers("test: rpm=100 tpm=100000 key_rpm=2") {
            configuration.gateway.rateLimitTiers = RateLimitTiers(tiers: tiers, defaultTier: "test") ?? .standard
        }
    }

    func scrape(_ services: KeywardenServices) throws -> Scrape {
        let registry = try #require(services.metricsRegistry)
        return try Scrape(String(decoding: registry.scrape(services), as: UTF8.self))
    }

    @Test func aScriptedSessionMovesEverySeriesItTouches() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: configure) { api, services in
            let before = try scrape(services)
            #expect(before.value("keywarden_key_index_keys") == 0)

            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let project = try await api.defaultProject(token)
            let key = try #require(
                try await api.createKey(token, project: project, json: #"{"name":"m"}"#).string("value"))
            for _ in 0..<3 {
                _ = try await api.request(.post, "/v1/chat/completions", token: key, json: Self.chat)
            }
            let other = try await api.token("grace@example.com")
            let refused = try await api.startVerification(other, number: Numbers.britishLandline, country: nil)
            #expect(refused.string("error.code") == "phone_line_type_not_allowed")

            let after = try scrape(services)
            #expect(after.types["keywarden_http_requests_total"] == "counter")
            #expect(after.types["keywarden_http_request_duration_seconds"] == "histogram")
            #expect(after.value("keywarden_http_requests_total", ["group": "api", "status": "201"]) >= 2)
            #expect(after.value("keywarden_http_requests_total", ["group": "gateway", "status": "200"]) == 2)
            #expect(after.value("keywarden_http_requests_total", ["group": "gateway", "status": "429"]) == 1)
            #expect(after.value("keywarden_http_request_duration_seconds_count", ["group": "gateway"]) == 3)
            #expect(after.value("keywarden_gateway_calls_total", ["status": "200"]) == 2)
            #expect(
                after.value("keywarden_gateway_refusals_total", ["reason": "rate_limit_requests", "scope": "key"]) == 1)
            #expect(after.value("keywarden_messages_sent_total", ["channel": "sms", "country": "US"]) == 1)
            #expect(after.value("keywarden_verifications_started_total") == 1)
            #expect(after.value("keywarden_verifications_approved_total") == 1)
            #expect(
                after.value("keywarden_verifications_refused_total", ["reason": "phone_line_type_not_allowed"]) == 1)
            #expect(after.value("keywarden_key_index_keys") == 1)
            #expect(after.value("keywarden_database_connections", ["state": "max"]) == 1)
            #expect(after.samples.contains { $0.name == "keywarden_usage_flush_lag_seconds" })
            #expect(after.value("keywarden_usage_buffered_rows") >= 1)
        }
    }

    @Test func noSeriesIsLabelledByKeyOrganizationOrPath() async throws {
        let outbox = TestOutbox()
        try await withApp(outbox: outbox, configure: configure) { api, services in
            let token = try await api.verifiedOrganization("ada@example.com", number: Numbers.usE164, outbox: outbox)
            let project = try await api.defaultProject(token)
            let key = try #require(
                try await api.createKey(token, project: project, json: #"{"name":"m"}"#).string("value"))
            _ = try await api.request(.post, "/v1/chat/completions", token: key, json: Self.chat)
            for index in 0..<20 {
                _ = try await api.request(.get, "/no/such/page/\(index)")
                _ = try await api.request(.get, "/v1/organization/projects/proj_\(index)", token: token)
            }
            let scrape = try scrape(services)
            let allowed: Set<String> = [
                "group", "status", "reason", "scope", "channel", "provider", "country", "state", "le",
            ]
            for sample in scrape.samples {
                #expect(Set(sample.labels.keys).isSubset(of: allowed), "\(sample.name) has \(sample.labels.keys)")
                for value in sample.labels.values {
                    let identifies = ["key_", "org_", "proj_", "user_", "sk-"].contains { value.hasPrefix($0) }
                    #expect(!identifies, "\(sample.name) has the label value \(value)")
                    #expect(!value.contains("/"))
                }
            }
            let dashboardSeries = scrape.samples.filter {
                $0.name == "keywarden_http_requests_total" && $0.labels["group"] == "dashboard"
            }
            #expect(dashboardSeries.count <= 3)
        }
    }

    @Test func theMetricsRouterServesMetricsAndNothingElse() async throws {
        try await withServices(configure: configure) { services in
            let registry = try #require(services.metricsRegistry)
            let app = Application(router: registry.router(services))
            try await app.test(.router) { client in
                try await client.execute(uri: "/metrics", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                    _ = try Scrape(String(buffer: response.body))
                }
                try await client.execute(uri: "/v1/organization", method: .get) { response in
                    #expect(response.status == .notFound)
                }
            }
            let (router, _) = try buildRouter(services: services)
            try await Application(router: router).test(.router) { client in
                try await client.execute(uri: "/metrics", method: .get) { response in
                    #expect(response.status == .notFound)
                    #expect(!String(buffer: response.body).contains("keywarden_http_requests_total"))
                }
            }
        }
    }

    @Test func withoutAMetricsPortNothingIsCollected() async throws {
        try await withServices { services in
            #expect(services.metricsRegistry == nil)
            #expect(services.metrics.isOff)
            services.metrics.httpRequests.increment("api", "200")
            #expect(services.metrics.httpRequests.series(LabelValues("api", "200")) == nil)
        }
    }
}
