import Foundation
import KeywardenCore
import KeywardenServer
import Testing

@Suite("Operator administration")
struct AdministrationTests {
    @Test func setTierChangesAnOrganizationsLimitsAndIsAudited() async throws {
        let directory = try temporaryDirectory()
        let tiers = try #require(
            RateLimitTiers(
                tiers: try RateLimitTiers.parseTiers("small: rpm=5 tpm=50; large: rpm=500 tpm=5000"),
                defaultTier: "small"))
        let configure: @Sendable (inout KeywardenConfiguration) -> Void = {
            $0.storage.databaseURL = "sqlite:\(directory)/admin.sqlite"
            $0.gateway.rateLimitTiers = tiers
        }
        try await withApp(configure: configure) { api, services in
            let token = try await api.token()
            let organization = try #require(try await api.request(.get, "/v1/organization", token: token).string("id"))
            var configuration = KeywardenConfiguration()
            configure(&configuration)
            let admin = try await Administration.open(configuration: configuration, logger: quietLogger)
            do {
                try await admin.setTier(organization, tier: "large")
                await #expect(throws: (any Error).self) { try await admin.setTier(organization, tier: "huge") }
                let shown = try await admin.showOrganization(organization)
                #expect(shown.contains(#""rate_limit_tier" : "large""#))
            } catch {
                try await admin.close()
                throw error
            }
            try await admin.close()
            let tier = await services.gateway.rateLimits.tier(
                of: OrganizationID(unchecked: organization), now: Date().addingTimeInterval(60))
            #expect(tier.name == "large")
            let audit = try await api.request(
                .get, "/v1/organization/audit_logs?event_types[]=organization.rate_limit_tier_updated", token: token)
            #expect(
                (audit.value("data") as? [[String: Any]])?.first?["type"] as? String
                    == "organization.rate_limit_tier_updated")
        }
    }
}
