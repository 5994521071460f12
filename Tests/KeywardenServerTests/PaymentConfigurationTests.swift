import Foundation
import KeywardenServer
import Testing

@Suite("Payment settings")
struct PaymentConfigurationTests {
    func load(_ environment: [String: String]) async throws -> KeywardenConfiguration {
        try await KeywardenConfiguration.load(from: ConfigurationSources(flags: [:], environment: environment))
    }

    @Test func theTestProviderAndOpenAIsPurchaseLimitsAreTheDefaults() async throws {
        let payments = try await load([:]).payments
        #expect(payments.provider == .test)
        #expect(payments.currency.code == "usd")
        #expect(payments.maxOrganizationsPerCard == 3)
        let service = payments.serviceSettings(publicURL: "https://keys.example")
        #expect(service.minimumPurchaseMicros == 5_000_000)
        #expect(service.defaultPurchaseMicros == 10_000_000)
        #expect(service.autoRechargeDefaults.thresholdMicros == 5_000_000)
        #expect(service.publicURL == "https://keys.example")
    }

    @Test func stripeTakesItsKeysAndBaseURL() async throws {
        let payments = try await load([
            "KEYWARDEN_PAYMENT_PROVIDER": "stripe", "KEYWARDEN_STRIPE_SECRET_KEY": "sk_test_123",
            "KEYWARDEN_STRIPE_WEBHOOK_SECRET": "whsec_abc", "KEYWARDEN_STRIPE_API_BASE_URL": "http://127.0.0.1:9/",
            "KEYWARDEN_PUBLIC_URL": "https://keys.example",
        ]).payments
        #expect(
            payments.provider
                == .stripe(secretKey: "sk_test_123", webhookSecret: "whsec_abc", apiBaseURL: "http://127.0.0.1:9"))
    }

    @Test(arguments: [
        (["KEYWARDEN_PAYMENT_PROVIDER": "paypal"], "payment_provider"),
        (["KEYWARDEN_PAYMENT_PROVIDER": "stripe"], "stripe_secret_key"),
        (["KEYWARDEN_PAYMENT_PROVIDER": "stripe", "KEYWARDEN_STRIPE_SECRET_KEY": "sk_test_1"], "public_url"),
        (["KEYWARDEN_PAYMENT_PROVIDER": "stripe", "KEYWARDEN_STRIPE_SECRET_KEY": "pk_test_1"], "stripe_secret_key"),
        (
            [
                "KEYWARDEN_PAYMENT_PROVIDER": "stripe", "KEYWARDEN_STRIPE_SECRET_KEY": "sk_test_1",
                "KEYWARDEN_STRIPE_WEBHOOK_SECRET": "secret",
            ], "stripe_webhook_secret"
        ),
        (["KEYWARDEN_BILLING_CURRENCY": "dollars"], "billing_currency"),
        (["KEYWARDEN_MAX_ORGANIZATIONS_PER_CARD": "0"], "max_organizations_per_card"),
        (["KEYWARDEN_CREDIT_PURCHASE_MINIMUM": "2000"], "credit_purchase_default"),
        (["KEYWARDEN_AUTO_RECHARGE_MONTHLY_CAP": "100"], "auto_recharge_amount"),
    ])
    func unusablePaymentSettingsAreRefusedNamingTheSetting(
        _ environment: [String: String], _ key: String
    )
        async throws
    {
        let error = await #expect(throws: ConfigurationError.self) { try await load(environment) }
        #expect(error?.key == key)
    }
}
