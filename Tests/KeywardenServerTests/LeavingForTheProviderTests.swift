import Testing

@testable import KeywardenDashboard

@Suite("Leaving for the payment provider's pages")
struct LeavingForTheProviderTests {
    @Test(arguments: [
        ("http://127.0.0.1:8080/test-checkout/tcs_1", "127.0.0.1:8080", true),
        ("http://KEYS.example.com/test-checkout/tcs_1", "keys.example.com", true),
        ("http://localhost:8080/test-checkout/tcs_1", "127.0.0.1:8080", false),
        ("https://checkout.stripe.com/c/pay/cs_test_1", "keys.example.com", false),
        ("https://keys.example.com.evil.example/x", "keys.example.com", false),
        ("/settings/organization/billing", "keys.example.com", false),
    ])
    func onlyAPageOfTheHostTheRequestCameToIsRedirectedTo(_ url: String, _ authority: String, _ same: Bool) {
        #expect(BillingPages.isThisSite(url, authority: authority) == same)
        #expect(!BillingPages.isThisSite(url, authority: nil))
    }
}
